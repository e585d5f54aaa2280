// SPDX-License-Identifier: GPL-2.0-only
/*
 * info_test: the device node, the WASMPOOL_IOC_INFO handshake and the
 * extensible-ioctl rules every command shares (size, tail, flags, reserved).
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

#define INFO_MIN_SIZE	offsetofend(struct wasmpool_info, __reserved)

/* A struct wasmpool_info followed by bytes this kernel does not know. */
struct info_with_tail {
	struct wasmpool_info info;
	uint8_t tail[64];
};

FIXTURE(info) {
	int fd;
};

FIXTURE_SETUP(info)
{
	WP_TEST_OPEN_DEVICE(self->fd);
}

FIXTURE_TEARDOWN(info)
{
	if (self->fd >= 0)
		close(self->fd);
}

static int do_info(int fd, void *arg)
{
	return ioctl(fd, WASMPOOL_IOC_INFO, arg) ? -errno : 0;
}

/* The node is a character device of the misc major, never world-accessible. */
TEST_F(info, device_node_mode)
{
	struct stat st;

	ASSERT_EQ(0, stat(WP_TEST_DEVICE, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(10, major(st.st_rdev));	/* MISC_MAJOR */
	EXPECT_EQ(0, st.st_mode & 0007);
	/* 0600 as the module creates it, 0660 with the shipped udev rule. */
	EXPECT_TRUE((st.st_mode & 0777) == 0600 || (st.st_mode & 0777) == 0660)
		TH_LOG("mode is %o", st.st_mode & 0777);
	EXPECT_EQ(0, st.st_uid);
}

TEST_F(info, handshake)
{
	struct wasmpool_info info = { .size = sizeof(info) };

	ASSERT_EQ(0, do_info(self->fd, &info));
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(WASMPOOL_ABI_VERSION, info.abi_version);
	EXPECT_EQ((uint32_t)sysconf(_SC_PAGESIZE), info.page_size);
	/* INFO itself is always supported; no bit beyond the known commands. */
	EXPECT_TRUE(info.ioctl_mask & (1ULL << (WASMPOOL_CMD_INFO - WASMPOOL_CMD_BASE)));
	EXPECT_EQ(0, info.ioctl_mask >> (WASMPOOL_CMD_END - WASMPOOL_CMD_BASE));
	EXPECT_EQ(0, info.features & ~(uint64_t)WASMPOOL_FEATURE_PKEYS);
	EXPECT_EQ(0, info.__reserved);
}

/* The PKEYS feature bit matches CPUID's OSPKE (PKU enabled by the kernel). */
TEST_F(info, pkeys_feature_matches_cpu)
{
	struct wasmpool_info info = { .size = sizeof(info) };
	unsigned int eax, ebx, ecx = 0, edx;
	int ospke = 0;

	if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
		ospke = !!(ecx & (1u << 4));

	ASSERT_EQ(0, do_info(self->fd, &info));
	EXPECT_EQ(ospke, !!(info.features & WASMPOOL_FEATURE_PKEYS));
	if (ospke) {
		EXPECT_EQ(16, info.pkeys_total);
	} else {
		EXPECT_EQ(0, info.pkeys_total);
		EXPECT_EQ(0, info.pkeys_free);
	}
}

/* pkeys_free is exactly what pkey_alloc() can still get in this process. */
TEST_F(info, pkeys_free_counts_process_keys)
{
	struct wasmpool_info before = { .size = sizeof(before) };
	struct wasmpool_info now = { .size = sizeof(now) };
	int keys[32], n = 0, i;

	ASSERT_EQ(0, do_info(self->fd, &before));
	if (!(before.features & WASMPOOL_FEATURE_PKEYS))
		SKIP(return, "CPU or kernel without protection keys");

	ASSERT_LE(before.pkeys_free, before.pkeys_total - 1);
	while (n < 32) {
		int k = wp_test_pkey_alloc();

		if (k < 0)
			break;
		keys[n++] = k;
		ASSERT_EQ(0, do_info(self->fd, &now));
		EXPECT_EQ(before.pkeys_free - n, now.pkeys_free);
	}
	EXPECT_EQ(before.pkeys_free, n);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, wp_test_pkey_free(keys[i]));
	ASSERT_EQ(0, do_info(self->fd, &now));
	EXPECT_EQ(before.pkeys_free, now.pkeys_free);
}

TEST_F(info, unknown_ioctl_enotty)
{
	struct info_with_tail big = { .info.size = sizeof(big.info) };
	const unsigned long bad[] = {
		_IO(WASMPOOL_TYPE, WASMPOOL_CMD_BASE - 1),
		_IO(WASMPOOL_TYPE, WASMPOOL_CMD_END),
		_IO(WASMPOOL_TYPE, 0xff),
		/* the right number with a direction or size encoded */
		_IOR(WASMPOOL_TYPE, WASMPOOL_CMD_INFO, struct wasmpool_info),
		_IOWR(WASMPOOL_TYPE, WASMPOOL_CMD_INFO, struct wasmpool_info),
		/* another driver's type byte */
		_IO(WASMPOOL_TYPE + 1, WASMPOOL_CMD_INFO),
		TCGETS,
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, bad[i], &big));
		EXPECT_EQ(ENOTTY, errno) TH_LOG("ioctl %#lx", bad[i]);
	}
}

/* The first version of the structure is the minimum; anything less fails. */
TEST_F(info, size_one_byte_short_einval)
{
	struct info_with_tail big;

	memset(&big, 0, sizeof(big));
	big.info.size = INFO_MIN_SIZE - 1;
	EXPECT_EQ(-EINVAL, do_info(self->fd, &big));
	big.info.size = 0;
	EXPECT_EQ(-EINVAL, do_info(self->fd, &big));
	big.info.size = 4;
	EXPECT_EQ(-EINVAL, do_info(self->fd, &big));
	/* nothing was written */
	EXPECT_EQ(0, big.info.abi_version);
}

/* A newer caller's larger structure works while the unknown tail is zero. */
TEST_F(info, larger_size_zero_tail_accepted)
{
	struct info_with_tail big;

	memset(&big, 0, sizeof(big));
	big.info.size = sizeof(big);
	ASSERT_EQ(0, do_info(self->fd, &big));
	EXPECT_EQ(WASMPOOL_ABI_VERSION, big.info.abi_version);
	/* the kernel writes no byte it does not know */
	for (unsigned int i = 0; i < sizeof(big.tail); i++)
		ASSERT_EQ(0, big.tail[i]);
}

TEST_F(info, nonzero_tail_e2big)
{
	struct info_with_tail big;
	unsigned int i;

	for (i = 0; i < sizeof(big.tail); i += 7) {
		memset(&big, 0, sizeof(big));
		big.info.size = sizeof(big);
		big.tail[i] = 1;
		EXPECT_EQ(-E2BIG, do_info(self->fd, &big)) TH_LOG("tail byte %u", i);
		EXPECT_EQ(0, big.info.abi_version);
	}
}

/* The kernel never writes past the size the caller gave. */
TEST_F(info, output_bounded_by_size)
{
	unsigned char buf[sizeof(struct wasmpool_info) + 16];
	struct wasmpool_info *info = (struct wasmpool_info *)buf;
	unsigned int i;

	memset(buf, 0, sizeof(buf));
	info->size = sizeof(*info);
	memset(buf + sizeof(*info), 0xa5, 16);
	/* bytes past size are neither read (they are not zero) nor written */
	EXPECT_EQ(0, do_info(self->fd, info));
	for (i = sizeof(*info); i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]);
}

/* A size beyond a page is refused outright (E2BIG), as clone3() does. */
TEST_F(info, size_above_page_e2big)
{
	size_t len = 2 * sysconf(_SC_PAGESIZE);
	struct wasmpool_info *info = calloc(1, len);

	ASSERT_NE(NULL, info);
	info->size = len;
	EXPECT_EQ(-E2BIG, do_info(self->fd, info));
	info->size = sysconf(_SC_PAGESIZE);
	EXPECT_EQ(0, do_info(self->fd, info));
	free(info);
}

TEST_F(info, nonzero_flags_eopnotsupp)
{
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		struct wasmpool_info info = {
			.size = sizeof(info),
			.flags = 1u << bit,
		};

		EXPECT_EQ(-EOPNOTSUPP, do_info(self->fd, &info)) TH_LOG("flag bit %u", bit);
		EXPECT_EQ(0, info.abi_version);
	}
}

TEST_F(info, nonzero_reserved_eopnotsupp)
{
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		struct wasmpool_info info = {
			.size = sizeof(info),
			.__reserved = 1u << bit,
		};

		EXPECT_EQ(-EOPNOTSUPP, do_info(self->fd, &info)) TH_LOG("reserved bit %u", bit);
		EXPECT_EQ(0, info.abi_version);
	}
}

TEST_F(info, bad_pointer_efault)
{
	void *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, none);
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(-EFAULT, do_info(self->fd, NULL));
	EXPECT_EQ(-EFAULT, do_info(self->fd, none));
	/* readable (size reads as 0 => EINVAL first) */
	EXPECT_EQ(-EINVAL, do_info(self->fd, ro));
	munmap(none, 4096);
	munmap(ro, 4096);
}

/* The structure ends exactly at the end of a page: no read past it. */
TEST_F(info, struct_at_page_end)
{
	long psz = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct wasmpool_info *info;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p + psz, psz, PROT_NONE));
	info = (struct wasmpool_info *)(p + psz - sizeof(*info));
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	EXPECT_EQ(0, do_info(self->fd, info));
	EXPECT_EQ(WASMPOOL_ABI_VERSION, info->abi_version);
	/* a size reaching into the inaccessible page faults */
	info->size = sizeof(*info) + 8;
	EXPECT_EQ(-EFAULT, do_info(self->fd, info));
	munmap(p, 2 * psz);
}

TEST_HARNESS_MAIN
