/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The slab layout of a wasmpool: pure arithmetic, no kernel calls, no
 * allocation. The same source is compiled into the module and into
 * userspace (libwasmpool, the CLI, the unit tests and the fuzzer), so the
 * kernel and its tools can never disagree.
 *
 * The algorithm is that of calculate() in Wasmtime's pooling allocator
 * (memory_pool.rs), together with MemoryPool::new()'s refusal of a maximum
 * memory size larger than the reservation.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef _WASMPOOL_LAYOUT_H
#define _WASMPOOL_LAYOUT_H

#include <linux/types.h>

/* The page size every byte count is rounded up to (as the reference). */
#define WP_LAYOUT_PAGE_SIZE	4096ULL

/**
 * struct wp_layout_in - what the layout is computed from
 * @max_memory_bytes: the largest a linear memory may become
 * @num_slots: how many slots the slab holds
 * @reservation_bytes: address space reserved per memory (Wasmtime's
 *	memory_reservation, "expected slot bytes")
 * @guard_bytes: guard region after each memory
 * @num_pkeys: protection keys available for stripes (fewer than 2: none).
 *	With more than WP_LAYOUT_PAGE_SIZE keys (no CPU has them) the
 *	reference's rounding no longer makes slot_bytes * num_stripes cover
 *	the faulting region; the module only ever passes real key counts.
 * @guard_before_slots: non-zero for a guard region before the first slot
 */
struct wp_layout_in {
	__u64 max_memory_bytes;
	__u64 num_slots;
	__u64 reservation_bytes;
	__u64 guard_bytes;
	__u64 num_pkeys;
	__u64 guard_before_slots;
};

/**
 * struct wp_layout - the computed layout
 * @num_slots: slots in the slab
 * @slot_bytes: distance between the starts of neighbouring slots
 * @max_memory_bytes: the page-rounded maximum accessible size of a slot
 * @pre_slab_guard_bytes: guard region before slot 0
 * @post_slab_guard_bytes: guard region after the last slot
 * @num_stripes: protection-key stripes; slot i belongs to stripe
 *	i % num_stripes
 * @stripe_stride_bytes: distance from a slot to the next of its stripe
 * @total_bytes: size of the whole slab, guards included
 *
 * Slot i starts at pre_slab_guard_bytes + i * slot_bytes.
 */
struct wp_layout {
	__u64 num_slots;
	__u64 slot_bytes;
	__u64 max_memory_bytes;
	__u64 pre_slab_guard_bytes;
	__u64 post_slab_guard_bytes;
	__u64 num_stripes;
	__u64 stripe_stride_bytes;
	__u64 total_bytes;
};

struct wasmpool_layout;
struct wasmpool_layout_cmd;

int wp_layout_compute(const struct wp_layout_in *in, struct wp_layout *out);
void wp_layout_to_uapi(const struct wp_layout *l, struct wasmpool_layout *u);
int wp_layout_cmd(struct wasmpool_layout_cmd *cmd);

#endif /* _WASMPOOL_LAYOUT_H */
