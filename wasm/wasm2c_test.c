// SPDX-License-Identifier: GPL-2.0-only
/*
 * wasm2c_test: WebAssembly programs (the .wat files here, turned into C by
 * wabt's wasm2c) run on two runtimes, built from the same sources:
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
 *                         -v prints every comparison.
 *
 * This file is the harness: instances, calls, results and their
 * comparison, the TAP lines. The checks: wasm2c_programs.c (both
 * runtimes), wasm2c_pool.c (what only a pool has: many instances one after
 * the other and from several threads, accesses into another stripe's live
 * slot, wasm2c's own SIGSEGV handler on a pool without stripes).
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

#include "wasm2c_test.h"

#ifdef WASM2C_POOL
#define TRY()		wasmpool_rt_try()
#define LEAVE()		wasmpool_rt_leave()
#define ENTER(mem)	wasmpool_rt_enter(mem)
#else
#include "wasm-rt-impl.h"
#define TRY()		wasm_rt_impl_try()
#define LEAVE()		((void)0)
#define ENTER(mem)	((void)(mem))
#endif

/* --- instances and calls ---------------------------------------------------- */

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
wasm_rt_trap_t instantiate(struct inst *in, const struct module *m)
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

void release(struct inst *in)
{
	in->m->free(in->p);
	free(in->p);
	in->p = NULL;
}

wasm_rt_memory_t *memory(struct inst *in)
{
	return in->m->mem(in->p);
}

/* Call one export, on the calling thread (which enters the instance). */
struct res call(struct inst *in, const char *fn, uint32_t a, uint32_t b, uint32_t c)
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
void problem(const char *fmt_, ...)
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
void result(struct res r, const char *keyfmt, ...)
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

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void begin(const char *name)
{
	cur.t0 = now();
	cur.name = name;
	cur.compared = cur.differ = 0;
	cur.failed = 0;
	cur.first[0] = 0;
}

/* The TAP line of the check that ran. */
void end(const char *what)
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

void skip(const char *name, const char *what, const char *why)
{
	printf("ok - %s: %s # SKIP %s\n", name, what, why);
}

int main(int argc, char **argv)
{
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
	init_modules();

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
	check_programs();
#endif
	wasm_rt_free();
	return failures ? 1 : 0;
}
