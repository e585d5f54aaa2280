// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_layout: libFuzzer target for kmod/layout.c. The input's first 48
 * bytes are the six inputs of the layout (missing bytes are zero); every
 * result must agree with the 128-bit oracle and keep the invariants.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t v[6] = { 0 };
	struct wp_layout_in in;
	struct wp_layout l, o;
	const char *why = NULL;
	int ret, oret;

	memcpy(v, data, size < sizeof(v) ? size : sizeof(v));
	in.max_memory_bytes = v[0];
	in.num_slots = v[1];
	in.reservation_bytes = v[2];
	in.num_pkeys = v[3];
	in.guard_bytes = v[4];
	in.guard_before_slots = v[5];

	ret = wp_layout_compute(&in, &l);
	oret = oracle(&in, &o);
	if (ret != oret)
		why = "errno differs from the oracle";
	else if (!ret && memcmp(&l, &o, sizeof(l)))
		why = "layout differs from the oracle";
	else if (!ret)
		why = check_invariants(&in, &l);
	if (why) {
		fprintf(stderr, "fuzz_layout: %s: %llu %llu %llu %llu %llu %llu\n", why,
			(unsigned long long)v[0], (unsigned long long)v[1],
			(unsigned long long)v[2], (unsigned long long)v[3],
			(unsigned long long)v[4], (unsigned long long)v[5]);
		abort();
	}
	return 0;
}
