// SPDX-License-Identifier: GPL-2.0-only
/*
 * wasm-rt-wasmpool: wasm2c's linear memories in a wasmpool pool (see
 * wasm-rt-wasmpool.h for how it is linked and what it guarantees).
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wasm-rt-wasmpool.h"

#define WASM_PAGE	65536ULL
/* wasm_rt_memory_t.size is a uint32_t in wabt 1.0.32: 4 GiB does not fit. */
#define WASM_RT_MAX_BYTES	(0x10000ULL * WASM_PAGE - WASM_PAGE)
#define NO_SLOT		UINT32_MAX

static struct wasmpool wp_pool = { .fd = -1 };
static bool wp_striped;
static uint64_t wp_max_bytes;
static bool wp_handler_installed;
static struct sigaction wp_old_segv, wp_old_bus;
static struct wasmpool_rt_stats wp_stats;	/* __atomic_* only */

__thread sigjmp_buf wasmpool_rt_jmp_buf;
__thread volatile sig_atomic_t wasmpool_rt_in_guest;

/* The calling thread: the slot it entered and the PKRU that opens it. */
static __thread uint32_t tls_slot = NO_SLOT;
static __thread uint32_t tls_pkru;
static __thread bool tls_pkru_set;
static __thread uint64_t tls_affinity;
static __thread struct wasmpool_slot_alloc tls_last;
static __thread void *tls_altstack;

static void count(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static void die(const char *msg)
{
	/* async-signal-safe: from the fault handler too */
	if (write(STDERR_FILENO, msg, strlen(msg)) < 0)
		_exit(134);
	abort();
}

uint32_t wasmpool_rt_slot(const wasm_rt_memory_t *mem)
{
	uint32_t slot;

	if (wasmpool_slot_of(&wp_pool, mem->data, &slot))
		die("wasm-rt-wasmpool: a memory that is not in the pool\n");
	return slot;
}

/* Open exactly @slot's stripe in this thread; what a trap restores. */
static void wp_enter_slot(uint32_t slot)
{
	tls_slot = slot;
	if (!wp_striped)
		return;
	wasmpool_pkru_enter(&wp_pool, slot);
	tls_pkru = wasmpool_pkru_read();
	tls_pkru_set = true;
}

void wasmpool_rt_enter(const wasm_rt_memory_t *mem)
{
	wp_enter_slot(wasmpool_rt_slot(mem));
}

void wasmpool_rt_trap(wasm_rt_trap_t code)
{
	if (!wasmpool_rt_in_guest)
		die("wasm-rt-wasmpool: a trap outside a call into wasm (no wasmpool_rt_try())\n");
	wasmpool_rt_in_guest = 0;
	/* from a signal handler: its PKRU is the default, which siglongjmp keeps */
	if (tls_pkru_set)
		wasmpool_pkru_write(tls_pkru);
	siglongjmp(wasmpool_rt_jmp_buf, code);
}

/* --- the memory functions the generated code calls ------------------------ */

void wasm_rt_allocate_memory(wasm_rt_memory_t *mem, uint32_t initial_pages,
			     uint32_t max_pages)
{
	uint64_t bytes = initial_pages * WASM_PAGE;
	int ret;

	memset(mem, 0, sizeof(*mem));
	if (bytes > wp_max_bytes)
		ret = -ERANGE;
	else if (tls_affinity)
		ret = wasmpool_slot_alloc_affinity(&wp_pool, bytes, tls_affinity, &tls_last);
	else
		ret = wasmpool_slot_alloc(&wp_pool, bytes, &tls_last);
	if (ret) {
		fprintf(stderr, "wasm-rt-wasmpool: no memory of %u pages: %s\n",
			initial_pages, strerror(-ret));
		wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
	}
	mem->data = (uint8_t *)(uintptr_t)tls_last.address;
	mem->pages = initial_pages;
	mem->max_pages = max_pages;
	mem->size = (uint32_t)bytes;
	count(&wp_stats.memories);
	/* the instantiation writes the data segments next */
	wp_enter_slot(tls_last.slot);
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *mem, uint32_t delta)
{
	uint32_t old = mem->pages;
	uint64_t pages = (uint64_t)old + delta;

	if (delta == 0)
		return old;
	if (pages > mem->max_pages || pages * WASM_PAGE > wp_max_bytes)
		return UINT32_MAX;
	if (wasmpool_slot_grow(&wp_pool, wasmpool_rt_slot(mem), pages * WASM_PAGE))
		return UINT32_MAX;
	mem->pages = (uint32_t)pages;
	mem->size = (uint32_t)(pages * WASM_PAGE);
	count(&wp_stats.grows);
	return old;
}

void wasm_rt_free_memory(wasm_rt_memory_t *mem)
{
	uint32_t slot;
	int ret;

	if (!mem->data)
		return;
	slot = wasmpool_rt_slot(mem);
	ret = wasmpool_slot_free(&wp_pool, slot);
	if (ret) {
		fprintf(stderr, "wasm-rt-wasmpool: slot %u: free: %s\n", slot, strerror(-ret));
		abort();
	}
	if (tls_slot == slot)
		tls_slot = NO_SLOT;
	memset(mem, 0, sizeof(*mem));
}

/* --- faults --------------------------------------------------------------- */

static void wp_chain(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *old = sig == SIGBUS ? &wp_old_bus : &wp_old_segv;

	if (old->sa_flags & SA_SIGINFO)
		old->sa_sigaction(sig, si, uc);
	else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN)
		old->sa_handler(sig);
	else
		signal(sig, SIG_DFL);	/* the access faults again, and kills */
}

/*
 * A fault of guest code in the pool is an out-of-bounds access whatever
 * its si_code: SEGV_MAPERR or SEGV_ACCERR (above the accessible size, a
 * guard region), SEGV_PKUERR (another stripe's slot). A SIGBUS there is
 * the pool's resident limit. Everything else is wasm2c's (stack
 * exhaustion) or a crash.
 */
static void wp_on_fault(int sig, siginfo_t *si, void *uc)
{
	struct wasmpool_fault f;
	int kind;

	if (!wasmpool_rt_in_guest) {
		wp_chain(sig, si, uc);
		return;
	}
	kind = wasmpool_fault_classify_signal(&wp_pool, si, &f);
	if (kind == WASMPOOL_FAULT_OUTSIDE) {
		wp_chain(sig, si, uc);
		return;
	}
	if (kind == WASMPOOL_FAULT_OTHER_STRIPE && f.slot == tls_slot)
		die("wasm-rt-wasmpool: SEGV_PKUERR in the thread's own slot: its PKRU does not open its instance's stripe\n");
	count(&wp_stats.traps[kind]);
	if (sig == SIGSEGV && si->si_code == SEGV_PKUERR)
		count(&wp_stats.pkuerr);
	/* wasm has no trap for it; wasm2c's nearest is resource exhaustion */
	if (kind == WASMPOOL_FAULT_RESIDENT_LIMIT)
		wasmpool_rt_trap(WASM_RT_TRAP_EXHAUSTION);
	wasmpool_rt_trap(WASM_RT_TRAP_OOB);
}

/* --- setup ---------------------------------------------------------------- */

int wasmpool_rt_init(const struct wasmpool_rt_config *c)
{
	struct wasmpool_configure cfg = {
		.max_memory_bytes = c->max_memory_bytes,
		.reservation_bytes = c->max_memory_bytes,
		.guard_bytes = WASMPOOL_RT_REACH - c->max_memory_bytes,
		.num_slots = c->num_slots,
		.keep_resident_bytes = c->keep_resident_bytes,
		.pkey_mode = c->pkey_mode,
	};
	struct sigaction sa = {
		.sa_sigaction = wp_on_fault,
		.sa_flags = SA_SIGINFO | SA_ONSTACK,
	};
	int ret;

	if (!wasm_rt_is_initialized() || wp_pool.fd >= 0)
		return -EINVAL;
	if (!c->max_memory_bytes || c->max_memory_bytes % WASM_PAGE ||
	    c->max_memory_bytes > WASM_RT_MAX_BYTES)
		return -EINVAL;
	ret = wasmpool_create(&wp_pool, &cfg);
	if (ret)
		return ret;
	/* every thread runs with just its instance's stripe open */
	if (!wasmpool_guards_cover(&wp_pool, WASMPOOL_RT_REACH, WASMPOOL_REACH_OWN_STRIPE)) {
		fprintf(stderr, "wasm-rt-wasmpool: accesses fault only %llu bytes past a slot's start\n",
			(unsigned long long)wasmpool_guard_reach(&wp_pool,
								 WASMPOOL_REACH_OWN_STRIPE));
		ret = -EINVAL;
		goto destroy;
	}
	wp_striped = wp_pool.layout.num_stripes > 1;
	/* wasm2c's handler takes SEGV_PKUERR for stack exhaustion */
	if (wp_striped && c->stock_handler) {
		ret = -EINVAL;
		goto destroy;
	}
	wp_max_bytes = wp_pool.layout.max_memory_bytes < WASM_RT_MAX_BYTES ?
		       wp_pool.layout.max_memory_bytes : WASM_RT_MAX_BYTES;
	memset(&wp_stats, 0, sizeof(wp_stats));
	tls_pkru_set = false;
	if (!c->stock_handler) {
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSEGV, &sa, &wp_old_segv) ||
		    sigaction(SIGBUS, &sa, &wp_old_bus)) {
			ret = -errno;
			sigaction(SIGSEGV, &wp_old_segv, NULL);
			goto destroy;
		}
		wp_handler_installed = true;
	}
	return 0;

destroy:
	wasmpool_destroy(&wp_pool);
	return ret;
}

void wasmpool_rt_fini(void)
{
	if (wp_handler_installed) {
		sigaction(SIGSEGV, &wp_old_segv, NULL);
		sigaction(SIGBUS, &wp_old_bus, NULL);
		wp_handler_installed = false;
	}
	if (wp_pool.fd >= 0)
		wasmpool_destroy(&wp_pool);
	wp_striped = false;
	tls_slot = NO_SLOT;
	tls_pkru_set = false;
}

const struct wasmpool *wasmpool_rt_pool(void)
{
	return &wp_pool;
}

void wasmpool_rt_stats(struct wasmpool_rt_stats *stats)
{
	uint64_t *to = (uint64_t *)stats, *from = (uint64_t *)&wp_stats;
	size_t i;

	for (i = 0; i < sizeof(*stats) / sizeof(uint64_t); i++)
		to[i] = __atomic_load_n(&from[i], __ATOMIC_RELAXED);
}

int wasmpool_rt_thread_init(void)
{
	stack_t ss = { .ss_size = SIGSTKSZ > 65536 ? SIGSTKSZ : 65536 };

	ss.ss_sp = malloc(ss.ss_size);
	if (!ss.ss_sp)
		return -ENOMEM;
	if (sigaltstack(&ss, NULL)) {
		free(ss.ss_sp);
		return -errno;
	}
	tls_altstack = ss.ss_sp;
	return 0;
}

void wasmpool_rt_thread_fini(void)
{
	stack_t ss = { .ss_flags = SS_DISABLE };

	if (!tls_altstack)
		return;
	sigaltstack(&ss, NULL);
	free(tls_altstack);
	tls_altstack = NULL;
}

void wasmpool_rt_set_affinity(uint64_t key)
{
	tls_affinity = key;
}

const struct wasmpool_slot_alloc *wasmpool_rt_last_slot(void)
{
	return &tls_last;
}
