// SPDX-License-Identifier: GPL-2.0-only
/*
 * wasm2c_programs: the checks of the programs, the same in both builds:
 * each call's result goes to result(), which wasm2c-stock prints and
 * wasm2c-pool compares with stock's.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bounds.h"
#include "checksum.h"
#include "grow.h"
#include "secret.h"
#include "stack.h"
#include "tenant.h"
#include "zero.h"
#include "wasm2c_test.h"

/* --- the modules: every export (i32, i32, i32) -> i64 --------------------- */

#define EXPORT(m, e)							\
	static u64 m##_##e(void *i, u32 a, u32 b, u32 c)		\
	{								\
		return Z_##m##Z_##e(i, a, b, c);			\
	}
#define MODULE(m, ...)							\
	static void m##_instantiate(void *i) { Z_##m##_instantiate(i); } \
	static void m##_free(void *i) { Z_##m##_free(i); }		\
	static wasm_rt_memory_t *m##_mem(void *i) { return Z_##m##Z_mem(i); } \
	static const struct export m##_exports[] = { __VA_ARGS__, { NULL, NULL } }; \
	static const struct module m##_module = {			\
		#m, sizeof(Z_##m##_instance_t), Z_##m##_init_module,	\
		m##_instantiate, m##_free, m##_mem, m##_exports,	\
	}
#define E(m, e)	{ #e, m##_##e }

EXPORT(checksum, fnv) EXPORT(checksum, scramble) EXPORT(checksum, wide)
EXPORT(checksum, grow) EXPORT(checksum, size)
MODULE(checksum, E(checksum, fnv), E(checksum, scramble), E(checksum, wide),
       E(checksum, grow), E(checksum, size));

EXPORT(grow, grow) EXPORT(grow, size) EXPORT(grow, stamp) EXPORT(grow, marks)
EXPORT(grow, ld8) EXPORT(grow, st8)
MODULE(grow, E(grow, grow), E(grow, size), E(grow, stamp), E(grow, marks),
       E(grow, ld8), E(grow, st8));

EXPORT(bounds, ld8) EXPORT(bounds, ld16) EXPORT(bounds, ld32) EXPORT(bounds, ld64)
EXPORT(bounds, ld8_o1) EXPORT(bounds, ld32_o64k) EXPORT(bounds, ld64_o2g)
EXPORT(bounds, ld8_omax) EXPORT(bounds, ld64_omax)
EXPORT(bounds, st8) EXPORT(bounds, st16) EXPORT(bounds, st32) EXPORT(bounds, st64)
EXPORT(bounds, st32_o64k) EXPORT(bounds, st8_omax) EXPORT(bounds, st64_omax)
EXPORT(bounds, fill) EXPORT(bounds, copy) EXPORT(bounds, grow) EXPORT(bounds, size)
EXPORT(bounds, sum)
MODULE(bounds, E(bounds, ld8), E(bounds, ld16), E(bounds, ld32), E(bounds, ld64),
       E(bounds, ld8_o1), E(bounds, ld32_o64k), E(bounds, ld64_o2g),
       E(bounds, ld8_omax), E(bounds, ld64_omax),
       E(bounds, st8), E(bounds, st16), E(bounds, st32), E(bounds, st64),
       E(bounds, st32_o64k), E(bounds, st8_omax), E(bounds, st64_omax),
       E(bounds, fill), E(bounds, copy), E(bounds, grow), E(bounds, size),
       E(bounds, sum));

EXPORT(zero, ld8) EXPORT(zero, ld64) EXPORT(zero, ld64_omax) EXPORT(zero, st8)
EXPORT(zero, fill) EXPORT(zero, grow) EXPORT(zero, size)
MODULE(zero, E(zero, ld8), E(zero, ld64), E(zero, ld64_omax), E(zero, st8),
       E(zero, fill), E(zero, grow), E(zero, size));

EXPORT(secret, leave) EXPORT(secret, scan)
MODULE(secret, E(secret, leave), E(secret, scan));

EXPORT(tenant, fresh) EXPORT(tenant, work) EXPORT(tenant, sum) EXPORT(tenant, oob)
MODULE(tenant, E(tenant, fresh), E(tenant, work), E(tenant, sum), E(tenant, oob));

EXPORT(stack, recurse) EXPORT(stack, echo)
MODULE(stack, E(stack, recurse), E(stack, echo));

static const struct module *const modules[] = {
	&checksum_module, &grow_module, &bounds_module, &zero_module,
	&secret_module, &tenant_module, &stack_module,
};

const struct module *module_named(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		if (!strcmp(modules[i]->name, name))
			return modules[i];
	return NULL;
}

/* Function types are registered here: not thread-safe, so all at once. */
void init_modules(void)
{
	size_t i;

	for (i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		modules[i]->init();
}

/* --- the programs --------------------------------------------------------- */

void check_checksum(void)
{
	struct inst in;
	u32 len = WASM_PAGE;

	begin("checksum");
	result((struct res){ instantiate(&in, &checksum_module), 0 }, "checksum/instantiate");
	result(call(&in, "fnv", 0, len, 0), "checksum/fnv.data");
	result(call(&in, "wide", len, 0, 0), "checksum/wide.data");
	result(call(&in, "scramble", 1, len, 0), "checksum/scramble.1");
	result(call(&in, "fnv", 0, len, 0), "checksum/fnv.1");
	result(call(&in, "wide", len, 0, 0), "checksum/wide.1");
	result(call(&in, "grow", 3, 0, 0), "checksum/grow.3");
	result(call(&in, "size", 0, 0, 0), "checksum/size");
	result(call(&in, "fnv", len, 3 * len, 0), "checksum/fnv.grown");
	result(call(&in, "scramble", 0xdeadbeef, 4 * len, 0), "checksum/scramble.2");
	result(call(&in, "fnv", 0, 4 * len, 0), "checksum/fnv.2");
	result(call(&in, "wide", 4 * len, 0, 0), "checksum/wide.2");
	release(&in);
	end("FNV-1a, stores and loads of every width over memory, data segments, after memory.grow");
}

void check_grow(void)
{
	struct inst in;
	struct res r;
	int i;

	begin("grow");
	result((struct res){ instantiate(&in, &grow_module), 0 }, "grow/instantiate");
	result(call(&in, "stamp", 0, 0, 0), "grow/stamp.0");
	for (i = 1; i <= 34; i++) {
		r = call(&in, "grow", 1, 0, 0);
		result(r, "grow/grow1.%d", i);
		if (!r.trap && r.v != (u64)-1)
			result(call(&in, "stamp", (u32)r.v, 0, 0), "grow/stamp.%d", i);
	}
	result(call(&in, "size", 0, 0, 0), "grow/size");
	result(call(&in, "grow", 0, 0, 0), "grow/grow0");
	result(call(&in, "grow", 0x10000, 0, 0), "grow/grow64k");
	result(call(&in, "grow", 0xffffffff, 0, 0), "grow/grow-1");
	result(call(&in, "marks", 0, 0, 0), "grow/marks");
	result(call(&in, "ld8", 32 * WASM_PAGE - 1, 0, 0), "grow/ld8.last");
	result(call(&in, "st8", 32 * WASM_PAGE - 1, 0x77, 0), "grow/st8.last");
	result(call(&in, "ld8", 32 * WASM_PAGE - 1, 0, 0), "grow/ld8.last2");
	result(call(&in, "ld8", 32 * WASM_PAGE, 0, 0), "grow/ld8.above");
	result(call(&in, "st8", 32 * WASM_PAGE, 1, 0), "grow/st8.above");
	result(call(&in, "ld8", 0x7fffffff, 0, 0), "grow/ld8.2g");
	result(call(&in, "marks", 0, 0, 0), "grow/marks2");
	release(&in);

	/* a second instance grows by 31 pages at once */
	result((struct res){ instantiate(&in, &grow_module), 0 }, "grow/b.instantiate");
	result(call(&in, "grow", 31, 0, 0), "grow/b.grow31");
	result(call(&in, "grow", 1, 0, 0), "grow/b.grow1");
	result(call(&in, "marks", 0, 0, 0), "grow/b.marks");
	result(call(&in, "ld8", 32 * WASM_PAGE - 1, 0, 0), "grow/b.ld8.last");
	result(call(&in, "ld8", 32 * WASM_PAGE, 0, 0), "grow/b.ld8.above");
	release(&in);
	end("memory.grow page by page up to the maximum and past it, marks in every page");
}

/*
 * The accesses of check_bounds(), at each size: an export and its
 * arguments; the address relative to the memory's size (S) or absolute (A).
 */
enum { A, S };
static const struct access {
	const char *fn;
	int rel;
	int64_t a;
	u32 b, c;
} accesses[] = {
#define LD(fn, rel, a)		{ fn, rel, a, 0, 0 }
#define ST(fn, rel, a, v)	{ fn, rel, a, v, 0 }
#define BULK(fn, rel, a, b, n)	{ fn, rel, a, b, n }
	/* loads: at the end, across it, above it, above the maximum */
	LD("ld8", S, -1), LD("ld8", S, 0), LD("ld8", S, 1), LD("ld8", S, 4095),
	LD("ld8", S, 4096), LD("ld8", S, 65535), LD("ld8", A, 4 * 65536),
	LD("ld8", A, 0x10000000), LD("ld8", A, 0x7fffffff), LD("ld8", A, 0x80000000),
	LD("ld8", A, 0xffffffff),
	LD("ld16", S, -2), LD("ld16", S, -1),
	LD("ld32", S, -4), LD("ld32", S, -3), LD("ld32", S, -1),
	LD("ld64", S, -8), LD("ld64", S, -7), LD("ld64", S, -1), LD("ld64", S, 0),
	LD("ld8_o1", S, -2), LD("ld8_o1", S, -1),
	LD("ld32_o64k", S, -65540), LD("ld32_o64k", S, -65538), LD("ld32_o64k", S, -65536),
	/* offsets: 2 GiB - 1, 4 GiB - 1: up to 8 GiB - 2 past the memory */
	LD("ld64_o2g", A, 0), LD("ld64_o2g", A, 0x80000000), LD("ld64_o2g", A, 0xffffffff),
	LD("ld8_omax", A, 0), LD("ld8_omax", A, 1), LD("ld8_omax", A, 0xffffffff),
	LD("ld64_omax", A, 0), LD("ld64_omax", A, 0xfffffff8), LD("ld64_omax", A, 0xffffffff),
	/* stores, each followed by sum(): what it left */
	ST("st8", S, -1, 0x11), ST("st8", S, 0, 0x12), ST("st8", A, 0xffffffff, 0x13),
	ST("st16", S, -2, 0x2122), ST("st16", S, -1, 0x2324),
	ST("st32", S, -4, 0x31323334), ST("st32", S, -2, 0x35363738),
	ST("st64", S, -8, 0x41424344), ST("st64", S, -4, 0x45464748),
	ST("st64", S, -1, 0x494a4b4c),
	ST("st32_o64k", S, -65540, 0x51525354), ST("st32_o64k", S, -65537, 0x55565758),
	ST("st8_omax", A, 0, 0x61), ST("st8_omax", A, 0xffffffff, 0x62),
	ST("st64_omax", A, 0xffffffff, 0x63),
	/* memory.fill and memory.copy: wasm2c checks them before it writes */
	BULK("fill", S, -16, 0xaa, 16), BULK("fill", S, -16, 0x55, 17),
	BULK("fill", S, 0, 0, 0), BULK("fill", S, 1, 0, 0), BULK("fill", S, -1, 0x77, 2),
	BULK("fill", A, 0xffffffff, 1, 2),
	BULK("copy", S, -8, 0, 16), BULK("copy", A, 0, 0 /* size - 8 */, 16),
	BULK("copy", S, -16, 0, 16), BULK("copy", S, 0, 0, 0),
#undef LD
#undef ST
#undef BULK
};

static void bounds_at(struct inst *in, const char *tag, u32 size)
{
	size_t i;

	for (i = 0; i < sizeof(accesses) / sizeof(accesses[0]); i++) {
		const struct access *x = &accesses[i];
		u32 a = (u32)(x->rel ? size + x->a : x->a);
		u32 b = x->b;

		if (!strcmp(x->fn, "copy") && !x->rel)
			b = size - 8;
		result(call(in, x->fn, a, b, x->c), "%s/%s@%s%+" PRId64 ",%u,%u", tag, x->fn,
		       x->rel ? "S" : "", x->a, b, x->c);
		if (x->fn[0] != 'l')
			result(call(in, "sum", 0, 0, 0), "%s/%s@%s%+" PRId64 ",%u,%u:sum", tag,
			       x->fn, x->rel ? "S" : "", x->a, b, x->c);
	}
}

/* The bounds program at 1, 2 and 4 pages (its maximum), under @prefix. */
void bounds_run(const char *prefix)
{
	static const u32 grows[] = { 0, 1, 2, 1 };
	struct inst in;
	char tag[64];
	size_t i;
	u32 pages = 1;

	result((struct res){ instantiate(&in, &bounds_module), 0 }, "%s/instantiate", prefix);
	result(call(&in, "fill", 0, 0x3c, WASM_PAGE), "%s/fill.all", prefix);
	for (i = 0; i < sizeof(grows) / sizeof(grows[0]); i++) {
		if (grows[i]) {
			struct res r = call(&in, "grow", grows[i], 0, 0);

			result(r, "%s/grow%zu", prefix, i);
			if (!r.trap && r.v != (u64)-1)
				pages += grows[i];
			/* the memory before the grow, and the first word after it */
			result(call(&in, "sum", 0, 0, 0), "%s/grow%zu:sum", prefix, i);
			result(call(&in, "ld64", (u32)r.v * WASM_PAGE, 0, 0), "%s/grow%zu:new",
			       prefix, i);
		}
		snprintf(tag, sizeof(tag), "%s/%up.%zu", prefix, pages, i);
		bounds_at(&in, tag, pages * WASM_PAGE);
	}
	release(&in);

	/* a memory of 0 pages */
	result((struct res){ instantiate(&in, &zero_module), 0 }, "%s/zero.instantiate", prefix);
	result(call(&in, "size", 0, 0, 0), "%s/zero.size", prefix);
	result(call(&in, "ld8", 0, 0, 0), "%s/zero.ld8@0", prefix);
	result(call(&in, "ld64", 0, 0, 0), "%s/zero.ld64@0", prefix);
	result(call(&in, "ld8", 4096, 0, 0), "%s/zero.ld8@4096", prefix);
	result(call(&in, "ld8", 0xffffffff, 0, 0), "%s/zero.ld8@-1", prefix);
	result(call(&in, "ld64_omax", 0xffffffff, 0, 0), "%s/zero.ld64_omax@-1", prefix);
	result(call(&in, "st8", 0, 1, 0), "%s/zero.st8@0", prefix);
	result(call(&in, "fill", 0, 0, 0), "%s/zero.fill0@0", prefix);
	result(call(&in, "fill", 0, 1, 1), "%s/zero.fill1@0", prefix);
	result(call(&in, "fill", 1, 0, 0), "%s/zero.fill0@1", prefix);
	result(call(&in, "grow", 0, 0, 0), "%s/zero.grow0", prefix);
	result(call(&in, "grow", 2, 0, 0), "%s/zero.grow2", prefix);
	result(call(&in, "grow", 1, 0, 0), "%s/zero.grow1", prefix);
	result(call(&in, "ld8", 0, 0, 0), "%s/zero.ld8@0.grown", prefix);
	result(call(&in, "st8", 65535, 7, 0), "%s/zero.st8@65535", prefix);
	result(call(&in, "ld8", 65535, 0, 0), "%s/zero.ld8@65535", prefix);
	result(call(&in, "ld8", 65536, 0, 0), "%s/zero.ld8@65536", prefix);
	result(call(&in, "grow", 1, 0, 0), "%s/zero.grow1.max", prefix);
	release(&in);
}

void check_bounds(void)
{
	begin("bounds");
	bounds_run("bounds");
	end("loads, stores, memory.fill/copy at and across the end, above the maximum, at 4 GiB - 1 + offsets, at 1, 2 and 4 pages, and a 0-page memory: values, trap kinds and the memory a trap left");
}

/*
 * The host sums an instance's memory itself, as an embedder reads what a
 * guest left (its output) after a call - here after a trap, which must
 * have left the thread's PKRU open to the instance's stripe.
 */
static struct res host_sum(struct inst *in)
{
	wasm_rt_memory_t *m = memory(in);
	struct res r = { 0, 0 };
	uint32_t i;
	u64 w;

#ifdef WASM2C_POOL
	const struct wasmpool *pool = wasmpool_rt_pool();

	if (pool->layout.num_stripes > 1) {
		uint32_t key = pool->stripe_pkeys[wasmpool_rt_slot(m) % pool->layout.num_stripes];

		if (wasmpool_pkru_read() & (3u << (2 * key))) {
			problem("after a trap the thread's PKRU (0x%x) denies its instance's key %u",
				wasmpool_pkru_read(), key);
			r.trap = WASM_RT_TRAP_OOB;
			return r;
		}
	}
#endif
	for (i = 0; i + 8 <= m->size; i += 8) {
		memcpy(&w, m->data + i, 8);
		r.v = ((r.v << 7) | (r.v >> 57)) + w;
	}
	return r;
}

/* One tenant's life; its results under tenant/SEED. */
void tenant(u32 seed, uint64_t affinity)
{
	struct inst in;
	struct res r;

#ifdef WASM2C_POOL
	wasmpool_rt_set_affinity(affinity);
#else
	(void)affinity;
#endif
	r.v = 0;
	r.trap = instantiate(&in, &tenant_module);
	result(r, "tenant/%u.instantiate", seed);
	if (r.trap) {
		/* both runtimes' free take a memory that was never allocated */
		release(&in);
		return;
	}
	result(call(&in, "fresh", 0, 0, 0), "tenant/%u.fresh", seed);
	result(call(&in, "work", seed, 0, 0), "tenant/%u.work", seed);
	result(call(&in, "oob", 0, 0, 0), "tenant/%u.oob0", seed);
	result(call(&in, "oob", 1, 0, 0), "tenant/%u.oob1", seed);
	result(call(&in, "oob", 2, 0, 0), "tenant/%u.oob2", seed);
	result(host_sum(&in), "tenant/%u.host", seed);
	result(call(&in, "sum", 0, 0, 0), "tenant/%u.sum", seed);
	release(&in);
}

void check_tenants(void)
{
	u32 s;

	begin("tenant");
	for (s = 0; s < SEEDS; s++)
		tenant(s, 0);
	end("a tenant: its memory starts zero, work, three out-of-bounds traps, its memory after them");
}

void check_secret(void)
{
	struct inst in;
	uint32_t slot = 0;

	begin("secret");
#ifdef WASM2C_POOL
	wasmpool_rt_set_affinity(0x5ec2e7);
#endif
	result((struct res){ instantiate(&in, &secret_module), 0 }, "secret/a.instantiate");
	result(call(&in, "leave", 0x5a, 0, 0), "secret/a.leave");
#ifdef WASM2C_POOL
	slot = wasmpool_rt_slot(memory(&in));
#endif
	release(&in);
	result((struct res){ instantiate(&in, &secret_module), 0 }, "secret/b.instantiate");
#ifdef WASM2C_POOL
	if (wasmpool_rt_slot(memory(&in)) != slot)
		problem("the next tenant got slot %u, not the first one's %u: nothing shown",
			wasmpool_rt_slot(memory(&in)), slot);
	else if (wasmpool_rt_last_slot()->reuse != WASMPOOL_SLOT_WARM_HIT)
		problem("the next tenant's slot is not a warm hit (reuse %u)",
			wasmpool_rt_last_slot()->reuse);
	wasmpool_rt_set_affinity(0);
#endif
	result(call(&in, "scan", 0, 0, 0), "secret/b.scan");
	release(&in);
	(void)slot;
	end("the next tenant of the same slot (affinity, warm) finds only zeroes, 2 MiB in");
}

/*
 * On the main thread, whose stack ends in a gap without a mapping: the
 * fault there is wasm2c's to judge (stack exhaustion), not the pool's.
 */
void check_stack(void)
{
	struct inst in;

	begin("stack");
	result((struct res){ instantiate(&in, &stack_module), 0 }, "stack/instantiate");
	result(call(&in, "recurse", 0, 0, 0), "stack/recurse");
	result(call(&in, "echo", 42, 0, 0), "stack/echo");
	release(&in);
	end("a recursion without end traps as stock's: a fault outside the pool is passed on to wasm2c's handler");
}

/* The checks both runtimes run, in the order the stock transcript has. */
void check_programs(void)
{
	check_checksum();
	check_grow();
	check_bounds();
	check_secret();
	check_tenants();
	check_stack();
}
