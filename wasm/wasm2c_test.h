/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wasm2c_test: what its three files share - the harness (wasm2c_test.c:
 * instances, calls, results and their comparison, TAP lines, main), the
 * checks of the programs (wasm2c_programs.c, in both builds) and the checks
 * only a pool has (wasm2c_pool.c, in wasm2c-pool).
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef WASM2C_TEST_H
#define WASM2C_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "wasm-rt.h"

#ifdef WASM2C_POOL
#include "wasm-rt-wasmpool.h"
#define POOL		1
#else
#define POOL		0
#endif

#define WASM_PAGE	65536u
#define SEEDS		8	/* tenants of the stock transcript */

/* The modules: one export signature, (i32, i32, i32) -> i64. */
typedef uint64_t (*export_fn)(void *inst, uint32_t a, uint32_t b, uint32_t c);

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

struct inst {
	const struct module *m;
	void *p;
};

/* The outcome of a call: a trap, or a value. */
struct res {
	wasm_rt_trap_t trap;
	uint64_t v;
};

/* wasm2c_test.c */
wasm_rt_trap_t instantiate(struct inst *in, const struct module *m);
void release(struct inst *in);
wasm_rt_memory_t *memory(struct inst *in);
struct res call(struct inst *in, const char *fn, uint32_t a, uint32_t b, uint32_t c);
void __attribute__((format(printf, 2, 3))) result(struct res r, const char *keyfmt, ...);
void __attribute__((format(printf, 1, 2))) problem(const char *fmt, ...);
void begin(const char *name);
void end(const char *what);
void skip(const char *name, const char *what, const char *why);
double now(void);

/* wasm2c_programs.c */
const struct module *module_named(const char *name);
void init_modules(void);
void check_checksum(void);
void check_grow(void);
void check_bounds(void);
void check_secret(void);
void check_tenants(void);
void check_stack(void);
void check_programs(void);
void bounds_run(const char *prefix);
void tenant(uint32_t seed, uint64_t affinity);

#ifdef WASM2C_POOL
/* wasm2c_pool.c */
int pool_main(const struct wasmpool_info *info);
#endif

#endif /* WASM2C_TEST_H */
