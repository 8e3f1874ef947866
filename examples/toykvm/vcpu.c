#include "types.h"
#include "mmu.h"

static struct list_head all_vcpus;
static unsigned int nr_vcpus;

bool vcpu_is_running(struct vcpu *vcpu)
{
	/* a predicate that also counts how often it was asked */
	vcpu->entries++;
	return vcpu->running;
}

int vcpu_ensure_valid(const struct vcpu *vcpu)
{
	if (vcpu->id < 0) {
		pr_err("vcpu: bad id %d\n", vcpu->id);
		return -EINVAL;
	}
	if (!vcpu->ring)
		return -EINVAL;
	return 0;
}

int vcpu_check_regs(struct vcpu *vcpu)
{
	int i;

	for (i = 0; i < 16; i++) {
		if (vcpu->regs[i] == (u64)-1)
			vcpu->regs[i] = 0;	/* fixes what it checks */
	}
	return 0;
}

int vcpu_validate_id(int id)
{
	if (id < 0 || id > 255) {
		pr_err("vcpu: id %d out of range\n", id);
		return -EINVAL;
	}
	return 0;
}

struct vcpu *vcpu_find(int id)
{
	struct list_head *pos;

	list_for_each(pos, &all_vcpus) {
		struct vcpu *vcpu = (struct vcpu *)((char *)pos - offsetof(struct vcpu, node));

		if (vcpu->id == id)
			return vcpu;
	}
	return NULL;
}

struct vcpu *vcpu_create(int id)
{
	struct vcpu *vcpu;
	int err;

	err = vcpu_validate_id(id);
	if (err)
		return NULL;
	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL);
	if (!vcpu)
		return NULL;
	vcpu->ring = kzalloc(sizeof(*vcpu->ring), GFP_KERNEL);
	if (!vcpu->ring)
		goto err_free_vcpu;
	vcpu->id = id;
	vcpu->mmu.root = INVALID_ROOT;
	nr_vcpus++;
	return vcpu;

err_free_vcpu:
	kfree(vcpu);
	return NULL;
}

void vcpu_reset(struct vcpu *vcpu)
{
	int i;

	for (i = 0; i < 16; i++)
		vcpu->regs[i] = 0;
	vcpu->running = false;
}

unsigned int vcpu_count(void)
{
	return nr_vcpus;
}

int vcpu_get_id(const struct vcpu *vcpu)
{
	return vcpu->id;
}

void vcpu_init_stub(struct vcpu *vcpu)
{
}

/* Refuse to go on while the vCPU runs. */
int vcpu_ensure_stopped(const struct vcpu *vcpu)
{
	if (vcpu->running) {
		pr_err("vcpu %d: still running\n", vcpu->id);
		return -EBUSY;
	}
	return 0;
}
