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
 *
 * An error means the command had no effect (and an output field may hold
 * only what the command knew before it acted, such as a rounded size): a
 * command whose outputs are known only after it acted undoes what it did
 * when it cannot write them back. WASMPOOL_IOC_SLOT_FREE has no output and
 * never writes to its argument.
 * - EINVAL: malformed request: ``size`` too small for the first version of
 *   the structure, or a field out of its documented range.
 * - E2BIG: ``size`` is larger than the kernel's structure and a byte of the
 *   unknown tail is not zero (the caller asks for something this kernel does
 *   not understand), or ``size`` is larger than the page size.
 * - EOPNOTSUPP: a known field holds a value the kernel understands but does
 *   not support here: an unknown ``flags`` bit, a non-zero ``__reserved``
 *   field, or a feature the CPU or kernel lacks.
 * - EOVERFLOW: a size computed from the request does not fit in 64 bits.
 * - EBADFD: the command needs a pool and the file has not been configured.
 * - EPERM: the file's pool belongs to another address space (the process
 *   that configured it); another process that got the file by fork() or
 *   over a UNIX socket cannot use it.
 *
 * Commands document further errno values where they add any.
 */

/* ioctl type byte; not claimed in Documentation/userspace-api/ioctl. */
#define WASMPOOL_TYPE		0xBB

/* ABI version reported by WASMPOOL_IOC_INFO; raised on incompatible change. */
#define WASMPOOL_ABI_VERSION	1

/*
 * The feature level of this header: the wasmpool release whose ABI it
 * describes, as (major << 16) | minor. Raised with every release that adds
 * a command, a field or a flag; a program tests it at build time, and
 * &struct wasmpool_info.ioctl_mask at run time. 0.4 added memory images.
 */
#define WASMPOOL_UAPI_VERSION	((0 << 16) | 4)

/* Command numbers, in the order they were added. Never renumbered. */
enum {
	WASMPOOL_CMD_BASE = 0x80,
	WASMPOOL_CMD_INFO = WASMPOOL_CMD_BASE,
	WASMPOOL_CMD_LAYOUT,
	WASMPOOL_CMD_CONFIGURE,
	WASMPOOL_CMD_SLOT_ALLOC,
	WASMPOOL_CMD_SLOT_GROW,
	WASMPOOL_CMD_SLOT_RESET,
	WASMPOOL_CMD_SLOT_FREE,
	WASMPOOL_CMD_STATS,
	WASMPOOL_CMD_APPLY_KEYS,
	WASMPOOL_CMD_SLOT_FREE_BATCH,
	WASMPOOL_CMD_IMAGE_CREATE,
	WASMPOOL_CMD_IMAGE_RELEASE,
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
 * enum wasmpool_layout_flags - bits of &struct wasmpool_layout_cmd.flags and
 * &struct wasmpool_configure.flags
 * @WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS: put a guard region of guard_bytes
 *	before the first slot as well (Wasmtime's guard_before_linear_memory)
 * @WASMPOOL_CONFIGURE_DEFAULT_KEEP_RESIDENT: (configure only) ignore
 *	keep_resident_bytes and use the admin's default
 *	(/sys/class/misc/wasmpool/default_keep_resident_bytes), capped at the
 *	pool's max memory; the value used is written back to the field
 * @WASMPOOL_CONFIGURE_DEFAULT_PKEY_MODE: (configure only) ignore pkey_mode
 *	and use the admin's default (/sys/class/misc/wasmpool/default_pkey_mode);
 *	the mode used is written back to the field
 * @WASMPOOL_CONFIGURE_STRICT: (configure only) resets and frees unmap the
 *	whole slot, kept pages too, so that every byte of a free slot faults
 *	and a reset slot faults above its new size at once; without it
 *	(warm reuse, the default) kept pages stay mapped, zeroed in place.
 *	See "Pools" for the difference.
 * @WASMPOOL_CONFIGURE_POPULATE_AHEAD: (configure only) a touch of the page
 *	right after a resident one (a tenant walking up its memory) backs
 *	WASMPOOL_POPULATE_AHEAD_BYTES from the touched page on at once,
 *	zeroed and mapped, so that such a walk faults once per 64 KiB
 *	instead of once per page. Added in 0.2. See "Pools".
 * @WASMPOOL_CONFIGURE_ZERO_PAGE: (configure only) a read of a page that was
 *	never written maps the shared zero page read-only, as for anonymous
 *	memory, instead of backing the page: memory a tenant only reads
 *	costs no page, no RSS and nothing of the resident limit. The first
 *	write to such a page then takes one more fault, with a TLB flush
 *	(an IPI to the CPUs running the owner's other threads), as a
 *	copy-on-write of anonymous memory does; without the flag a read
 *	backs the page at once. Added in 0.3. See "Pools".
 */
enum wasmpool_layout_flags {
	WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS = 1 << 0,
	WASMPOOL_CONFIGURE_DEFAULT_KEEP_RESIDENT = 1 << 1,
	WASMPOOL_CONFIGURE_DEFAULT_PKEY_MODE = 1 << 2,
	WASMPOOL_CONFIGURE_STRICT = 1 << 3,
	WASMPOOL_CONFIGURE_POPULATE_AHEAD = 1 << 4,
	WASMPOOL_CONFIGURE_ZERO_PAGE = 1 << 5,
};

/* What WASMPOOL_CONFIGURE_POPULATE_AHEAD backs at once, the touched page included. */
#define WASMPOOL_POPULATE_AHEAD_BYTES	65536

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
 *	no stripes; at most 4096 (beyond, the reference's rounding no longer
 *	covers the guard regions). Taken as given: this command allocates
 *	nothing.
 * @__reserved: must be 0
 * @layout: out: the layout
 *
 * Computes, without creating anything, the layout a pool with this
 * configuration gets; the same computation as the library's
 * wasmpool_layout_calc(), from the same source. Works on any open file.
 *
 * Return: 0, or -1 with errno: EINVAL when @max_memory_bytes is larger than
 * @reservation_bytes or @num_pkeys is above 4096; EOVERFLOW when a size of
 * the layout does not fit in 64 bits; EOPNOTSUPP for an unknown flag or
 * non-zero @__reserved.
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

/**
 * DOC: Pools
 *
 * A pool is one configured file of /dev/wasmpool. The life of a pool:
 *
 * 1. open("/dev/wasmpool", O_RDWR | O_CLOEXEC);
 * 2. WASMPOOL_IOC_CONFIGURE: the kernel computes the layout (as
 *    WASMPOOL_IOC_LAYOUT does) and the pool now belongs to the calling
 *    process's address space;
 * 3. mmap(NULL, layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
 *    reserves the whole slab. No memory backs it yet; every access faults
 *    until a slot makes it accessible. A guard fault of a user access
 *    looks as a PROT_NONE guard's does: SIGSEGV with si_code SEGV_ACCERR,
 *    the exact si_addr and (x86) the signal context's cr2/err/trapno of a
 *    not-present page fault, in a thread that catches SIGSEGV; a thread
 *    that blocks, ignores or does not catch it is killed by the kernel's
 *    own SIGSEGV (si_code SEGV_MAPERR). The kernel's copies get EFAULT;
 * 4. WASMPOOL_IOC_SLOT_ALLOC hands out a slot with an accessible size;
 *    accesses below it are served with zeroed pages on first touch (charged
 *    to the memory cgroup of the faulting task; in a pool configured with
 *    WASMPOOL_CONFIGURE_ZERO_PAGE a read of a page never written maps the
 *    zero page instead, and only a write backs it), accesses above it
 *    fault. A
 *    touch that would take the pool beyond the admin limit
 *    max_resident_bytes_per_pool (as it was at configure; half of RAM by
 *    default) gets SIGBUS.
 *    WASMPOOL_IOC_SLOT_GROW raises the size without touching the mapping;
 *    WASMPOOL_IOC_SLOT_RESET zeroes the slot for a new tenant;
 *    WASMPOOL_IOC_SLOT_FREE resets it and returns it to the pool;
 *    WASMPOOL_IOC_SLOT_FREE_BATCH returns many slots in one call.
 *
 * The mapping must be shared, readable and writable, never executable, at
 * offset 0, exactly total_bytes long, and only one may exist at a time;
 * mmap() fails with EBADFD on an unconfigured file, EPERM from another
 * process or with PROT_EXEC, EINVAL for MAP_PRIVATE, a missing PROT_READ or
 * PROT_WRITE, another offset or length, EBUSY while mapped, and EACCES (from
 * the VFS) for a file opened read-only.
 *
 * Nothing can pin pool memory: its pages are mapped with special
 * page-table entries, which every get_user_pages() path refuses (the fast
 * path by the entry, the slow path also by the mapping's VM_IO), on every
 * kernel and whatever its configuration. So vmsplice(), O_DIRECT,
 * MSG_ZEROCOPY, io_uring (registered buffers or O_DIRECT), RDMA,
 * process_vm_readv() and /proc/PID/mem all fail on pool memory (EFAULT or
 * EIO) instead of holding a page that a reset hands to the next tenant; the
 * kernel's own copies (read(), write(), send() without MSG_ZEROCOPY) work.
 * Shared (non-private) futexes on pool memory fail with EFAULT; private
 * futexes work. A process with the READ_IMPLIES_EXEC personality cannot map
 * a pool (its PROT_READ implies PROT_EXEC: EPERM).
 *
 * It cannot be split (partial munmap(), mprotect() of part of it), moved or
 * resized (mremap()), and its protection cannot change (mprotect() fails
 * with EACCES). fork() children get no copy of it (VM_DONTCOPY, which
 * MADV_DOFORK cannot undo: EINVAL). Closing the file while mapped keeps
 * the pool alive until munmap(). When the last mapping goes away, every
 * page of the pool is freed (slots keep their state; a new mapping sees
 * zeroes). The pool ends when the file is closed and unmapped.
 *
 * Concurrency: any thread of the owning process may issue any command and
 * touch any slot at any time. Commands on different slots run in parallel
 * and take no lock of the address space (no mmap_lock). Commands on the
 * same slot are serialized. An access racing with a reset or free of its
 * own slot sees either the old contents, zeroes, or faults; it never sees
 * another tenant's data and never reaches freed memory.
 *
 * Memory: every page resident in a pool, mapped or kept by a reset, counts
 * in its owner process's RSS (as RssShmem in /proc/PID/status, hence in
 * VmRSS and in the OOM killer's choice) and is charged to the memory cgroup
 * of the task whose touch allocated it (as kernel memory: a module cannot
 * charge user memory), until it is freed.
 *
 * keep_resident: a reset or free keeps keep_resident_bytes' worth of the
 * pages present in the slot - the lowest offsets first, wherever in the
 * slot they lie, as Wasmtime's PAGEMAP_SCAN reset keeps the first written
 * pages it finds - zeroed in place, and unmaps and frees every other page
 * of the slot. (Before wasmpool 0.4, only pages within the first
 * keep_resident_bytes of the slot were kept; the bound on a free slot's
 * memory is the same.) The work is proportional to the pages present,
 * never to the size of the slot.
 *
 * Warm reuse (the default): the kept pages below the slot's next accessible
 * size stay mapped while they are zeroed, so the next tenant touches them
 * without a fault, and a stream of tenants costs no unmap and no TLB flush
 * in steady state. The contract that buys this: the runtime stops a
 * tenant's threads (or at least their accesses to the slot) before it
 * resets or frees the slot; kept bytes of a free slot stay mapped and read
 * as zero in the owner's process (they do not fault); when a slot is
 * reset or allocated with a smaller accessible size than it had, only what
 * lies above the new size is unmapped (one TLB flush), and faults there
 * again. Strict pools (WASMPOOL_CONFIGURE_STRICT) unmap the whole slot on
 * every reset and free instead: every byte of a free slot faults, and a
 * thread of the old tenant still running faults and waits rather than
 * touching the new tenant's zeroed pages; kept pages come back with one
 * fault per run of them. A kept page that anything else still holds a
 * reference to is never handed to the next tenant: the reset drops it
 * (counted in &struct wasmpool_stats.pages_replaced) and the next touch
 * gets a new page.
 *
 * Populating ahead (WASMPOOL_CONFIGURE_POPULATE_AHEAD): a touch of a page
 * whose predecessor in the slot is resident backs the following pages too,
 * up to WASMPOOL_POPULATE_AHEAD_BYTES in all, within the accessible size,
 * up to the next resident page, as far as memory and the resident limit
 * allow (never an OOM kill or a SIGBUS for a page not touched). Those
 * pages are resident like touched ones: they count in RSS and the limit,
 * and a reset keeps (and zeroes) them like touched ones. The
 * first touch of a slot, and touches that do not follow a resident page,
 * back one page, as without the flag.
 *
 * A touch of a slot while a command runs on it (a reset, a free) waits for
 * the command without holding the process's mmap_lock, so other threads'
 * faults and mmap() calls go on meanwhile.
 */

/**
 * DOC: Protection-key stripes
 *
 * With x86 memory protection keys (MPK), neighbouring slots can carry
 * different keys ("stripes", ColorGuard): slot ``i`` belongs to stripe
 * ``i % num_stripes`` and carries that stripe's key. A thread that opens
 * only its stripe's key (and key 0) in its PKRU register faults
 * (SIGSEGV, si_code SEGV_PKUERR, si_pkey the slot's key) on any access to a
 * slot of another stripe, so the slots of the other stripes serve as guard
 * regions and the slab packs more slots into the address space.
 *
 * The kernel allocates the keys in the configuring process (like
 * pkey_alloc(), so a later pkey_alloc() never returns one of them) and
 * frees them when the pool goes away. It cannot set any thread's PKRU: a
 * key the process never used starts denied (the default PKRU denies keys
 * 1-15), but one it used and freed keeps whatever rights its threads gave
 * it; the runtime sets the rights of every pool key itself (libwasmpool's
 * PKRU helpers compute the whole register). Signal handlers run with the
 * default PKRU: a handler that touches pool memory must open the key
 * itself; the interrupted thread's PKRU comes back on return from the
 * handler (not after siglongjmp()).
 *
 * Setup takes O(1) system calls: configure, mmap(), and
 * WASMPOOL_IOC_APPLY_KEYS, which gives every slot its own VMA carrying its
 * stripe's key (a VMA carries one key). A striped pool thus needs one VMA
 * per slot, which vm.max_map_count (default 65530) bounds.
 *
 * What the kernel cannot prevent: the process may pkey_free() a pool's key
 * (a later pkey_alloc() then returns it, and the pool's end frees it again);
 * fork() children inherit the allocation of the keys. Changing the key of
 * pool memory (pkey_mprotect()) is refused with EACCES.
 */

/**
 * enum wasmpool_pkey_mode - values of &struct wasmpool_configure.pkey_mode
 * @WASMPOOL_PKEYS_OFF: no protection-key stripes
 * @WASMPOOL_PKEYS_AUTO: stripes with the keys the CPU and the process have
 *	free (up to max_pkeys), none without protection keys
 * @WASMPOOL_PKEYS_REQUIRE: stripes with as many keys as the layout can use
 *	(up to max_pkeys); fail with EOPNOTSUPP without protection keys and
 *	with ENOSPC when the process has fewer keys free
 */
enum wasmpool_pkey_mode {
	WASMPOOL_PKEYS_OFF = 0,
	WASMPOOL_PKEYS_AUTO = 1,
	WASMPOOL_PKEYS_REQUIRE = 2,
};

/* The most stripes (and so keys) a pool can have. */
#define WASMPOOL_MAX_STRIPES	32

/**
 * struct wasmpool_configure - ioctl(WASMPOOL_IOC_CONFIGURE): create the pool
 * @size: in: sizeof(struct wasmpool_configure)
 * @flags: in: mask of &enum wasmpool_layout_flags
 * @max_memory_bytes: in: as &struct wasmpool_layout_cmd; must not be 0
 * @num_slots: in: as &struct wasmpool_layout_cmd; 1 to WASMPOOL_MAX_SLOTS
 * @reservation_bytes: in: as &struct wasmpool_layout_cmd
 * @guard_bytes: in: as &struct wasmpool_layout_cmd
 * @keep_resident_bytes: in: bytes of a slot's pages that a reset or free
 *	keeps resident (zeroed), lowest offsets first (see keep_resident in
 *	the DOC above); rounded up to the page size; at most
 *	@max_memory_bytes rounded up to the page size
 * @pkey_mode: in: a value of &enum wasmpool_pkey_mode
 * @max_pkeys: in: the most protection keys to use; 0 for no limit
 * @layout: out: the layout of the pool, computed with the keys the pool got
 * @stripe_pkeys: out: the protection key of each stripe; all 0 without
 *	stripes (layout.num_stripes == 1)
 *
 * Once per file. The pool belongs to the calling process's address space
 * from now on, and so do its keys.
 *
 * Return: 0, or -1 with errno: EBUSY when the file is already configured;
 * EINVAL for @num_slots or @max_memory_bytes out of range, @keep_resident_bytes
 * above @max_memory_bytes, or max memory above the reservation; EOVERFLOW
 * as for WASMPOOL_IOC_LAYOUT; ENOMEM when the slab is larger than the
 * process's address space (checked after the layout) or memory for the
 * pool's bookkeeping cannot be allocated; EDQUOT when an admin limit
 * (/sys/class/misc/wasmpool/max_pools, max_slots_per_pool,
 * max_reserved_bytes_per_pool) refuses it, checked after the layout; a
 * kernel message names the limit; EOPNOTSUPP for an unknown flag or pkey
 * mode, or WASMPOOL_PKEYS_REQUIRE without protection keys; ENOSPC for
 * WASMPOOL_PKEYS_REQUIRE when the process has too few keys free.
 */
struct wasmpool_configure {
	__u32 size;
	__u32 flags;
	__aligned_u64 max_memory_bytes;
	__aligned_u64 num_slots;
	__aligned_u64 reservation_bytes;
	__aligned_u64 guard_bytes;
	__aligned_u64 keep_resident_bytes;
	__u32 pkey_mode;
	__u32 max_pkeys;
	struct wasmpool_layout layout;
	__u8 stripe_pkeys[WASMPOOL_MAX_STRIPES];
};

/* The most slots one pool may have. */
#define WASMPOOL_MAX_SLOTS	1048576

/**
 * enum wasmpool_slot_alloc_flags - bits of &struct wasmpool_slot_alloc.flags
 * @WASMPOOL_SLOT_ALLOC_STRIPE: take a slot of stripe @stripe only
 * @WASMPOOL_SLOT_ALLOC_AFFINITY: @affinity holds the caller's affinity key
 * @WASMPOOL_SLOT_ALLOC_IMAGE: @image names a memory image of the pool that
 *	the slot starts with (added in 0.4; see "Memory images")
 */
enum wasmpool_slot_alloc_flags {
	WASMPOOL_SLOT_ALLOC_STRIPE = 1 << 0,
	WASMPOOL_SLOT_ALLOC_AFFINITY = 1 << 1,
	WASMPOOL_SLOT_ALLOC_IMAGE = 1 << 2,
};

/**
 * enum wasmpool_slot_reuse - values of &struct wasmpool_slot_alloc.reuse
 * @WASMPOOL_SLOT_COLD: a slot with no page kept resident (never used, or
 *	nothing was kept): its pages come on first touch
 * @WASMPOOL_SLOT_WARM_HIT: a warm slot (kept pages resident, zeroed; in a
 *	warm pool still mapped) whose last tenant had the same affinity key
 * @WASMPOOL_SLOT_WARM: a warm slot of another key, or of none
 *
 * 0 means "not reported" (a module before 0.2).
 */
enum wasmpool_slot_reuse {
	WASMPOOL_SLOT_COLD = 1,
	WASMPOOL_SLOT_WARM_HIT = 2,
	WASMPOOL_SLOT_WARM = 3,
};

/**
 * struct wasmpool_slot_alloc - ioctl(WASMPOOL_IOC_SLOT_ALLOC): take a slot
 * @size: in: sizeof(struct wasmpool_slot_alloc)
 * @flags: in: mask of &enum wasmpool_slot_alloc_flags
 * @accessible_bytes: in: the initial accessible size, rounded up to the page
 *	size; at most the layout's max_memory_bytes. out: the rounded size.
 * @stripe: in: with WASMPOOL_SLOT_ALLOC_STRIPE, the stripe to take a slot
 *	of; otherwise must be 0 (else EOPNOTSUPP). out: the slot's stripe.
 * @slot: out: the slot's index
 * @offset: out: the slot's offset in the mapping
 * @address: out: the slot's address in the caller's mapping of the pool,
 *	0 when the pool is not mapped
 * @affinity: in: with WASMPOOL_SLOT_ALLOC_AFFINITY, the caller's affinity
 *	key (a runtime passes its module's id); otherwise must be 0 (else
 *	EOPNOTSUPP). Added in 0.2.
 * @reuse: out: what kind of slot it got, an &enum wasmpool_slot_reuse
 *	value (0 from older modules)
 * @__reserved: must be 0
 * @image: in: with WASMPOOL_SLOT_ALLOC_IMAGE, the id of a memory image of
 *	this pool (WASMPOOL_IOC_IMAGE_CREATE) that the slot's first bytes
 *	read as; otherwise must be 0 (else EOPNOTSUPP). Added in 0.4.
 * @__reserved2: must be 0
 *
 * The slot's memory reads as zero up to @accessible_bytes (with an image:
 * as the image up to its length, as zero above it); above it, it
 * faults. Which free slot: with an affinity key, a warm slot last used with
 * the same key (its pages are there: same module, same footprint), else
 * one with no pages kept (so as not to evict another key's warm slot),
 * else the least recently freed warm slot; without a key, the most
 * recently freed warm slot, else one with no pages kept. Without
 * WASMPOOL_SLOT_ALLOC_STRIPE, each of these steps looks at every stripe in
 * turn, from the stripe after that of the slot last allocated on: in a
 * striped pool successive allocations spread over the stripes, so "most
 * recently freed" holds within a stripe, not across the pool. A warm slot given
 * a smaller accessible size than its last tenant had unmaps what lies
 * above it. Hits and misses of keyed allocations are counted
 * (&struct wasmpool_stats, sysfs warm_hits and warm_misses).
 *
 * With an image and no affinity key, the image is the key: the allocation
 * prefers a warm slot that last held the same image, whose pages already
 * map it. A slot that held another image, or none (or an image held by a
 * slot found through an affinity key that differs), is emptied first -
 * unmapped whole, its pages freed - and reported as WASMPOOL_SLOT_COLD.
 *
 * Return: 0, or -1 with errno: ENOSPC when no slot (of the stripe) is free;
 * ERANGE when @accessible_bytes is above max memory; EINVAL for a stripe
 * out of range, for an image id this pool never gave out, or for an
 * accessible size (rounded) below the image's length; ENOENT for an image
 * that was released; EBADFD, EPERM as in the errno contract; EBADFD also
 * for a striped pool whose keys are not applied (WASMPOOL_IOC_APPLY_KEYS).
 */
struct wasmpool_slot_alloc {
	__u32 size;
	__u32 flags;
	__aligned_u64 accessible_bytes;
	__u32 stripe;
	__u32 slot;
	__aligned_u64 offset;
	__aligned_u64 address;
	__aligned_u64 affinity;
	__u32 reuse;
	__u32 __reserved;
	__u32 image;
	__u32 __reserved2;
};

/**
 * struct wasmpool_slot_resize - ioctl(WASMPOOL_IOC_SLOT_GROW) and
 * ioctl(WASMPOOL_IOC_SLOT_RESET)
 * @size: in: sizeof(struct wasmpool_slot_resize)
 * @flags: in: must be 0
 * @slot: in: an allocated slot
 * @__reserved: must be 0
 * @accessible_bytes: in: the new accessible size, rounded up to the page
 *	size; at most max memory. out: the rounded size.
 *
 * GROW raises the accessible size of the slot; its contents stay. It changes
 * no mapping and takes no lock of the address space: the fault handler
 * serves the new pages on first touch. A size below the current one is
 * refused (a reset shrinks).
 *
 * RESET gives the slot to a new tenant: its contents become zero (those
 * of a slot allocated with an image: the image, then zero), its
 * accessible size becomes @accessible_bytes, and only keep_resident_bytes'
 * worth of its pages, lowest offsets first, stay resident.
 *
 * Return: 0, or -1 with errno: ERANGE when @accessible_bytes is above max
 * memory; EINVAL for a slot index out of range, (GROW only) when
 * @accessible_bytes is below the current size, and (RESET only) when it is
 * below the length of the slot's image; ENOENT when the slot is not
 * allocated; EOPNOTSUPP for non-zero @flags or @__reserved; EBADFD, EPERM
 * as in the errno contract.
 */
struct wasmpool_slot_resize {
	__u32 size;
	__u32 flags;
	__u32 slot;
	__u32 __reserved;
	__aligned_u64 accessible_bytes;
};

/**
 * struct wasmpool_slot_free - ioctl(WASMPOOL_IOC_SLOT_FREE): return a slot
 * @size: in: sizeof(struct wasmpool_slot_free)
 * @flags: in: must be 0
 * @slot: in: an allocated slot
 * @__reserved: must be 0
 *
 * Resets the slot to an accessible size of 0 (every access faults) and puts
 * it back on its stripe's free list.
 *
 * Return: 0, or -1 with errno: EINVAL for a slot index out of range; ENOENT
 * when the slot is not allocated (freeing twice); EBADFD, EPERM as in the
 * errno contract.
 */
struct wasmpool_slot_free {
	__u32 size;
	__u32 flags;
	__u32 slot;
	__u32 __reserved;
};

/* The most slots one WASMPOOL_IOC_SLOT_FREE_BATCH frees. */
#define WASMPOOL_FREE_BATCH_MAX	4096

/**
 * struct wasmpool_slot_free_batch - ioctl(WASMPOOL_IOC_SLOT_FREE_BATCH):
 * return many slots at once
 * @size: in: sizeof(struct wasmpool_slot_free_batch)
 * @flags: in: must be 0
 * @slots: in: the address of an array of @count __u32 slot indexes, in any
 *	order
 * @count: in: the number of slots, 1 to WASMPOOL_FREE_BATCH_MAX
 * @__reserved: must be 0
 *
 * Frees every slot of the array as WASMPOOL_IOC_SLOT_FREE would, all or
 * none: the slots are taken from their tenants together (a command on
 * one of them from then on fails with ENOENT), and if any of them is not
 * allocated, none is freed. Added in wasmpool 0.2; a runtime's decommit
 * queue (Wasmtime's, say) gives the slots it collected to one call.
 *
 * What the batch saves: one system call for all the slots, and, in a
 * process with more than one thread, where pages must be unmapped (a pool
 * with keep_resident_bytes 0, pages beyond it, strict pools), one unmap
 * and one TLB shootdown for each run of slots that lie next to each
 * other, counting as neighbours slots that have nothing mapped in between
 * (free, cold ones), up to 1 GiB of the pool: the kernel unmaps the run
 * in one range (a zap walks the page tables of the whole range, so slots
 * of 4 GiB reservations are unmapped one by one). (A
 * single-threaded process has no other CPU to interrupt: there a few
 * single-page flushes cost less than the whole-TLB flush of a long range,
 * and each slot is unmapped on its own.) Kept pages of a warm pool stay
 * mapped, so slots with kept pages mapped are unmapped one by one (their
 * kept pages are not touched). In a striped pool, every slot is a mapping
 * of its own: one TLB flush per slot remains.
 *
 * Return: 0, or -1 with errno: EINVAL for @count out of range, a slot
 * index out of range or one given twice; ENOENT when a slot is not
 * allocated (nothing is freed); EFAULT when the array cannot be read;
 * ENOMEM when the kernel cannot copy the array; EOPNOTSUPP for non-zero
 * @flags or @__reserved; EBADFD, EPERM as in the errno contract.
 */
struct wasmpool_slot_free_batch {
	__u32 size;
	__u32 flags;
	__aligned_u64 slots;
	__u32 count;
	__u32 __reserved;
};

/**
 * struct wasmpool_stats - ioctl(WASMPOOL_IOC_STATS): the pool's counters
 * @size: in: sizeof(struct wasmpool_stats)
 * @flags: in: must be 0
 * @num_slots: out: slots in the pool
 * @slots_in_use: out: slots allocated now
 * @resident_bytes: out: memory backing the pool now
 * @faults: out: page faults served (a page mapped, or the zero page for a
 *	read of a page never written with WASMPOOL_CONFIGURE_ZERO_PAGE)
 * @pages_allocated: out: pages allocated (zeroed) for faults
 * @guard_faults: out: faults refused with SIGSEGV or EFAULT: guard regions,
 *	above a slot's accessible size, free slots
 * @resets: out: resets, frees included
 * @pages_cleared: out: pages a reset zeroed in place (kept resident)
 * @pages_freed: out: pages returned to the system
 * @metadata_bytes: out: kernel memory the pool's bookkeeping takes, apart
 *	from the page index (which grows with resident pages)
 * @address: out: where the pool is mapped, 0 when it is not
 * @pages_replaced: out: kept pages a reset found referenced by something
 *	else and dropped instead of handing them to the next tenant (added in
 *	wasmpool 0.2; 0 from older modules)
 * @warm_hits: out: allocations with an affinity key that got a warm slot
 *	of the same key (0.2)
 * @warm_misses: out: allocations with an affinity key that did not (0.2)
 * @unmaps: out: ranges of the pool's mapping that resets, frees and
 *	allocations unmapped: each one page-table walk and, if it found a
 *	page mapped, one TLB flush (one per slot it spans in a striped pool);
 *	a batch free counts a run of neighbouring slots once (0.2)
 * @faults_vma_locked: out: of @faults, those served under the faulting
 *	VMA's own lock, without the process's mmap_lock (Linux 6.4 and later;
 *	always 0 before) (0.2)
 * @images: out: memory images of the pool that exist: those in its table
 *	and those released but still held by a slot (0.4)
 * @image_bytes: out: the bytes of those images; counted once however many
 *	slots map them, not in @resident_bytes (0.4)
 * @image_copies: out: pages a write copied from an image into a page of
 *	the slot's own (also counted in @pages_allocated) (0.4)
 *
 * Return: 0, or -1 with errno: EBADFD, EPERM as in the errno contract.
 */
struct wasmpool_stats {
	__u32 size;
	__u32 flags;
	__aligned_u64 num_slots;
	__aligned_u64 slots_in_use;
	__aligned_u64 resident_bytes;
	__aligned_u64 faults;
	__aligned_u64 pages_allocated;
	__aligned_u64 guard_faults;
	__aligned_u64 resets;
	__aligned_u64 pages_cleared;
	__aligned_u64 pages_freed;
	__aligned_u64 metadata_bytes;
	__aligned_u64 address;
	__aligned_u64 pages_replaced;
	__aligned_u64 warm_hits;
	__aligned_u64 warm_misses;
	__aligned_u64 unmaps;
	__aligned_u64 faults_vma_locked;
	__aligned_u64 images;
	__aligned_u64 image_bytes;
	__aligned_u64 image_copies;
};

/**
 * struct wasmpool_apply_keys - ioctl(WASMPOOL_IOC_APPLY_KEYS): key the slots
 * @size: in: sizeof(struct wasmpool_apply_keys)
 * @flags: in: must be 0
 * @vmas: out: the VMAs the pool's mapping now consists of
 *
 * After the pool's mmap(), gives every slot of a striped pool a VMA of its
 * own that carries its stripe's protection key (the guard regions before
 * and after the slab keep key 0). Until then, slots of a striped pool cannot
 * be allocated. For a pool without stripes it changes nothing and succeeds,
 * so a runtime may always call it. The slots' mappings count against
 * vm.max_map_count; when it is reached, the call fails with ENOMEM and the
 * kernel log names the sysctl.
 *
 * The call only ever maps over the pool as it was mapped when the call
 * started: if another thread unmaps the pool meanwhile (and maps something
 * else there), the call fails with EBUSY and leaves that mapping alone. On
 * any failure the pool's mapping is left as it is, partly keyed, perhaps
 * with a hole where a slot's mapping failed after the kernel had unmapped
 * what it replaced; calling again (after raising vm.max_map_count, say)
 * resumes with the slots not keyed yet and fills such holes, and munmap()
 * of the whole pool drops it.
 *
 * When the last mapping of the pool goes away, so do the keyed VMAs: a new
 * mapping needs this call again before slots can be allocated.
 *
 * After it, the pool's mapping must still be unmapped as a whole: a
 * munmap() of exactly one slot's range removes that slot from the mapping
 * (its accesses then fault) - there is no way for the module to refuse it.
 *
 * @vmas is written after the keys are applied; should another thread make
 * the argument unwritable during the call, the call still succeeds (it
 * cannot be undone) and @vmas keeps its old value.
 *
 * Return: 0, or -1 with errno: EINVAL when the pool is not mapped; EALREADY
 * when the keys are applied already; EBUSY when the pool's mapping is not
 * the whole pool or was changed under the call; ENOMEM as above; EINTR when
 * a fatal signal came; EBADFD, EPERM as in the errno contract.
 */
struct wasmpool_apply_keys {
	__u32 size;
	__u32 flags;
	__aligned_u64 vmas;
};

/**
 * DOC: Memory images
 *
 * A memory image is a WebAssembly module's initial memory: its data
 * segments laid out page by page, as Wasmtime's memory_init_cow maps a
 * memfd MAP_PRIVATE over a slot. WASMPOOL_IOC_IMAGE_CREATE copies the
 * bytes into the kernel once (from the caller's memory or from a file, a
 * memfd say) and gives the image an id; WASMPOOL_IOC_SLOT_ALLOC with
 * WASMPOOL_SLOT_ALLOC_IMAGE then gives a slot whose first bytes read as
 * the image:
 *
 * - a read of a page of the image that the slot has not written maps the
 *   image's own page read-only: no copy, no page of the slot's, however
 *   many slots read it;
 * - the first write to such a page gives the slot a page of its own, a
 *   copy of the image's (one more fault and a TLB flush when the page was
 *   read first, as a copy-on-write of private memory); the image never
 *   changes;
 * - a reset or free puts the image back: kept pages of the slot's own get
 *   the image's bytes again (zero above the image), in place; others go,
 *   and read as the image again. In a warm pool the image's read-only
 *   pages stay mapped in the slot, free or not (a free slot reads as its
 *   image where it reads at all); a strict pool unmaps them with the rest.
 *
 * An image is immutable: the kernel copies it at creation, so what
 * happens to the source afterwards (a memfd written, truncated) changes
 * nothing. Its pages are charged to the memory cgroup of the task that
 * creates it (as kernel memory) and counted once in the owner's RSS
 * (RssShmem) and in &struct wasmpool_stats.image_bytes, however many slots
 * map them. An image lives as long as the pool's table names it
 * (WASMPOOL_IOC_IMAGE_RELEASE, or the end of the pool) or a slot holds it:
 * slots allocated with a released image keep reading it until they are
 * freed or allocated again (warm free slots holding it let go at the
 * release); then its pages are freed.
 *
 * Image ids belong to the pool: they are given out from 1 up and never
 * reused in the pool's life (after 2^32 - 1 images, creation fails with
 * ENOSPC). Another pool's id is only a number here: it names this pool's
 * image of that number, if any. A pool can only ever map its own images.
 *
 * Nothing can pin an image's page or a slot's copy of one: both are
 * mapped with special page-table entries, like every pool page.
 *
 * The images of a pool hold at most /sys/class/misc/wasmpool/
 * max_image_bytes_per_pool bytes together (as it was when the pool was
 * configured; half of RAM by default, 0 for no limit).
 */

/**
 * enum wasmpool_image_flags - bits of &struct wasmpool_image_create.flags
 * @WASMPOOL_IMAGE_FROM_FD: read the image from @fd at @fd_offset instead
 *	of copying it from @user_addr
 */
enum wasmpool_image_flags {
	WASMPOOL_IMAGE_FROM_FD = 1 << 0,
};

/**
 * struct wasmpool_image_create - ioctl(WASMPOOL_IOC_IMAGE_CREATE): make a
 * memory image
 * @size: in: sizeof(struct wasmpool_image_create)
 * @flags: in: mask of &enum wasmpool_image_flags
 * @user_addr: in: without WASMPOOL_IMAGE_FROM_FD, the address of the
 *	@length bytes to copy (any alignment); with it, must be 0
 * @fd: in: with WASMPOOL_IMAGE_FROM_FD, a file descriptor open for
 *	reading of a regular file (a memfd, sealed or not) to read the image
 *	from; without it, must be 0
 * @__reserved: must be 0
 * @fd_offset: in: with WASMPOOL_IMAGE_FROM_FD, where in the file the image
 *	starts; a multiple of the page size; without it, must be 0
 * @length: in: the image's length: a multiple of the page size, from one
 *	page to the pool's max_memory_bytes
 * @image: out: the image's id in this pool (never 0)
 * @__reserved2: must be 0
 *
 * Copies the bytes into new kernel pages: from then on the image is
 * immutable. Added in 0.4; see "Memory images".
 *
 * Return: 0, or -1 with errno: EINVAL for a zero, unaligned or too large
 * @length, an unaligned @fd_offset, a file that is not a regular file or
 * ends before @fd_offset + @length; EFAULT when the bytes at @user_addr
 * cannot be read; EBADF when @fd is not a file descriptor open for
 * reading; EOVERFLOW when @fd_offset + @length overflows; EDQUOT when the
 * pool's images would exceed max_image_bytes_per_pool (the kernel log
 * names the limit); ENOMEM without memory; ENOSPC when the pool has no
 * image id left; EINTR when a fatal signal came; EOPNOTSUPP for an unknown
 * flag, a non-zero @__reserved or @__reserved2, or a field of the other
 * source set; EBADFD, EPERM as in the errno contract. Nothing is created
 * on failure.
 */
struct wasmpool_image_create {
	__u32 size;
	__u32 flags;
	__aligned_u64 user_addr;
	__s32 fd;
	__u32 __reserved;
	__aligned_u64 fd_offset;
	__aligned_u64 length;
	__u32 image;
	__u32 __reserved2;
};

/**
 * struct wasmpool_image_release - ioctl(WASMPOOL_IOC_IMAGE_RELEASE): drop
 * a memory image from the pool's table
 * @size: in: sizeof(struct wasmpool_image_release)
 * @flags: in: must be 0
 * @image: in: the image's id
 * @__reserved: must be 0
 *
 * The id names nothing from now on (allocations with it fail with ENOENT).
 * Slots allocated with the image keep it until they are freed; free warm
 * slots that still map it are emptied now. The image's memory is freed
 * when no slot holds it. Added in 0.4.
 *
 * Return: 0, or -1 with errno: EINVAL for an id this pool never gave out
 * (0 included); ENOENT for an image released already; EOPNOTSUPP for
 * non-zero @flags or @__reserved; EBADFD, EPERM as in the errno contract.
 */
struct wasmpool_image_release {
	__u32 size;
	__u32 flags;
	__u32 image;
	__u32 __reserved;
};

#define WASMPOOL_IOC_CONFIGURE	_IO(WASMPOOL_TYPE, WASMPOOL_CMD_CONFIGURE)
#define WASMPOOL_IOC_SLOT_ALLOC	_IO(WASMPOOL_TYPE, WASMPOOL_CMD_SLOT_ALLOC)
#define WASMPOOL_IOC_SLOT_GROW	_IO(WASMPOOL_TYPE, WASMPOOL_CMD_SLOT_GROW)
#define WASMPOOL_IOC_SLOT_RESET	_IO(WASMPOOL_TYPE, WASMPOOL_CMD_SLOT_RESET)
#define WASMPOOL_IOC_SLOT_FREE	_IO(WASMPOOL_TYPE, WASMPOOL_CMD_SLOT_FREE)
#define WASMPOOL_IOC_STATS	_IO(WASMPOOL_TYPE, WASMPOOL_CMD_STATS)
#define WASMPOOL_IOC_APPLY_KEYS	_IO(WASMPOOL_TYPE, WASMPOOL_CMD_APPLY_KEYS)
#define WASMPOOL_IOC_SLOT_FREE_BATCH	_IO(WASMPOOL_TYPE, WASMPOOL_CMD_SLOT_FREE_BATCH)
#define WASMPOOL_IOC_IMAGE_CREATE	_IO(WASMPOOL_TYPE, WASMPOOL_CMD_IMAGE_CREATE)
#define WASMPOOL_IOC_IMAGE_RELEASE	_IO(WASMPOOL_TYPE, WASMPOOL_CMD_IMAGE_RELEASE)

#endif /* _UAPI_LINUX_WASMPOOL_H */
