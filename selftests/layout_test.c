// SPDX-License-Identifier: GPL-2.0-only
/*
 * layout_test: WASMPOOL_IOC_LAYOUT, the kernel's slab layout, agrees with
 * the userspace computation (kmod/layout.c built for userspace, as in
 * libwasmpool) on a grid and thousands of random configurations, errno
 * included; and the ioctl follows the extensible-struct rules.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"
#include "layout.h"

#define LAYOUT_MIN_SIZE	offsetofend(struct wasmpool_layout_cmd, layout)

FIXTURE(layout) {
	int fd;
};

FIXTURE_SETUP(layout)
{
	WP_TEST_OPEN_DEVICE(self->fd);
}

FIXTURE_TEARDOWN(layout)
{
	if (self->fd >= 0)
		close(self->fd);
}

static int kernel_layout(int fd, struct wasmpool_layout_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(fd, WASMPOOL_IOC_LAYOUT, cmd) ? -errno : 0;
}

/* Compare the kernel with userspace for one configuration. */
static int agree(struct __test_metadata *_metadata, int fd,
		 const struct wasmpool_layout_cmd *cfg)
{
	struct wasmpool_layout_cmd k = *cfg, u = *cfg;
	int kret, uret;

	memset(&k.layout, 0x5a, sizeof(k.layout));
	memset(&u.layout, 0, sizeof(u.layout));
	kret = kernel_layout(fd, &k);
	uret = wp_layout_cmd(&u);
	if (kret != uret || (!kret && memcmp(&k.layout, &u.layout, sizeof(u.layout)))) {
		TH_LOG("disagree: kernel %d userspace %d: max_memory=%llu slots=%llu reservation=%llu guard=%llu pkeys=%u flags=%u",
		       kret, uret, (unsigned long long)cfg->max_memory_bytes,
		       (unsigned long long)cfg->num_slots,
		       (unsigned long long)cfg->reservation_bytes,
		       (unsigned long long)cfg->guard_bytes, cfg->num_pkeys, cfg->flags);
		return 0;
	}
	return 1;
}

/* The enumeration of Wasmtime's own layout test: 2,304 configurations. */
TEST_F(layout, reference_grid_matches_userspace)
{
	static const uint64_t slots[] = { 0, 1, 10, 64 };
	static const uint64_t reservations[] = { 0, 1ULL << 30, 4ULL << 30 };
	static const uint64_t max_memory[] = { 0, 65536, 655360 };
	static const uint64_t guards[] = { 0, 2ULL << 30 };
	unsigned int p, s, r, m, g, b, n = 0, good = 0, ok = 0;

	for (p = 0; p < 16; p++)
	for (s = 0; s < 4; s++)
	for (r = 0; r < 3; r++)
	for (m = 0; m < 3; m++)
	for (g = 0; g < 2; g++)
	for (b = 0; b < 2; b++) {
		struct wasmpool_layout_cmd cfg = {
			.flags = b ? WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS : 0,
			.max_memory_bytes = max_memory[m],
			.num_slots = slots[s],
			.reservation_bytes = reservations[r],
			.guard_bytes = guards[g],
			.num_pkeys = p,
		};

		n++;
		good += agree(_metadata, self->fd, &cfg);
		ok += wp_layout_cmd(&cfg) == 0;
	}
	EXPECT_EQ(2304, n);
	EXPECT_EQ(n, good);
	EXPECT_EQ(2304 - 512, ok);	/* the reference refuses 512 */
}

static uint64_t rng_state = 0x6b65726e656cULL;

static uint64_t rng(void)
{
	return wp_test_rng(&rng_state);
}

static uint64_t random_size(void)
{
	switch (rng() % 5) {
	case 0:
		return (rng() % (1 << 20)) * 4096;
	case 1:
		return 1ULL << (rng() % 64);
	case 2:
		return UINT64_MAX - rng() % (1ULL << (rng() % 40));
	case 3:
		return rng() % (64ULL << 30);
	default:
		return rng() >> (rng() % 64);
	}
}

TEST_F(layout, random_sweep_matches_userspace)
{
	unsigned int i, n = 20000, good = 0, valid = 0, einval = 0, eoverflow = 0;

	for (i = 0; i < n; i++) {
		struct wasmpool_layout_cmd cfg = {
			.flags = rng() & 1,
			.max_memory_bytes = random_size(),
			.reservation_bytes = random_size(),
			.guard_bytes = random_size(),
			.num_slots = rng() % 2 ? rng() % 20000 : rng() >> (rng() % 64),
			.num_pkeys = rng() % 4 ? rng() % 17 : (uint32_t)rng(),
		};
		int ret;

		if (rng() % 2 && cfg.max_memory_bytes > cfg.reservation_bytes) {
			uint64_t t = cfg.max_memory_bytes;

			cfg.max_memory_bytes = cfg.reservation_bytes;
			cfg.reservation_bytes = t;
		}
		good += agree(_metadata, self->fd, &cfg);
		ret = wp_layout_cmd(&cfg);
		valid += ret == 0;
		einval += ret == -EINVAL;
		eoverflow += ret == -EOVERFLOW;
	}
	TH_LOG("%u configurations: %u valid, %u EINVAL, %u EOVERFLOW", n, valid, einval, eoverflow);
	EXPECT_EQ(n, good);
	/* the sweep reaches all three outcomes */
	EXPECT_LT(n / 10, valid);
	EXPECT_LT(0, einval);
	EXPECT_LT(0, eoverflow);
}

TEST_F(layout, max_memory_above_reservation_einval)
{
	struct wasmpool_layout_cmd cmd = {
		.max_memory_bytes = (4ULL << 30) + 1,
		.reservation_bytes = 4ULL << 30,
		.num_slots = 1,
	};

	EXPECT_EQ(-EINVAL, kernel_layout(self->fd, &cmd));
	/* raw sizes are compared: 4G + 1 rounds to 4G + 4K, still refused */
	cmd.reservation_bytes = (4ULL << 30) + 4096;
	EXPECT_EQ(0, kernel_layout(self->fd, &cmd));
}

TEST_F(layout, overflow_eoverflow)
{
	struct wasmpool_layout_cmd cmd = {
		.max_memory_bytes = 4096,
		.reservation_bytes = UINT64_MAX,
		.num_slots = 1,
	};

	EXPECT_EQ(-EOVERFLOW, kernel_layout(self->fd, &cmd));
	cmd.reservation_bytes = 1ULL << 40;
	cmd.num_slots = 1ULL << 30;
	EXPECT_EQ(-EOVERFLOW, kernel_layout(self->fd, &cmd));
	cmd.num_slots = 1000;
	cmd.guard_bytes = UINT64_MAX - (1ULL << 40);
	EXPECT_EQ(-EOVERFLOW, kernel_layout(self->fd, &cmd));
}

TEST_F(layout, striped_example)
{
	struct wasmpool_layout_cmd cmd = {
		.max_memory_bytes = 64ULL << 20,
		.reservation_bytes = 64ULL << 20,
		.guard_bytes = 512ULL << 20,
		.num_slots = 10000,
		.num_pkeys = 15,
	};

	ASSERT_EQ(0, kernel_layout(self->fd, &cmd));
	EXPECT_EQ(9, cmd.layout.num_stripes);
	EXPECT_EQ(64ULL << 20, cmd.layout.slot_bytes);
	EXPECT_EQ(576ULL << 20, cmd.layout.stripe_stride_bytes);
	EXPECT_EQ(512ULL << 20, cmd.layout.post_slab_guard_bytes);
	EXPECT_EQ(10000 * (64ULL << 20) + (512ULL << 20), cmd.layout.total_bytes);
	EXPECT_EQ(0, cmd.layout.__reserved);
}

/* More keys than the reference's rounding can cover: refused. */
TEST_F(layout, too_many_pkeys_einval)
{
	struct wasmpool_layout_cmd cmd = {
		.max_memory_bytes = 4096, .reservation_bytes = 4096,
		.guard_bytes = 4097 * 4096ULL, .num_slots = 5000, .num_pkeys = 4097,
	};

	EXPECT_EQ(-EINVAL, kernel_layout(self->fd, &cmd));
	cmd.num_pkeys = 4096;
	EXPECT_EQ(0, kernel_layout(self->fd, &cmd));
}

TEST_F(layout, unknown_flags_eopnotsupp)
{
	unsigned int bit;

	for (bit = 1; bit < 32; bit++) {
		struct wasmpool_layout_cmd cmd = { .flags = 1u << bit };

		EXPECT_EQ(-EOPNOTSUPP, kernel_layout(self->fd, &cmd)) TH_LOG("flag bit %u", bit);
	}
}

TEST_F(layout, nonzero_reserved_eopnotsupp)
{
	struct wasmpool_layout_cmd cmd = { .__reserved = 1 };

	EXPECT_EQ(-EOPNOTSUPP, kernel_layout(self->fd, &cmd));
	cmd.__reserved = 0x80000000u;
	EXPECT_EQ(-EOPNOTSUPP, kernel_layout(self->fd, &cmd));
}

/* The out fields' input values are ignored, not checked. */
TEST_F(layout, output_fields_ignored_on_input)
{
	struct wasmpool_layout_cmd cmd = { .num_slots = 1 };

	memset(&cmd.layout, 0xff, sizeof(cmd.layout));
	ASSERT_EQ(0, kernel_layout(self->fd, &cmd));
	EXPECT_EQ(0, cmd.layout.__reserved);
	EXPECT_EQ(1, cmd.layout.num_stripes);
}

TEST_F(layout, size_rules)
{
	struct {
		struct wasmpool_layout_cmd cmd;
		uint8_t tail[16];
	} big;

	memset(&big, 0, sizeof(big));
	big.cmd.num_slots = 1;
	big.cmd.size = LAYOUT_MIN_SIZE - 1;
	EXPECT_EQ(-1, ioctl(self->fd, WASMPOOL_IOC_LAYOUT, &big));
	EXPECT_EQ(EINVAL, errno);

	big.cmd.size = sizeof(big);
	EXPECT_EQ(0, ioctl(self->fd, WASMPOOL_IOC_LAYOUT, &big));
	EXPECT_EQ(1, big.cmd.layout.num_stripes);

	big.tail[15] = 1;
	big.cmd.layout.num_stripes = 0;
	EXPECT_EQ(-1, ioctl(self->fd, WASMPOOL_IOC_LAYOUT, &big));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(0, big.cmd.layout.num_stripes);

	EXPECT_EQ(-1, ioctl(self->fd, WASMPOOL_IOC_LAYOUT, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(layout, advertised_in_info)
{
	struct wasmpool_info info = { .size = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->fd, WASMPOOL_IOC_INFO, &info));
	EXPECT_TRUE(info.ioctl_mask & (1ULL << (WASMPOOL_CMD_LAYOUT - WASMPOOL_CMD_BASE)));
}

TEST_HARNESS_MAIN
