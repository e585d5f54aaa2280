/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The few kernel helpers layout.c uses, for its userspace builds (library,
 * CLI, unit tests, fuzzer). The kernel build uses the real ones.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef _WASMPOOL_LAYOUT_USER_H
#define _WASMPOOL_LAYOUT_USER_H

#include <stdbool.h>
#include <linux/types.h>

#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)
#define check_mul_overflow(a, b, d)	__builtin_mul_overflow(a, b, d)

static inline __u64 wp_min_u64(__u64 a, __u64 b)
{
	return a < b ? a : b;
}

static inline __u64 wp_max_u64(__u64 a, __u64 b)
{
	return a > b ? a : b;
}

#define min3(a, b, c)	wp_min_u64(wp_min_u64(a, b), c)
#define max(a, b)	wp_max_u64(a, b)

#endif /* _WASMPOOL_LAYOUT_USER_H */
