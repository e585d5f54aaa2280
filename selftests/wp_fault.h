/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fault injection for the wasmpool selftests that use it. Include after
 * wp_test.h.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef WP_FAULT_H
#define WP_FAULT_H

#include <sys/mount.h>

/*
 * The kernel's fault injection (CONFIG_FAULT_INJECTION, failslab and
 * fail_page_alloc in debugfs; make check-debug's kernel has them). By
 * default the injectors skip allocations that may sleep, order-0 pages and
 * highmem pages: nearly all a pool makes. wp_fault_setup() makes them take
 * every allocation of the tasks that ask for it - with
 * /proc/self/make-it-fail, failing @percent of them at random, or with
 * /proc/thread-self/fail-nth, exactly the n-th - and quiet. It returns
 * NULL, or the first knob it could not set (the kernel lacks it);
 * wp_fault_restore() puts back what it changed.
 */
#define WP_DEBUGFS "/sys/kernel/debug"
#define WP_FAULT_TIMES "1000000000"

static struct wp_knob {
	const char *path;
	const char *value;	/* NULL: the probability */
	char old[32];
	int saved;
} wp_fault_knobs[] = {
	{ .path = WP_DEBUGFS "/failslab/ignore-gfp-wait", .value = "N" },
	{ .path = WP_DEBUGFS "/failslab/verbose", .value = "0" },
	{ .path = WP_DEBUGFS "/failslab/task-filter", .value = "Y" },
	{ .path = WP_DEBUGFS "/failslab/interval", .value = "1" },
	{ .path = WP_DEBUGFS "/failslab/times", .value = WP_FAULT_TIMES },
	{ .path = WP_DEBUGFS "/failslab/probability", .value = NULL },
	{ .path = WP_DEBUGFS "/fail_page_alloc/ignore-gfp-wait", .value = "N" },
	{ .path = WP_DEBUGFS "/fail_page_alloc/ignore-gfp-highmem", .value = "N" },
	{ .path = WP_DEBUGFS "/fail_page_alloc/min-order", .value = "0" },
	{ .path = WP_DEBUGFS "/fail_page_alloc/verbose", .value = "0" },
	{ .path = WP_DEBUGFS "/fail_page_alloc/task-filter", .value = "Y" },
	{ .path = WP_DEBUGFS "/fail_page_alloc/interval", .value = "1" },
	{ .path = WP_DEBUGFS "/fail_page_alloc/times", .value = WP_FAULT_TIMES },
	{ .path = WP_DEBUGFS "/fail_page_alloc/probability", .value = NULL },
};

#define WP_FAULT_NKNOBS (sizeof(wp_fault_knobs) / sizeof(wp_fault_knobs[0]))

/* In reverse: the probability goes back before the filters that scope it. */
static inline void wp_fault_restore(void)
{
	for (unsigned int i = WP_FAULT_NKNOBS; i-- > 0;) {
		if (wp_fault_knobs[i].saved)
			wp_file_rw(wp_fault_knobs[i].path, NULL, 0, wp_fault_knobs[i].old);
		wp_fault_knobs[i].saved = 0;
	}
}

static inline const char *wp_fault_setup(unsigned int percent)
{
	char prob[16];

	if (access(WP_DEBUGFS "/failslab", F_OK))
		mount("debugfs", WP_DEBUGFS, "debugfs", 0, NULL);
	snprintf(prob, sizeof(prob), "%u", percent);
	for (unsigned int i = 0; i < WP_FAULT_NKNOBS; i++) {
		struct wp_knob *k = &wp_fault_knobs[i];

		if (wp_file_rw(k->path, k->old, sizeof(k->old), NULL))
			return k->path;
		k->saved = 1;
		if (wp_file_rw(k->path, NULL, 0, k->value ? k->value : prob))
			return k->path;
	}
	return NULL;
}

/* Allocations failed since wp_fault_setup(), by both injectors. */
static inline long long wp_fault_injected(void)
{
	char buf[32];
	long long n = 0;

	for (unsigned int i = 0; i < WP_FAULT_NKNOBS; i++) {
		if (strcmp(wp_fault_knobs[i].value ? wp_fault_knobs[i].value : "",
			   WP_FAULT_TIMES))
			continue;
		if (wp_file_rw(wp_fault_knobs[i].path, buf, sizeof(buf), NULL))
			return -1;
		n += strtoll(WP_FAULT_TIMES, NULL, 10) - strtoll(buf, NULL, 10);
	}
	return n;
}

#endif /* WP_FAULT_H */
