/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An independent check of kmod/layout.c for the unit test and the fuzzer:
 * the invariants of the layout, and the same algorithm in 128-bit
 * arithmetic (where nothing overflows) as an oracle for errno and result.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef LAYOUT_ORACLE_H
#define LAYOUT_ORACLE_H

#include <errno.h>
#include <stdint.h>

#include "layout.h"

typedef unsigned __int128 u128;

/* The invariants of design.md; returns a description of the first broken. */
static inline const char *check_invariants(const struct wp_layout_in *in, const struct wp_layout *l)
{
	u128 faulting, reservation = in->reservation_bytes, guard = in->guard_bytes;
	u128 sum;

	reservation = (reservation + 4095) & ~(u128)4095;
	guard = (guard + 4095) & ~(u128)4095;
	faulting = (reservation > l->max_memory_bytes ? reservation : l->max_memory_bytes) + guard;

	sum = (u128)l->slot_bytes * l->num_slots + l->pre_slab_guard_bytes + l->post_slab_guard_bytes;
	if (sum != l->total_bytes)
		return "sizes do not add up to total_bytes";
	if (l->slot_bytes < l->max_memory_bytes)
		return "slot_bytes < max_memory_bytes";
	if (l->num_stripes < 1)
		return "no stripe";
	if (l->num_stripes > 1 && (l->num_stripes > in->num_pkeys || l->num_stripes > in->num_slots))
		return "more stripes than keys or slots";
	/*
	 * Never more stripes than the faulting region needs. design.md's
	 * form, guard / max_memory + 2, holds when the reservation is no
	 * larger than the maximum memory; in general the region is
	 * reservation + guard.
	 */
	if (l->max_memory_bytes &&
	    l->num_stripes > (faulting + l->max_memory_bytes - 1) / l->max_memory_bytes)
		return "num_stripes > ceil(faulting region / max_memory)";
	if (l->max_memory_bytes && reservation <= l->max_memory_bytes &&
	    l->num_stripes > guard / l->max_memory_bytes + 2)
		return "num_stripes > guard / max_memory + 2";
	/*
	 * The reference rounds faulting / num_stripes down and then up to a
	 * page, which covers the region only while num_stripes <= page size:
	 * true for every CPU (x86 has 16 keys), not for absurd key counts.
	 */
	if (l->num_stripes <= 4096 && (u128)l->slot_bytes * l->num_stripes < faulting)
		return "slot_bytes * num_stripes < faulting region";
	if ((u128)l->slot_bytes + l->post_slab_guard_bytes < reservation)
		return "slot_bytes + post_slab_guard < reservation";
	if (l->slot_bytes % 4096 || l->max_memory_bytes % 4096 || l->total_bytes % 4096 ||
	    l->pre_slab_guard_bytes % 4096 || l->post_slab_guard_bytes % 4096)
		return "a size is not page-aligned";
	if (l->pre_slab_guard_bytes != (in->guard_before_slots ? guard : 0))
		return "pre_slab_guard is not the guard";
	if (l->stripe_stride_bytes != (u128)l->slot_bytes * l->num_stripes)
		return "stripe stride is not slot_bytes * num_stripes";
	if (l->num_slots != in->num_slots)
		return "num_slots changed";
	return NULL;
}

/*
 * The same algorithm in 128-bit arithmetic, where nothing overflows: the
 * layout is valid exactly when every checked quantity fits in 64 bits.
 */
static inline int oracle(const struct wp_layout_in *in, struct wp_layout *l)
{
	const u128 max64 = UINT64_MAX;
	u128 mm, res, guard, pre, faulting, slot, stripes, post, total;

	if (in->max_memory_bytes > in->reservation_bytes)
		return -EINVAL;
	mm = ((u128)in->max_memory_bytes + 4095) & ~(u128)4095;
	res = ((u128)in->reservation_bytes + 4095) & ~(u128)4095;
	guard = ((u128)in->guard_bytes + 4095) & ~(u128)4095;
	if (mm > max64 || res > max64 || guard > max64)
		return -EOVERFLOW;
	pre = in->guard_before_slots ? guard : 0;
	faulting = (res > mm ? res : mm) + guard;
	if (faulting > max64)
		return -EOVERFLOW;
	if (!guard || !mm || !in->num_slots || in->num_pkeys < 2) {
		stripes = 1;
		slot = faulting;
	} else {
		u128 needed = (faulting + mm - 1) / mm;

		stripes = in->num_pkeys;
		if (needed < stripes)
			stripes = needed;
		if (in->num_slots < stripes)
			stripes = in->num_slots;
		slot = faulting / stripes;
		if (slot < mm)
			slot = mm;
	}
	slot = (slot + 4095) & ~(u128)4095;
	if (slot > max64)
		return -EOVERFLOW;
	post = faulting > slot ? faulting - slot : 0;
	total = slot * in->num_slots;	/* < 2^128: both factors < 2^64 */
	if (total > max64 || total + pre + post > max64)
		return -EOVERFLOW;
	total += pre + post;
	l->num_slots = in->num_slots;
	l->slot_bytes = slot;
	l->max_memory_bytes = mm;
	l->pre_slab_guard_bytes = pre;
	l->post_slab_guard_bytes = post;
	l->num_stripes = stripes;
	l->stripe_stride_bytes = slot * stripes;
	l->total_bytes = total;
	return 0;
}

#endif /* LAYOUT_ORACLE_H */
