// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The slab layout of a wasmpool. See layout.h: pure arithmetic shared by the
 * module and userspace. Every operation that input can overflow is checked.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#else
#include <errno.h>
#include "layout_user.h"
#endif

#include <linux/wasmpool.h>

#include "layout.h"

/* Round @bytes up to the page size; false on overflow. */
static bool wp_round_up_page(__u64 bytes, __u64 *out)
{
	if (check_add_overflow(bytes, WP_LAYOUT_PAGE_SIZE - 1, out))
		return false;
	*out &= ~(WP_LAYOUT_PAGE_SIZE - 1);
	return true;
}

/**
 * wp_layout_compute() - compute the slab layout of a pool
 * @in: the configuration
 * @out: the layout; written only on success
 *
 * Context: any; no locks, no allocation, no side effects.
 * Return: 0; -EINVAL when @in->max_memory_bytes exceeds
 * @in->reservation_bytes (before rounding, as the reference compares);
 * -EOVERFLOW when a size does not fit in 64 bits.
 */
int wp_layout_compute(const struct wp_layout_in *in, struct wp_layout *out)
{
	__u64 max_memory, reservation, guard, pre, faulting, slot, post;
	__u64 stripes, stride, total;

	if (in->max_memory_bytes > in->reservation_bytes)
		return -EINVAL;

	if (!wp_round_up_page(in->max_memory_bytes, &max_memory) ||
	    !wp_round_up_page(in->reservation_bytes, &reservation) ||
	    !wp_round_up_page(in->guard_bytes, &guard))
		return -EOVERFLOW;

	pre = in->guard_before_slots ? guard : 0;
	if (check_add_overflow(max(reservation, max_memory), guard, &faulting))
		return -EOVERFLOW;

	if (!guard || !max_memory || !in->num_slots || in->num_pkeys < 2) {
		/* No stripes: every slot carries its own full guard region. */
		stripes = 1;
		slot = faulting;
	} else {
		/*
		 * With stripes, the slots of other stripes between two slots
		 * of one stripe serve as its guard: use just enough stripes
		 * to cover the faulting region, but never more than the keys
		 * or the slots.
		 */
		__u64 needed = faulting / max_memory + !!(faulting % max_memory);

		stripes = min3(in->num_pkeys, needed, in->num_slots);
		slot = max(faulting / stripes, max_memory);
	}
	if (!wp_round_up_page(slot, &slot))
		return -EOVERFLOW;

	post = faulting > slot ? faulting - slot : 0;
	if (check_mul_overflow(slot, in->num_slots, &total) ||
	    check_add_overflow(total, pre, &total) ||
	    check_add_overflow(total, post, &total))
		return -EOVERFLOW;
	/* stripes <= num_slots whenever stripes > 1, so this fits in total */
	stride = slot * stripes;

	out->num_slots = in->num_slots;
	out->slot_bytes = slot;
	out->max_memory_bytes = max_memory;
	out->pre_slab_guard_bytes = pre;
	out->post_slab_guard_bytes = post;
	out->num_stripes = stripes;
	out->stripe_stride_bytes = stride;
	out->total_bytes = total;
	return 0;
}

/**
 * wp_layout_to_uapi() - copy a computed layout into its uapi form
 * @l: the layout
 * @u: the uapi structure to fill
 */
void wp_layout_to_uapi(const struct wp_layout *l, struct wasmpool_layout *u)
{
	u->num_slots = l->num_slots;
	u->slot_bytes = l->slot_bytes;
	u->max_memory_bytes = l->max_memory_bytes;
	u->pre_slab_guard_bytes = l->pre_slab_guard_bytes;
	u->post_slab_guard_bytes = l->post_slab_guard_bytes;
	u->total_bytes = l->total_bytes;
	u->stripe_stride_bytes = l->stripe_stride_bytes;
	/* num_stripes <= num_pkeys, a __u32 here */
	u->num_stripes = (__u32)l->num_stripes;
	u->__reserved = 0;
}

/**
 * wp_layout_cmd() - carry out a WASMPOOL_IOC_LAYOUT request
 * @cmd: the request; its layout is filled on success
 *
 * The kernel's ioctl and the library's wasmpool_layout_calc() both end here,
 * so they accept, refuse and answer alike.
 *
 * Context: any; no locks, no allocation.
 * Return: 0, -EOPNOTSUPP for unknown flags or a non-zero reserved field,
 * -EINVAL for more than 4096 keys, or an error of wp_layout_compute().
 */
int wp_layout_cmd(struct wasmpool_layout_cmd *cmd)
{
	struct wp_layout_in in;
	struct wp_layout l;
	int ret;

	if ((cmd->flags & ~WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS) || cmd->__reserved)
		return -EOPNOTSUPP;
	/* Beyond this the reference's rounding leaves holes: see layout.h. */
	if (cmd->num_pkeys > WP_LAYOUT_PAGE_SIZE)
		return -EINVAL;

	in.max_memory_bytes = cmd->max_memory_bytes;
	in.num_slots = cmd->num_slots;
	in.reservation_bytes = cmd->reservation_bytes;
	in.guard_bytes = cmd->guard_bytes;
	in.num_pkeys = cmd->num_pkeys;
	in.guard_before_slots = !!(cmd->flags & WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS);

	ret = wp_layout_compute(&in, &l);
	if (ret)
		return ret;
	wp_layout_to_uapi(&l, &cmd->layout);
	return 0;
}
