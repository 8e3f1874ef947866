#include "mmu.h"

static u64 alloc_root(struct mmu *mmu)
{
	mmu->pages = kzalloc(sizeof(u64) * 512, GFP_KERNEL);
	if (!mmu->pages)
		return INVALID_ROOT;
	mmu->nr_pages = 512;
	return (u64)(unsigned long)mmu->pages;
}

int vcpu_mmu_load(struct vcpu *vcpu)
{
	u64 root = alloc_root(&vcpu->mmu);

	if (root == INVALID_ROOT)
		return -ENOMEM;
	vcpu->mmu.root = root;
	return 0;
}
EXPORT_SYMBOL(vcpu_mmu_load);

void vcpu_mmu_unload(struct vcpu *vcpu)
{
	kfree(vcpu->mmu.pages);
	vcpu->mmu.pages = NULL;
	vcpu->mmu.nr_pages = 0;
	vcpu->mmu.root = INVALID_ROOT;
}
EXPORT_SYMBOL(vcpu_mmu_unload);

/* Handle pending requests: a reload request drops the roots. */
void vcpu_handle_requests(struct vcpu *vcpu)
{
	if (test_bit(REQ_MMU_RELOAD, &vcpu->requests)) {
		clear_bit(REQ_MMU_RELOAD, &vcpu->requests);
		vcpu_mmu_unload(vcpu);
	}
}

int vcpu_enter_guest(struct vcpu *vcpu)
{
	int err;

	vcpu_handle_requests(vcpu);
	err = vcpu_mmu_reload(vcpu);
	if (err)
		return err;
	vcpu->running = true;
	return 0;
}

/* Allocate the page array the first time it is needed. */
int mmu_ensure_pages(struct mmu *mmu)
{
	if (mmu->pages)
		return 0;
	mmu->pages = kzalloc(sizeof(u64) * 512, GFP_KERNEL);
	if (!mmu->pages)
		return -ENOMEM;
	mmu->nr_pages = 512;
	return 0;
}
