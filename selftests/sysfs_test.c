// SPDX-License-Identifier: GPL-2.0-only
/*
 * sysfs_test: the admin attributes of /sys/class/misc/wasmpool - every
 * attribute reads as one number, limits take good values and refuse bad
 * ones (text, a sign, a leading space) unchanged, each limit is enforced
 * with EDQUOT (or SIGBUS for the resident limit) and a kernel message
 * naming it, changing a limit never breaks an existing pool, and the
 * statistics move.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

#define DIR	"/sys/class/misc/wasmpool/"
#define PAGE	4096ULL

static const char *const limits[] = {
	"max_pools", "max_slots_per_pool", "max_reserved_bytes_per_pool",
	"max_resident_bytes_per_pool", "default_keep_resident_bytes",
	"max_image_bytes_per_pool",
};
#define NLIMITS	(sizeof(limits) / sizeof(limits[0]))
static const char *const stats[] = {
	"pools", "slots_in_use", "resident_bytes", "faults", "guard_faults",
	"resets", "pages_freed", "keys_in_use", "limit_hits", "warm_hits",
	"warm_misses", "images", "image_bytes",
};

/* Write @value to attribute @name: 0 or -errno. */
static int attr_write(const char *name, const char *value)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int attr_set(const char *name, unsigned long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", v);
	return attr_write(name, buf);
}

/* The log has a line with @needle (the limit messages are rate-limited). */
static int log_has(const char *needle)
{
	int len = klogctl(10, NULL, 0), found = 0;
	char *log;

	if (len <= 0 || !(log = malloc(len + 1)))
		return 0;
	len = klogctl(3, log, len);
	if (len >= 0) {
		log[len] = 0;
		found = strstr(log, needle) != NULL;
	}
	free(log);
	return found;
}

static struct wasmpool_configure small(uint64_t slots)
{
	struct wasmpool_configure c = {
		.max_memory_bytes = 64 * 1024,
		.reservation_bytes = 64 * 1024,
		.guard_bytes = 64 * 1024,
		.num_slots = slots,
	};

	return c;
}

FIXTURE(sysfs) {
	long long saved[NLIMITS];
	char pkey_mode[16];
};

/* Read a text attribute into @buf (newline stripped): 0 or -errno. */
static int attr_read_text(const char *name, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), DIR "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return 0;
}

FIXTURE_SETUP(sysfs)
{
	if (wp_sysfs_read("pools") < 0)
		SKIP(return, "no %s (module not loaded)", DIR);
	if (geteuid())
		SKIP(return, "the limits are writable by root only");
	for (unsigned int i = 0; i < NLIMITS; i++)
		self->saved[i] = wp_sysfs_read(limits[i]);
	ASSERT_EQ(0, attr_read_text("default_pkey_mode", self->pkey_mode,
				    sizeof(self->pkey_mode)));
}

FIXTURE_TEARDOWN(sysfs)
{
	for (unsigned int i = 0; i < NLIMITS; i++)
		if (self->saved[i] >= 0)
			attr_set(limits[i], self->saved[i]);
	attr_write("default_pkey_mode", self->pkey_mode);
}

TEST_F(sysfs, every_attribute_reads_one_number)
{
	unsigned int i;

	for (i = 0; i < NLIMITS; i++) {
		EXPECT_LE(0, wp_sysfs_read(limits[i])) TH_LOG("%s", limits[i]);
	}
	for (i = 0; i < sizeof(stats) / sizeof(stats[0]); i++) {
		EXPECT_LE(0, wp_sysfs_read(stats[i])) TH_LOG("%s", stats[i]);
	}
	/* defaults: no limit but the hard one on slots */
	EXPECT_EQ(WASMPOOL_MAX_SLOTS, wp_sysfs_read("max_slots_per_pool"));
	/* statistics are read-only */
	EXPECT_EQ(-EACCES, attr_write("pools", "1"));
}

TEST_F(sysfs, limits_take_good_values)
{
	unsigned int i;

	for (i = 0; i < NLIMITS; i++) {
		EXPECT_EQ(0, attr_set(limits[i], 1234)) TH_LOG("%s", limits[i]);
		EXPECT_EQ(1234, wp_sysfs_read(limits[i]));
		EXPECT_EQ(0, attr_write(limits[i], "77\n"));
		EXPECT_EQ(77, wp_sysfs_read(limits[i]));
	}
	EXPECT_EQ(0, attr_set("max_pools", 0));
	EXPECT_EQ(0, attr_write("max_reserved_bytes_per_pool", "18446744073709551615"));
}

TEST_F(sysfs, bad_values_einval_and_unchanged)
{
	static const char *const bad[] = {
		"-1", "abc", "\n", "12abc", "18446744073709551616", "0x10", "1.5", " ",
	};

	unsigned int i, j;

	for (i = 0; i < NLIMITS; i++) {
		ASSERT_EQ(0, attr_set(limits[i], 42));
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			EXPECT_EQ(-EINVAL, attr_write(limits[i], bad[j]))
				TH_LOG("%s <- '%s'", limits[i], bad[j]);
		}
		EXPECT_EQ(42, wp_sysfs_read(limits[i]));
	}
	EXPECT_EQ(-EINVAL, attr_set("max_slots_per_pool", 0));
	EXPECT_EQ(-EINVAL, attr_set("max_slots_per_pool", WASMPOOL_MAX_SLOTS + 1ULL));
	EXPECT_EQ(42, wp_sysfs_read("max_slots_per_pool"));
}

/*
 * A limit is a plain decimal number: a sign or a leading space is not one,
 * even where the number after it would be in range (kstrtou64() alone
 * takes a '+').
 */
TEST_F(sysfs, sign_or_leading_space_einval_and_unchanged)
{
	static const char *const bad[] = { "+1", "+1\n", "-1", " 1", " 1\n" };
	unsigned int i, j;

	for (i = 0; i < NLIMITS; i++) {
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			ASSERT_EQ(0, attr_set(limits[i], 42));
			EXPECT_EQ(-EINVAL, attr_write(limits[i], bad[j]))
				TH_LOG("%s <- '%s'", limits[i], bad[j]);
			EXPECT_EQ(42, wp_sysfs_read(limits[i]))
				TH_LOG("%s after '%s'", limits[i], bad[j]);
		}
	}
}

TEST_F(sysfs, default_pkey_mode_names)
{
	char buf[16];

	/* the default default: auto */
	ASSERT_EQ(0, attr_read_text("default_pkey_mode", buf, sizeof(buf)));
	EXPECT_TRUE(!strcmp(buf, "auto") || !strcmp(buf, "off") || !strcmp(buf, "require"));
	EXPECT_EQ(0, attr_write("default_pkey_mode", "require\n"));
	ASSERT_EQ(0, attr_read_text("default_pkey_mode", buf, sizeof(buf)));
	EXPECT_STREQ("require", buf);
	EXPECT_EQ(-EINVAL, attr_write("default_pkey_mode", "sometimes"));
	EXPECT_EQ(-EINVAL, attr_write("default_pkey_mode", "2"));
	EXPECT_EQ(0, attr_write("default_pkey_mode", "off"));
	ASSERT_EQ(0, attr_read_text("default_pkey_mode", buf, sizeof(buf)));
	EXPECT_STREQ("off", buf);
}

TEST_F(sysfs, defaults_apply_with_their_flags)
{
	struct wasmpool_configure c = small(2);
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;
	char *base;
	int fd;

	ASSERT_EQ(0, attr_set("default_keep_resident_bytes", 2 * PAGE));
	ASSERT_EQ(0, attr_write("default_pkey_mode", "off"));
	fd = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	c.flags = WASMPOOL_CONFIGURE_DEFAULT_KEEP_RESIDENT | WASMPOOL_CONFIGURE_DEFAULT_PKEY_MODE;
	c.keep_resident_bytes = 12345;		/* ignored */
	c.pkey_mode = WASMPOOL_PKEYS_REQUIRE;	/* ignored */
	ASSERT_EQ(0, wp_configure(fd, &c));
	EXPECT_EQ(2 * PAGE, c.keep_resident_bytes);
	EXPECT_EQ(WASMPOOL_PKEYS_OFF, c.pkey_mode);
	EXPECT_EQ(1, c.layout.num_stripes);
	base = mmap(NULL, c.layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, base);
	ASSERT_EQ(0, wp_alloc(fd, 8 * PAGE, &a));
	memset(base + a.offset, 1, 8 * PAGE);
	ASSERT_EQ(0, wp_free(fd, a.slot));
	ASSERT_EQ(0, wp_stats(fd, &st));
	EXPECT_EQ(2 * PAGE, st.resident_bytes);	/* the default kept 2 pages */
	munmap(base, c.layout.total_bytes);
	close(fd);

	/* a default above max memory is capped at it */
	ASSERT_EQ(0, attr_set("default_keep_resident_bytes", 1ULL << 40));
	fd = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	c = small(2);
	c.flags = WASMPOOL_CONFIGURE_DEFAULT_KEEP_RESIDENT;
	ASSERT_EQ(0, wp_configure(fd, &c));
	EXPECT_EQ(c.layout.max_memory_bytes, c.keep_resident_bytes);
	close(fd);
	/* the defaults are unknown flags to WASMPOOL_IOC_LAYOUT */
	fd = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	{
		struct wasmpool_layout_cmd l = { .size = sizeof(l), .num_slots = 1,
			.flags = WASMPOOL_CONFIGURE_DEFAULT_KEEP_RESIDENT };

		EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(fd, WASMPOOL_IOC_LAYOUT, &l));
	}
	close(fd);
}

TEST_F(sysfs, max_pools_enforced)
{
	long long now = wp_sysfs_read("pools"), hits = wp_sysfs_read("limit_hits");
	struct wasmpool_configure c;
	int a, b;

	ASSERT_EQ(0, attr_set("max_pools", now + 1));
	a = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	b = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	c = small(4);
	EXPECT_EQ(0, wp_configure(a, &c));
	c = small(4);
	EXPECT_EQ(-EDQUOT, wp_configure(b, &c));
	EXPECT_TRUE(log_has("max_pools="));
	EXPECT_EQ(hits + 1, wp_sysfs_read("limit_hits"));
	close(a);
	/* room again */
	c = small(4);
	EXPECT_EQ(0, wp_configure(b, &c));
	close(b);
}

TEST_F(sysfs, max_slots_and_reserved_enforced_existing_pool_unharmed)
{
	struct wasmpool_slot_alloc s;
	struct wasmpool_configure c = small(8);
	int old, fd;

	old = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_EQ(0, wp_configure(old, &c));

	ASSERT_EQ(0, attr_set("max_slots_per_pool", 4));
	fd = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	c = small(5);
	EXPECT_EQ(-EDQUOT, wp_configure(fd, &c));
	EXPECT_TRUE(log_has("max_slots_per_pool=4"));
	c = small(4);
	EXPECT_EQ(0, wp_configure(fd, &c));
	close(fd);

	ASSERT_EQ(0, attr_set("max_slots_per_pool", WASMPOOL_MAX_SLOTS));
	ASSERT_EQ(0, attr_set("max_reserved_bytes_per_pool", 1 << 20));
	fd = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	c = small(16);		/* 16 x 128 KiB = 2 MiB */
	EXPECT_EQ(-EDQUOT, wp_configure(fd, &c));
	EXPECT_TRUE(log_has("max_reserved_bytes_per_pool=1048576"));
	c = small(8);		/* 1 MiB */
	EXPECT_EQ(0, wp_configure(fd, &c));
	close(fd);

	/* the pool made before the limits still has all 8 slots */
	for (int i = 0; i < 8; i++)
		EXPECT_EQ(0, wp_alloc(old, PAGE, &s));
	close(old);
}

TEST_F(sysfs, max_resident_gives_sigbus_and_keeps_pool_consistent)
{
	struct wasmpool_configure c = small(4);
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;
	siginfo_t si;
	char *base;
	int fd;

	ASSERT_EQ(0, attr_set("max_resident_bytes_per_pool", 4 * PAGE));
	fd = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_EQ(0, wp_configure(fd, &c));
	/* a later change does not touch this pool */
	ASSERT_EQ(0, attr_set("max_resident_bytes_per_pool", 0));
	base = mmap(NULL, c.layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, base);
	ASSERT_EQ(0, wp_alloc(fd, 64 * 1024, &a));
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(0, wp_probe(base + a.offset + i * PAGE, 1, NULL));
	EXPECT_EQ(SIGBUS, wp_probe(base + a.offset + 4 * PAGE, 1, &si));
	EXPECT_TRUE(log_has("max_resident_bytes_per_pool=16384"));
	ASSERT_EQ(0, wp_stats(fd, &st));
	EXPECT_EQ(4 * PAGE, st.resident_bytes);
	/* after a free, pages are available again */
	ASSERT_EQ(0, wp_free(fd, a.slot));
	ASSERT_EQ(0, wp_alloc(fd, 64 * 1024, &a));
	EXPECT_EQ(0, wp_probe(base + a.offset + 10 * PAGE, 1, NULL));
	munmap(base, c.layout.total_bytes);
	close(fd);
}

TEST_F(sysfs, statistics_move)
{
	long long f0 = wp_sysfs_read("faults"), g0 = wp_sysfs_read("guard_faults");
	long long r0 = wp_sysfs_read("resets"), p0 = wp_sysfs_read("pages_freed");
	struct wasmpool_configure c = small(2);
	struct wasmpool_slot_alloc a;
	char *base;
	int fd;

	fd = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_EQ(0, wp_configure(fd, &c));
	base = mmap(NULL, c.layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, base);
	ASSERT_EQ(0, wp_alloc(fd, 2 * PAGE, &a));
	base[a.offset] = 1;
	base[a.offset + PAGE] = 1;
	EXPECT_EQ(1, wp_sysfs_read("pools") >= 1);
	EXPECT_LE(1, wp_sysfs_read("slots_in_use"));
	EXPECT_LE(2 * PAGE, wp_sysfs_read("resident_bytes"));
	EXPECT_EQ(SIGSEGV, wp_probe(base + a.offset + 2 * PAGE, 0, NULL));
	ASSERT_EQ(0, wp_free(fd, a.slot));
	EXPECT_LE(f0 + 2, wp_sysfs_read("faults"));
	EXPECT_LE(g0 + 1, wp_sysfs_read("guard_faults"));
	EXPECT_LE(r0 + 1, wp_sysfs_read("resets"));
	EXPECT_LE(p0 + 2, wp_sysfs_read("pages_freed"));
	munmap(base, c.layout.total_bytes);
	close(fd);
}

TEST_F(sysfs, keys_in_use_counts_pool_keys)
{
	struct wasmpool_configure c = {
		.max_memory_bytes = 64 * 1024, .reservation_bytes = 64 * 1024,
		.guard_bytes = 512 * 1024, .num_slots = 24,
		.pkey_mode = WASMPOOL_PKEYS_AUTO,
	};
	long long k0 = wp_sysfs_read("keys_in_use");
	int fd, k = pkey_alloc(0, 0);

	if (k < 0)
		SKIP(return, "no protection keys");
	pkey_free(k);
	fd = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_EQ(0, wp_configure(fd, &c));
	EXPECT_EQ(k0 + c.layout.num_stripes, wp_sysfs_read("keys_in_use"));
	close(fd);
	EXPECT_EQ(k0, wp_sysfs_read("keys_in_use"));
}

TEST_HARNESS_MAIN
