/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the wasmpool selftests. Include after kselftest_harness.h.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef WP_TEST_H
#define WP_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define WP_TEST_DEVICE "/dev/wasmpool"

#ifndef offsetofend
#define offsetofend(TYPE, MEMBER) \
	(offsetof(TYPE, MEMBER) + sizeof(((TYPE *)0)->MEMBER))
#endif

/*
 * Open the device into @fd. Without the device the test is skipped, unless
 * WASMPOOL_REQUIRE_DEVICE=1 (set by the VM runner, where the module is
 * always loaded), which makes a missing device a failure.
 */
#define WP_TEST_OPEN_DEVICE(fd) do {					\
	const char *req = getenv("WASMPOOL_REQUIRE_DEVICE");		\
	(fd) = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);		\
	if ((fd) < 0 && errno == ENOENT && !(req && *req == '1'))	\
		SKIP(return, "%s missing: load the wasmpool module",	\
		     WP_TEST_DEVICE);					\
	ASSERT_LE(0, (fd)) TH_LOG("open %s: %s", WP_TEST_DEVICE,	\
				  strerror(errno));			\
} while (0)

static inline int wp_test_pkey_alloc(void)
{
	return pkey_alloc(0, 0);
}

static inline int wp_test_pkey_free(int pkey)
{
	return pkey_free(pkey);
}

#endif /* WP_TEST_H */
