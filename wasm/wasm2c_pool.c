// SPDX-License-Identifier: GPL-2.0-only
/*
 * wasm2c_pool: the checks only a pool has (wasm2c-pool): many tenants one
 * after the other and from several threads, each result still compared
 * with stock's; accesses into another stripe's live slot; and wasm2c's own
 * SIGSEGV handler, alone, on a pool without stripes.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "wasm2c_test.h"

#define SEQUENCE	300	/* tenants one after the other */
#define THREADS		4
#define PER_THREAD	60

static void check_sequence(void)
{
	struct wasmpool_stats st;
	int i;

	begin("sequence");
	for (i = 0; i < SEQUENCE; i++)
		tenant(i % SEEDS, i % 3 ? 0 : 1 + i % SEEDS);
	if (wasmpool_stats(wasmpool_rt_pool(), &st))
		problem("wasmpool_stats failed");
	else if (st.slots_in_use)
		problem("%llu slots in use after the last tenant", (unsigned long long)st.slots_in_use);
	end("300 tenants one after the other (a third with an affinity key), each equal to stock's");
}

static void *tenant_thread(void *arg)
{
	long t = (long)arg;
	int i, ret;

	ret = wasmpool_rt_thread_init();
	if (ret) {
		problem("thread %ld: wasmpool_rt_thread_init: %s", t, strerror(-ret));
		return NULL;
	}
	for (i = 0; i < PER_THREAD; i++)
		tenant((uint32_t)(t * PER_THREAD + i) % SEEDS, 0);
	wasmpool_rt_thread_fini();
	return NULL;
}

static void check_threads(void)
{
	pthread_t th[THREADS];
	struct wasmpool_stats st;
	long t;

	begin("threads");
	for (t = 0; t < THREADS; t++)
		if (pthread_create(&th[t], NULL, tenant_thread, (void *)t))
			problem("pthread_create failed");
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	if (!wasmpool_stats(wasmpool_rt_pool(), &st) && st.slots_in_use)
		problem("%llu slots in use after the threads", (unsigned long long)st.slots_in_use);
	end("4 threads x 60 tenants at once, each equal to stock's");
}

/*
 * From instance X, a load and a store at the address of a live slot Y of
 * another stripe: only Y's protection key stands between them. They must
 * trap as an access above the memory traps under stock, and leave Y alone.
 */
static void check_stripes(const struct wasmpool_info *info)
{
	static const char what[] = "an access into a live slot of another stripe traps (SEGV_PKUERR) as stock traps an access above the memory, and leaves it alone";
	const struct wasmpool *pool = wasmpool_rt_pool();
	const struct module *bounds = module_named("bounds");
	struct inst x, y[64];
	struct wasmpool_rt_stats before, after;
	uint64_t delta = 0;
	struct res r, ry;
	int n = 0, i;

	if (!(info->features & WASMPOOL_FEATURE_PKEYS)) {
		skip("stripes", what, "no protection keys on this CPU (WASMPOOL_FEATURE_PKEYS)");
		return;
	}
	if (pool->layout.num_stripes < 2) {
		skip("stripes", what, "the pool got no stripes (no protection key free)");
		return;
	}
	begin("stripes");
	instantiate(&x, bounds);
	/* a slot within wasm2c's reach of X, above it */
	while (n < 64) {
		if (instantiate(&y[n], bounds))
			break;
		delta = (uint64_t)(memory(&y[n])->data - memory(&x)->data);
		n++;
		if (memory(&y[n - 1])->data > memory(&x)->data &&
		    delta + 8 <= 0x1fffffffeULL)
			break;
		delta = 0;
	}
	if (!delta) {
		problem("no slot within 8 GiB above slot %u", wasmpool_rt_slot(memory(&x)));
	} else {
		struct inst *v = &y[n - 1];
		uint32_t a = delta > 0xffffffff ? (uint32_t)(delta - 0xffffffff) : (uint32_t)delta;
		const char *ld = delta > 0xffffffff ? "ld8_omax" : "ld8";
		const char *st = delta > 0xffffffff ? "st8_omax" : "st8";

		printf("  stripes: X in slot %u (stripe %u), Y in slot %u (stripe %u), %llu bytes above\n",
		       wasmpool_rt_slot(memory(&x)),
		       wasmpool_rt_slot(memory(&x)) % pool->layout.num_stripes,
		       wasmpool_rt_slot(memory(v)),
		       wasmpool_rt_slot(memory(v)) % pool->layout.num_stripes,
		       (unsigned long long)delta);
		call(v, "st64", 0, 0x5a5a5a5a, 0);
		ry = call(v, "ld64", 0, 0, 0);
		wasmpool_rt_stats(&before);
		r = call(&x, ld, a, 0, 0);
		result(r, "bounds/4p.3/ld8@+262144,0,0");
		r = call(&x, st, a, 0xee, 0);
		result(r, "bounds/4p.3/st8@S+0,18,0");
		wasmpool_rt_stats(&after);
		if (after.pkuerr - before.pkuerr != 2)
			problem("%llu of the 2 traps came with SEGV_PKUERR",
				(unsigned long long)(after.pkuerr - before.pkuerr));
		r = call(v, "ld64", 0, 0, 0);
		if (r.trap || r.v != ry.v)
			problem("Y's first word changed: 0x%llx, was 0x%llx",
				(unsigned long long)r.v, (unsigned long long)ry.v);
	}
	for (i = 0; i < n; i++)
		release(&y[i]);
	release(&x);
	end(what);
}

static const struct wasmpool_rt_config pool_config = {
	.max_memory_bytes = 64 << 20,		/* memories up to 64 MiB */
	.num_slots = 64,
	.keep_resident_bytes = 1 << 20,
	.pkey_mode = WASMPOOL_PKEYS_AUTO,
};

static void print_pool(const char *what)
{
	const struct wasmpool_layout *l = &wasmpool_rt_pool()->layout;

	printf("  %s: %llu slots of %llu MiB memories, %llu MiB apart, %u stripe(s), %llu GiB in all\n",
	       what, (unsigned long long)l->num_slots,
	       (unsigned long long)l->max_memory_bytes >> 20,
	       (unsigned long long)l->slot_bytes >> 20, l->num_stripes,
	       (unsigned long long)l->total_bytes >> 30);
}

static void print_traps(void)
{
	struct wasmpool_rt_stats s;

	wasmpool_rt_stats(&s);
	printf("  %llu memories, %llu grows; faults made traps: %llu above a memory's size, %llu in a slot's guard, %llu past the slab, %llu in another stripe (%llu with SEGV_PKUERR), %llu at the resident limit\n",
	       (unsigned long long)s.memories, (unsigned long long)s.grows,
	       (unsigned long long)s.traps[WASMPOOL_FAULT_SLOT_MEMORY],
	       (unsigned long long)s.traps[WASMPOOL_FAULT_SLOT_GUARD],
	       (unsigned long long)s.traps[WASMPOOL_FAULT_POST_GUARD],
	       (unsigned long long)s.traps[WASMPOOL_FAULT_OTHER_STRIPE],
	       (unsigned long long)s.pkuerr,
	       (unsigned long long)s.traps[WASMPOOL_FAULT_RESIDENT_LIMIT]);
}

int pool_main(const struct wasmpool_info *info)
{
	struct wasmpool_rt_config stock_cfg = pool_config;
	double t0 = now();
	int ret;

	ret = wasmpool_rt_init(&pool_config);
	if (ret) {
		printf("not ok - pool: wasmpool_rt_init: %s\n", strerror(-ret));
		return 1;
	}
	print_pool("pool");
	check_programs();
	check_sequence();
	check_threads();
	check_stripes(info);
	print_traps();
	wasmpool_rt_fini();

	/* wasm2c's own handler, alone, on a pool without stripes */
	stock_cfg.pkey_mode = WASMPOOL_PKEYS_OFF;
	stock_cfg.num_slots = 4;
	stock_cfg.stock_handler = true;
	ret = wasmpool_rt_init(&stock_cfg);
	if (ret) {
		printf("not ok - stock-handler: wasmpool_rt_init: %s\n", strerror(-ret));
		return 1;
	}
	print_pool("pool for wasm2c's own handler");
	begin("stock-handler");
	bounds_run("bounds");
	end("wasm2c's own SIGSEGV handler alone on a pool without stripes: the guard faults (SEGV_ACCERR) trap out of bounds as under stock");
	wasmpool_rt_fini();
	printf("  the pool run took %.1f s\n", now() - t0);
	return 0;
}
