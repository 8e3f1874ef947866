#ifndef TOYKVM_MMU_H
#define TOYKVM_MMU_H

#include "types.h"

#define INVALID_ROOT ((u64)-1)

int vcpu_mmu_load(struct vcpu *vcpu);
void vcpu_mmu_unload(struct vcpu *vcpu);

/*
 * Make sure the vCPU has a page-table root before entering the guest.
 */
static inline int vcpu_mmu_reload(struct vcpu *vcpu)
{
	if (likely(vcpu->mmu.root != INVALID_ROOT))
		return 0;
	return vcpu_mmu_load(vcpu);
}

static inline bool vcpu_mmu_root_valid(const struct vcpu *vcpu)
{
	return vcpu->mmu.root != INVALID_ROOT;
}

#endif
