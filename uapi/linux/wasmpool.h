/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * wasmpool - striped guard-page memory pools for WebAssembly runtimes.
 *
 * This header is the ABI between the wasmpool kernel module (the character
 * device /dev/wasmpool) and userspace. Runtimes compile against it; it only
 * ever grows, and every structure it defines is extensible.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef _UAPI_LINUX_WASMPOOL_H
#define _UAPI_LINUX_WASMPOOL_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * DOC: General ioctl format
 *
 * Every wasmpool ioctl is issued on a file descriptor of /dev/wasmpool as
 * ``ioctl(fd, WASMPOOL_IOC_*, &cmd)``, where ``cmd`` is the structure of that
 * command. The ioctl number does not encode a size: every structure starts
 * with ``__u32 size``, which the caller sets to ``sizeof(cmd)`` as compiled.
 *
 * Extensibility rules, identical for every command:
 *
 * - A caller built against an older header passes a smaller ``size``; the
 *   kernel treats the fields it did not pass as zero. ``size`` must cover at
 *   least the fields of the first version of the structure.
 * - A caller built against a newer header passes a larger ``size``; the kernel
 *   accepts it only if every byte beyond the structure the kernel knows is
 *   zero.
 * - Fields named ``__reserved`` and every undefined bit of a ``flags`` field
 *   must be zero on input.
 * - Output fields are written up to the smaller of the two sizes. A field
 *   added later is defined so that zero means "not reported", so a caller
 *   with a newer header can tell an older kernel's answer apart.
 * - Fields are __u32 or naturally aligned __aligned_u64; structures have no
 *   implicit padding and the same layout for 32-bit and 64-bit callers.
 */

/**
 * DOC: errno contract
 *
 * An ioctl returns 0 on success. On failure it returns -1 with errno set to:
 *
 * - ENOTTY: the command is not a wasmpool ioctl, or not one this kernel
 *   module knows (see &struct wasmpool_info.ioctl_mask).
 * - EFAULT: the argument pointer (or a pointer inside it) is not readable or
 *   writable.
 * - EINVAL: malformed request: ``size`` too small for the first version of
 *   the structure, or a field out of its documented range.
 * - E2BIG: ``size`` is larger than the kernel's structure and a byte of the
 *   unknown tail is not zero (the caller asks for something this kernel does
 *   not understand).
 * - EOPNOTSUPP: a known field holds a value the kernel understands but does
 *   not support here: an unknown ``flags`` bit, a non-zero ``__reserved``
 *   field, or a feature the CPU or kernel lacks.
 * - EOVERFLOW: a size computed from the request does not fit in 64 bits.
 *
 * Commands document further errno values where they add any.
 */

/* ioctl type byte; not claimed in Documentation/userspace-api/ioctl. */
#define WASMPOOL_TYPE		0xBB

/* ABI version reported by WASMPOOL_IOC_INFO; raised on incompatible change. */
#define WASMPOOL_ABI_VERSION	1

/* Command numbers, in the order they were added. Never renumbered. */
enum {
	WASMPOOL_CMD_BASE = 0x80,
	WASMPOOL_CMD_INFO = WASMPOOL_CMD_BASE,
	WASMPOOL_CMD_LAYOUT,
	WASMPOOL_CMD_END,	/* not a command: one past the last */
};

/**
 * enum wasmpool_feature - bits of &struct wasmpool_info.features
 * @WASMPOOL_FEATURE_PKEYS: the CPU supports memory protection keys and the
 *	running kernel has enabled them, so pools may use protection-key
 *	stripes.
 */
enum wasmpool_feature {
	WASMPOOL_FEATURE_PKEYS = 1 << 0,
};

/**
 * struct wasmpool_info - ioctl(WASMPOOL_IOC_INFO): the handshake
 * @size: in: sizeof(struct wasmpool_info)
 * @flags: in: must be 0
 * @abi_version: out: WASMPOOL_ABI_VERSION of the running module
 * @page_size: out: the page size in bytes; every size in this ABI is a
 *	multiple of it or is rounded up to it
 * @features: out: mask of &enum wasmpool_feature bits
 * @ioctl_mask: out: bit ``n`` is set when the module supports the command
 *	``WASMPOOL_CMD_BASE + n``
 * @pkeys_total: out: number of protection keys the hardware provides,
 *	including the default key 0; 0 without protection keys
 * @pkeys_free: out: number of protection keys the calling process could still
 *	allocate at the time of the call (with pkey_alloc() or through a pool)
 * @__reserved: must be 0
 *
 * Works on any open file of /dev/wasmpool, configured or not. A runtime calls
 * it first to learn what the running module supports.
 *
 * Return: 0, or -1 with errno as in the errno contract.
 */
struct wasmpool_info {
	__u32 size;
	__u32 flags;
	__u32 abi_version;
	__u32 page_size;
	__aligned_u64 features;
	__aligned_u64 ioctl_mask;
	__u16 pkeys_total;
	__u16 pkeys_free;
	__u32 __reserved;
};

#define WASMPOOL_IOC_INFO	_IO(WASMPOOL_TYPE, WASMPOOL_CMD_INFO)

/**
 * enum wasmpool_layout_flags - bits of &struct wasmpool_layout_cmd.flags
 * @WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS: put a guard region of guard_bytes
 *	before the first slot as well (Wasmtime's guard_before_linear_memory)
 */
enum wasmpool_layout_flags {
	WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS = 1 << 0,
};

/**
 * struct wasmpool_layout - the slab layout of a pool
 * @num_slots: number of slots
 * @slot_bytes: distance between the starts of two neighbouring slots
 * @max_memory_bytes: the largest accessible size of a slot (page-rounded)
 * @pre_slab_guard_bytes: guard region before slot 0
 * @post_slab_guard_bytes: guard region after the last slot
 * @total_bytes: size of the whole slab, guard regions included: the length
 *	a pool's mmap() must have
 * @stripe_stride_bytes: distance from a slot to the next slot of the same
 *	stripe (slot_bytes * num_stripes)
 * @num_stripes: number of protection-key stripes (1: no stripes)
 * @__reserved: written as 0
 *
 * All fields are outputs. Slot ``i`` starts at ``pre_slab_guard_bytes +
 * i * slot_bytes`` in the mapping and belongs to stripe ``i % num_stripes``.
 * The algorithm is Wasmtime's pooling allocator's (calculate() in
 * memory_pool.rs): every input size is rounded up to 4 KiB first; the
 * "faulting region" of a slot is max(reservation, max memory) + guard; with
 * stripes, the slots of the other stripes stand in for part of the guard
 * region, so slot_bytes can shrink to faulting region / num_stripes, but
 * never below max_memory_bytes; post_slab_guard_bytes is what the last slot
 * still needs of its faulting region.
 */
struct wasmpool_layout {
	__aligned_u64 num_slots;
	__aligned_u64 slot_bytes;
	__aligned_u64 max_memory_bytes;
	__aligned_u64 pre_slab_guard_bytes;
	__aligned_u64 post_slab_guard_bytes;
	__aligned_u64 total_bytes;
	__aligned_u64 stripe_stride_bytes;
	__u32 num_stripes;
	__u32 __reserved;
};

/**
 * struct wasmpool_layout_cmd - ioctl(WASMPOOL_IOC_LAYOUT): compute a layout
 * @size: in: sizeof(struct wasmpool_layout_cmd)
 * @flags: in: mask of &enum wasmpool_layout_flags
 * @max_memory_bytes: in: the largest a linear memory may grow
 * @num_slots: in: number of slots
 * @reservation_bytes: in: address space reserved for each memory (Wasmtime's
 *	memory_reservation); must be at least @max_memory_bytes
 * @guard_bytes: in: guard region after each memory (Wasmtime's
 *	memory_guard_size)
 * @num_pkeys: in: protection keys available for stripes; fewer than 2 means
 *	no stripes. Taken as given: this command allocates nothing.
 * @__reserved: must be 0
 * @layout: out: the layout
 *
 * Computes, without creating anything, the layout a pool with this
 * configuration gets; the same computation as the library's
 * wasmpool_layout_calc(), from the same source. Works on any open file.
 *
 * Return: 0, or -1 with errno: EINVAL when @max_memory_bytes is larger than
 * @reservation_bytes; EOVERFLOW when a size of the layout does not fit in
 * 64 bits; EOPNOTSUPP for an unknown flag or non-zero @__reserved.
 */
struct wasmpool_layout_cmd {
	__u32 size;
	__u32 flags;
	__aligned_u64 max_memory_bytes;
	__aligned_u64 num_slots;
	__aligned_u64 reservation_bytes;
	__aligned_u64 guard_bytes;
	__u32 num_pkeys;
	__u32 __reserved;
	struct wasmpool_layout layout;
};

#define WASMPOOL_IOC_LAYOUT	_IO(WASMPOOL_TYPE, WASMPOOL_CMD_LAYOUT)

#endif /* _UAPI_LINUX_WASMPOOL_H */
