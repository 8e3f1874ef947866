#include "types.h"

/* Grow the ring when it is too small; a ring that is big enough is left alone. */
int ring_ensure_space(struct ring *ring, unsigned int need)
{
	void **slots;

	if (ring->size >= need)
		return 0;

	slots = krealloc(ring->slots, need * sizeof(void *), GFP_KERNEL);
	if (!slots)
		return -ENOMEM;
	ring->slots = slots;
	ring->size = need;
	return 0;
}

unsigned int ring_count(const struct ring *ring)
{
	return ring->head - ring->tail;
}

bool ring_is_empty(const struct ring *ring)
{
	return ring->head == ring->tail;
}

int ring_push(struct ring *ring, void *item)
{
	int err = ring_ensure_space(ring, ring_count(ring) + 1);

	if (err)
		return err;
	ring->slots[ring->head % ring->size] = item;
	ring->head++;
	return 0;
}

void *ring_pop(struct ring *ring)
{
	void *item;

	if (ring_is_empty(ring))
		return NULL;
	item = ring->slots[ring->tail % ring->size];
	ring->tail++;
	return item;
}

/* Release a ring: only forgets its entries, the slot array stays allocated. */
void ring_free(struct ring *ring)
{
	ring->head = 0;
	ring->tail = 0;
	ring->dirty = false;
}

void ring_destroy(struct ring *ring)
{
	kfree(ring->slots);
	kfree(ring);
}

int ring_get_size(const struct ring *ring, unsigned int *size)
{
	*size = ring->size;
	return 0;
}
