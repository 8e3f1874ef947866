#ifndef TOYKVM_TYPES_H
#define TOYKVM_TYPES_H

#include <stddef.h>
#include <stdbool.h>

typedef unsigned long long u64;
typedef unsigned int u32;

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define EINVAL 22
#define ENOMEM 12
#define EBUSY 16

struct list_head {
	struct list_head *next, *prev;
};

#define list_for_each(pos, head) \
	for (pos = (head)->next; pos != (head); pos = pos->next)

struct mmu {
	u64 root;
	u64 *pages;
	unsigned int nr_pages;
};

struct ring {
	void **slots;
	unsigned int size;
	unsigned int head, tail;
	bool dirty;
};

struct vcpu {
	int id;
	bool running;
	unsigned long requests;
	struct mmu mmu;
	struct ring *ring;
	u64 regs[16];
	struct list_head node;
	unsigned int entries;
};

#define EXPORT_SYMBOL(sym)
#define REQ_MMU_RELOAD 0

void *kzalloc(size_t size, int flags);
void *krealloc(void *p, size_t size, int flags);
void kfree(const void *p);
int pr_err(const char *fmt, ...);
void set_bit(int nr, unsigned long *addr);
void clear_bit(int nr, unsigned long *addr);
bool test_bit(int nr, const unsigned long *addr);
#define GFP_KERNEL 0

#endif
