// SPDX-License-Identifier: GPL-2.0-only
/*
 * wasm2c_test: WebAssembly programs (the .wat files here, turned into C by wabt's
 * wasm2c) run on two runtimes, built from this one source:
 *
 *   wasm2c-stock          wabt's runtime as Debian ships it: each memory an
 *                         8 GiB PROT_NONE reservation. Prints a transcript:
 *                         one "key<TAB>result" line per call (a return
 *                         value, or the kind of the trap).
 *   wasm2c-pool STOCK.txt the same programs with their memories in a
 *                         wasmpool pool (wasm-rt-wasmpool.c): every result
 *                         is compared with the stock transcript's, and each
 *                         check prints one TAP line, "ok - ..." or
 *                         "not ok - ..." (and "# SKIP ..." when the CPU
 *                         lacks what it needs); other lines are details.
 *
 * The pool run adds what only a pool has: many instances one after the
 * other and from several threads (each result still compared with stock),
 * a next tenant in the same slot, accesses into another stripe's live slot,
 * and wasm2c's own SIGSEGV handler on a pool without stripes.
 *
 * Exit status: 0 when every check passed (or skipped), 1 otherwise.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "checksum.h"
#include "grow.h"
#include "secret.h"
#include "stack.h"
#include "tenant.h"
#include "zero.h"

#ifdef WASM2C_POOL
#include "wasm-rt-wasmpool.h"
#define TRY()		wasmpool_rt_try()
#define LEAVE()		wasmpool_rt_leave()
#define ENTER(mem)	wasmpool_rt_enter(mem)
#define POOL		1
#else
#include "wasm-rt-impl.h"
#define TRY()		wasm_rt_impl_try()
#define LEAVE()		((void)0)
#define ENTER(mem)	((void)(mem))
#define POOL		0
#endif

#define WASM_PAGE	65536u
#define SEEDS		8	/* tenants of the stock transcript */
#define SEQUENCE	300	/* instances one after the other */
#define THREADS		4
#define PER_THREAD	60

/* --- the modules: one export signature, (i32, i32, i32) -> i64 ------------ */

typedef u64 (*export_fn)(void *inst, u32 a, u32 b, u32 c);

struct export {
	const char *name;
	export_fn fn;
};

struct module {
	const char *name;
	size_t size;
	void (*init)(void);
	void (*instantiate)(void *inst);
	void (*free)(void *inst);
	wasm_rt_memory_t *(*mem)(void *inst);
	const struct export *exports;
};

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

/* --- instances and calls ---------------------------------------------------- */

struct inst {
	const struct module *m;
	void *p;
};

/* The outcome of a call: a trap, or a value. */
struct res {
	wasm_rt_trap_t trap;
	u64 v;
};

static const char *trap_name(wasm_rt_trap_t t)
{
	switch (t) {
	case WASM_RT_TRAP_NONE: return "none";
	case WASM_RT_TRAP_OOB: return "oob";
	case WASM_RT_TRAP_INT_OVERFLOW: return "int-overflow";
	case WASM_RT_TRAP_DIV_BY_ZERO: return "div-by-zero";
	case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid-conversion";
	case WASM_RT_TRAP_UNREACHABLE: return "unreachable";
	case WASM_RT_TRAP_CALL_INDIRECT: return "call-indirect";
	case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught-exception";
	case WASM_RT_TRAP_EXHAUSTION: return "exhaustion";
	}
	return "?";
}

/* "trap:KIND" or the value in hex */
static const char *fmt(struct res r, char buf[32])
{
	if (r.trap)
		snprintf(buf, 32, "trap:%s", trap_name(r.trap));
	else
		snprintf(buf, 32, "0x%" PRIx64, r.v);
	return buf;
}

static export_fn find(const struct module *m, const char *name)
{
	const struct export *e;

	for (e = m->exports; e->name; e++)
		if (!strcmp(e->name, name))
			return e->fn;
	fprintf(stderr, "wasm2c_test: %s has no export %s\n", m->name, name);
	exit(2);
}

/* Instantiate @m: the trap of the instantiation, if any. */
static wasm_rt_trap_t instantiate(struct inst *in, const struct module *m)
{
	wasm_rt_trap_t trap;

	in->m = m;
	in->p = calloc(1, m->size);
	if (!in->p) {
		perror("wasm2c_test: calloc");
		exit(2);
	}
	trap = TRY();
	if (trap == WASM_RT_TRAP_NONE) {
		m->instantiate(in->p);
		LEAVE();
	}
	return trap;
}

static void release(struct inst *in)
{
	in->m->free(in->p);
	free(in->p);
	in->p = NULL;
}

static wasm_rt_memory_t *memory(struct inst *in)
{
	return in->m->mem(in->p);
}

/* Call one export, on the calling thread (which enters the instance). */
static struct res call(struct inst *in, const char *fn, u32 a, u32 b, u32 c)
{
	export_fn f = find(in->m, fn);
	struct res r = { 0, 0 };

	ENTER(memory(in));
	r.trap = TRY();
	if (r.trap == WASM_RT_TRAP_NONE) {
		r.v = f(in->p, a, b, c);
		LEAVE();
	}
	return r;
}

/* --- results: printed by stock, compared by the pool ------------------------ */

struct line {
	char *key;
	char *value;
};

static struct line *stock;
static size_t nstock;
static int verbose;

/* The check that runs; results from any thread count in it. */
static struct {
	const char *name;
	double t0;
	long compared;
	long differ;
	int failed;
	char first[320];
	pthread_mutex_t lock;
} cur = { .lock = PTHREAD_MUTEX_INITIALIZER };
static int failures;

static int line_cmp(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->key, ((const struct line *)b)->key);
}

static void __attribute__((unused)) load_stock(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[512];
	size_t cap = 0;

	if (!f) {
		fprintf(stderr, "wasm2c_test: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (fgets(buf, sizeof(buf), f)) {
		char *tab = strchr(buf, '\t');

		if (buf[0] == '#' || !tab)
			continue;
		*tab = 0;
		tab[strcspn(tab + 1, "\n") + 1] = 0;
		if (nstock == cap) {
			cap = cap ? 2 * cap : 256;
			stock = realloc(stock, cap * sizeof(*stock));
			if (!stock)
				exit(2);
		}
		stock[nstock].key = strdup(buf);
		stock[nstock].value = strdup(tab + 1);
		nstock++;
	}
	fclose(f);
	qsort(stock, nstock, sizeof(*stock), line_cmp);
}

static const char *stock_value(const char *key)
{
	struct line k = { (char *)key, NULL }, *l;

	l = bsearch(&k, stock, nstock, sizeof(*stock), line_cmp);
	return l ? l->value : NULL;
}

/* A check of the pool run that is not a comparison went wrong. */
static void __attribute__((format(printf, 1, 2), unused)) problem(const char *fmt_, ...)
{
	va_list ap;

	pthread_mutex_lock(&cur.lock);
	if (!cur.failed++ && !cur.differ) {
		va_start(ap, fmt_);
		vsnprintf(cur.first, sizeof(cur.first), fmt_, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&cur.lock);
}

/*
 * The result of a call under @key (printf-style): stock prints it, the
 * pool compares it with stock's.
 */
static void __attribute__((format(printf, 2, 3)))
result(struct res r, const char *keyfmt, ...)
{
	char key[128], buf[32];
	const char *want, *got = fmt(r, buf);
	va_list ap;

	va_start(ap, keyfmt);
	vsnprintf(key, sizeof(key), keyfmt, ap);
	va_end(ap);
	if (!POOL) {
		printf("%s\t%s\n", key, got);
		return;
	}
	want = stock_value(key);
	__atomic_fetch_add(&cur.compared, 1, __ATOMIC_RELAXED);
	if (verbose)
		printf("  %s: pool %s, stock %s\n", key, got, want ? want : "(none)");
	if (want && !strcmp(want, got))
		return;
	pthread_mutex_lock(&cur.lock);
	if (!cur.differ++ && !cur.failed)
		snprintf(cur.first, sizeof(cur.first), "%s: pool %s, stock %s",
			 key, got, want ? want : "(no such result)");
	pthread_mutex_unlock(&cur.lock);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void begin(const char *name)
{
	cur.t0 = now();
	cur.name = name;
	cur.compared = cur.differ = 0;
	cur.failed = 0;
	cur.first[0] = 0;
}

/* The TAP line of the check that ran. */
static void end(const char *what)
{
	if (!POOL)
		return;
	if (cur.differ || cur.failed || !cur.compared) {
		failures++;
		printf("not ok - %s: %s", cur.name, what);
		if (cur.differ || cur.failed)
			printf(" # %ld of %ld results differ from stock's, %d other problem(s); first: %s\n",
			       cur.differ, cur.compared, cur.failed, cur.first);
		else
			printf(" # nothing compared\n");
	} else {
		printf("ok - %s: %s (%ld results equal stock's, %.1f s)\n", cur.name, what,
		       cur.compared, now() - cur.t0);
	}
	fflush(stdout);
}

static void __attribute__((unused)) skip(const char *name, const char *what, const char *why)
{
	printf("ok - %s: %s # SKIP %s\n", name, what, why);
}

/* --- the programs --------------------------------------------------------- */

static void check_checksum(void)
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

static void check_grow(void)
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
static void bounds_run(const char *prefix)
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

static void check_bounds(void)
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
static void tenant(u32 seed, uint64_t affinity)
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
		if (memory(&in)->data)
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

static void check_tenants(void)
{
	u32 s;

	begin("tenant");
	for (s = 0; s < SEEDS; s++)
		tenant(s, 0);
	end("a tenant: its memory starts zero, work, three out-of-bounds traps, its memory after them");
}

static void check_secret(void)
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
static void check_stack(void)
{
	struct inst in;

	begin("stack");
	result((struct res){ instantiate(&in, &stack_module), 0 }, "stack/instantiate");
	result(call(&in, "recurse", 0, 0, 0), "stack/recurse");
	result(call(&in, "echo", 42, 0, 0), "stack/echo");
	release(&in);
	end("a recursion without end traps as stock's: a fault outside the pool is passed on to wasm2c's handler");
}

#ifdef WASM2C_POOL
/* --- what only the pool run has -------------------------------------------- */

static void check_sequence(void)
{
	struct wasmpool_stats st;
	int i;

	begin("sequence");
	for (i = 0; i < SEQUENCE; i++)
		tenant(i % SEEDS, i % 3 ? 0 : 1 + i % SEEDS);
	if (wasmpool_stats((struct wasmpool *)wasmpool_rt_pool(), &st))
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
		tenant((u32)(t * PER_THREAD + i) % SEEDS, 0);
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
	if (!wasmpool_stats((struct wasmpool *)wasmpool_rt_pool(), &st) && st.slots_in_use)
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
	instantiate(&x, &bounds_module);
	/* a slot within wasm2c's reach of X, above it */
	while (n < 64) {
		if (instantiate(&y[n], &bounds_module))
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
		u32 a = delta > 0xffffffff ? (u32)(delta - 0xffffffff) : (u32)delta;
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

static int pool_main(const struct wasmpool_info *info)
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
	check_checksum();
	check_grow();
	check_bounds();
	check_secret();
	check_tenants();
	check_stack();
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
#endif /* WASM2C_POOL */

int main(int argc, char **argv)
{
	size_t i;
	int argi = 1;

	if (argi < argc && !strcmp(argv[argi], "-v")) {
		verbose = 1;
		argi++;
	}
	if (POOL && argi >= argc) {
		fprintf(stderr, "usage: wasm2c-pool [-v] STOCK-TRANSCRIPT\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	wasm_rt_init();
	/* registers function types: not thread-safe, so all of it here */
	for (i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		modules[i]->init();

#ifdef WASM2C_POOL
	{
		struct wasmpool_info info;
		int fd = wasmpool_open(0), ret;

		if (fd < 0) {
			printf("not ok - pool: %s: %s\n", WASMPOOL_DEVICE_PATH, strerror(-fd));
			return 1;
		}
		ret = wasmpool_info(fd, &info);
		close(fd);
		if (ret) {
			printf("not ok - pool: wasmpool_info: %s\n", strerror(-ret));
			return 1;
		}
		load_stock(argv[argi]);
		printf("  wasm2c programs on libwasmpool, compared with %zu results of wabt's stock runtime\n",
		       nstock);
		if (pool_main(&info))
			failures++;
	}
#else
	printf("# wasm2c programs on wabt's stock runtime: key, result\n");
	check_checksum();
	check_grow();
	check_bounds();
	check_secret();
	check_tenants();
	check_stack();
#endif
	wasm_rt_free();
	return failures ? 1 : 0;
}
