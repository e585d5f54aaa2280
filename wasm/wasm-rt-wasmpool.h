/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wasm-rt-wasmpool: the linear memories of wasm2c's runtime (wabt 1.0.32)
 * in a wasmpool pool.
 *
 * wasm2c's code elides the bounds checks of loads and stores: an i32
 * address plus an offset below 4 GiB reaches up to 8 GiB - 2 past a
 * memory's start, and the runtime must make all of that fault beyond the
 * memory's size. The stock runtime reserves 8 GiB of PROT_NONE per memory
 * and mprotect()s it as it grows; this backend takes a slot of one pool
 * instead (wasmpool_slot_alloc), grows it with wasmpool_slot_grow and
 * frees it with wasmpool_slot_free, and checks once that every slot's
 * faulting reach covers those 8 GiB (wasmpool_guards_cover()).
 *
 * How it is linked: wabt's wasm-rt-impl.c is compiled unchanged but with
 *   -Dwasm_rt_allocate_memory=wasm_rt_stock_allocate_memory
 *   -Dwasm_rt_grow_memory=wasm_rt_stock_grow_memory
 *   -Dwasm_rt_free_memory=wasm_rt_stock_free_memory
 *   -DWASM_RT_TRAP_HANDLER=wasmpool_rt_trap
 * so that the generated code's calls land here, and its traps jump to the
 * calling thread's own wasmpool_rt_jmp_buf (wasm-rt-impl.c's
 * wasm_rt_jmp_buf is one for the whole process).
 *
 * Threads: any thread may run instances; each one first calls
 * wasmpool_rt_thread_init(). With protection-key stripes the thread that
 * runs an instance opens exactly that instance's stripe in its PKRU:
 * wasm_rt_allocate_memory() does it for the memory it allocates (the
 * instantiation writes the data segments next), wasmpool_rt_enter() before
 * every call into an instance, and a trap restores it (a signal handler
 * runs with the default PKRU, and siglongjmp() keeps that).
 *
 * Faults: wasm2c's own SIGSEGV handler takes a fault for an out-of-bounds
 * access only when si_code is SEGV_ACCERR (a PROT_NONE guard) and for
 * stack exhaustion otherwise. A fault into a slot of another stripe comes
 * with SEGV_PKUERR, and a pool's guard faults (before the module's
 * SEGV_ACCERR change) with SEGV_MAPERR; so wasmpool_rt_init() installs a
 * handler in front of wasm2c's that makes every fault of guest code in the
 * pool a WASM_RT_TRAP_OOB (the resident limit's SIGBUS a
 * WASM_RT_TRAP_EXHAUSTION), as wasmpool_fault_classify_signal() tells
 * them, and passes everything else on.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef WASM_RT_WASMPOOL_H
#define WASM_RT_WASMPOOL_H

#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "wasm-rt.h"
#include "wasmpool.h"

/* The farthest byte wasm2c's code can address past a memory's start, + 1. */
#define WASMPOOL_RT_REACH	(8ULL << 30)

/**
 * struct wasmpool_rt_config - the pool behind the memories
 * @max_memory_bytes: the largest memory (a memory's maximum above it is
 *	cut to it: memory.grow fails there); a multiple of 64 KiB
 * @num_slots: the most memories at a time
 * @keep_resident_bytes: what a freed slot keeps, zeroed (warm reuse)
 * @pkey_mode: an &enum wasmpool_pkey_mode
 * @stock_handler: true: leave faults to wasm2c's own SIGSEGV handler
 *	alone (for a pool without stripes; it calls a fault out of bounds
 *	only when its si_code is SEGV_ACCERR)
 */
struct wasmpool_rt_config {
	uint64_t max_memory_bytes;
	uint64_t num_slots;
	uint64_t keep_resident_bytes;
	uint32_t pkey_mode;
	bool stock_handler;
};

/**
 * struct wasmpool_rt_stats - what the backend saw, for all threads
 * @memories: memories allocated
 * @grows: successful memory.grow calls
 * @traps: faults of guest code in the pool it turned into traps, by
 *	&enum wasmpool_fault_kind
 * @pkuerr: of those, faults that came with SEGV_PKUERR
 */
struct wasmpool_rt_stats {
	uint64_t memories;
	uint64_t grows;
	uint64_t traps[WASMPOOL_FAULT_RESIDENT_LIMIT + 1];
	uint64_t pkuerr;
};

/**
 * wasmpool_rt_init() - create the pool and put the fault handler in front
 * @cfg: the configuration
 *
 * Call after wasm_rt_init() (whose handler this one chains to), from the
 * main thread, before any instance. Fails when a slot's faulting reach is
 * short of WASMPOOL_RT_REACH.
 *
 * Return: 0 or -errno (-EINVAL: the reach is short).
 */
int wasmpool_rt_init(const struct wasmpool_rt_config *cfg);

/**
 * wasmpool_rt_fini() - restore the previous handlers and destroy the pool
 *
 * Every memory must have been freed.
 */
void wasmpool_rt_fini(void);

/** wasmpool_rt_pool() - the pool (read-only), for statistics and layout */
const struct wasmpool *wasmpool_rt_pool(void);

/** wasmpool_rt_stats() - a copy of the counters */
void wasmpool_rt_stats(struct wasmpool_rt_stats *stats);

/**
 * wasmpool_rt_thread_init() - prepare the calling thread to run instances
 *
 * Gives it an alternate signal stack (a fault from a full stack needs
 * one); the main thread has wasm_rt_init()'s.
 *
 * Return: 0 or -errno.
 */
int wasmpool_rt_thread_init(void);

/** wasmpool_rt_thread_fini() - undo wasmpool_rt_thread_init() */
void wasmpool_rt_thread_fini(void);

/**
 * wasmpool_rt_set_affinity() - the affinity key of the calling thread's
 * next allocations (wasmpool_slot_alloc_affinity(): the module's id, say);
 * 0 for none
 */
void wasmpool_rt_set_affinity(uint64_t key);

/**
 * wasmpool_rt_last_slot() - the calling thread's last slot allocation
 * (slot, stripe, reuse), as the kernel answered it
 */
const struct wasmpool_slot_alloc *wasmpool_rt_last_slot(void);

/**
 * wasmpool_rt_slot() - the slot of a memory of this backend
 */
uint32_t wasmpool_rt_slot(const wasm_rt_memory_t *mem);

/**
 * wasmpool_rt_enter() - let the calling thread run the instance of @mem
 * @mem: the instance's memory
 *
 * With stripes: opens exactly @mem's stripe in the thread's PKRU (the
 * other stripes of the pool closed). Without: nothing to do.
 */
void wasmpool_rt_enter(const wasm_rt_memory_t *mem);

/* The calling thread's trap target; the guest flag says it is in a call. */
extern __thread sigjmp_buf wasmpool_rt_jmp_buf;
extern __thread volatile sig_atomic_t wasmpool_rt_in_guest;

/**
 * wasmpool_rt_try() - the per-thread wasm_rt_impl_try()
 *
 * 0 on the first return; the trap code when a call made after it traps.
 * After the call returns, wasmpool_rt_leave().
 */
#define wasmpool_rt_try() \
	(wasmpool_rt_in_guest = 1, (wasm_rt_trap_t)sigsetjmp(wasmpool_rt_jmp_buf, 1))

/** wasmpool_rt_leave() - the call made after wasmpool_rt_try() returned */
static inline void wasmpool_rt_leave(void)
{
	wasmpool_rt_in_guest = 0;
}

/**
 * wasmpool_rt_trap() - WASM_RT_TRAP_HANDLER: end the call with a trap
 * @code: the trap
 *
 * Restores the PKRU of the thread's instance and jumps to its
 * wasmpool_rt_jmp_buf. Async-signal-safe.
 */
WASM_RT_NO_RETURN void wasmpool_rt_trap(wasm_rt_trap_t code);

#endif /* WASM_RT_WASMPOOL_H */
