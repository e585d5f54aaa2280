// SPDX-License-Identifier: GPL-2.0-only
/*
 * cmd_length_test: every ioctl, the same extensible-struct rules (after
 * iommufd's cmd_length test): one byte short of the first version and
 * size 0 -> EINVAL; larger than a page -> E2BIG; larger with a zero tail ->
 * the same answer as exactly sized; larger with a non-zero byte anywhere in
 * the tail -> E2BIG; any unknown flag bit -> EOPNOTSUPP; a command number
 * beyond the table -> ENOTTY.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

struct cmd {
	const char *name;
	unsigned long ioctl;
	size_t size;		/* sizeof the struct */
	size_t min_size;	/* offsetofend of its first version's last field */
	uint32_t known_flags;
	size_t slot_offset;	/* where a slot index goes, 0 for none */
};

#define CMD(_n, _ioc, _s, _last, _flags, _slot) {			\
	.name = _n, .ioctl = _ioc, .size = sizeof(_s),		\
	.min_size = offsetofend(_s, _last), .known_flags = _flags,	\
	.slot_offset = _slot }

static const struct cmd cmds[] = {
	CMD("info", WASMPOOL_IOC_INFO, struct wasmpool_info, __reserved, 0, 0),
	CMD("layout", WASMPOOL_IOC_LAYOUT, struct wasmpool_layout_cmd, layout,
	    WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS, 0),
	CMD("configure", WASMPOOL_IOC_CONFIGURE, struct wasmpool_configure, stripe_pkeys,
	    WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS | WASMPOOL_CONFIGURE_DEFAULT_KEEP_RESIDENT |
	    WASMPOOL_CONFIGURE_DEFAULT_PKEY_MODE | WASMPOOL_CONFIGURE_STRICT |
	    WASMPOOL_CONFIGURE_POPULATE_AHEAD | WASMPOOL_CONFIGURE_ZERO_PAGE, 0),
	CMD("slot_alloc", WASMPOOL_IOC_SLOT_ALLOC, struct wasmpool_slot_alloc, address,
	    WASMPOOL_SLOT_ALLOC_STRIPE | WASMPOOL_SLOT_ALLOC_AFFINITY |
	    WASMPOOL_SLOT_ALLOC_IMAGE, 0),
	CMD("slot_grow", WASMPOOL_IOC_SLOT_GROW, struct wasmpool_slot_resize,
	    accessible_bytes, 0, offsetof(struct wasmpool_slot_resize, slot)),
	CMD("slot_reset", WASMPOOL_IOC_SLOT_RESET, struct wasmpool_slot_resize,
	    accessible_bytes, 0, offsetof(struct wasmpool_slot_resize, slot)),
	CMD("slot_free", WASMPOOL_IOC_SLOT_FREE, struct wasmpool_slot_free, __reserved, 0,
	    offsetof(struct wasmpool_slot_free, slot)),
	CMD("stats", WASMPOOL_IOC_STATS, struct wasmpool_stats, address, 0, 0),
	CMD("apply_keys", WASMPOOL_IOC_APPLY_KEYS, struct wasmpool_apply_keys, vmas, 0, 0),
	CMD("slot_free_batch", WASMPOOL_IOC_SLOT_FREE_BATCH, struct wasmpool_slot_free_batch,
	    __reserved, 0, 0),
	CMD("image_create", WASMPOOL_IOC_IMAGE_CREATE, struct wasmpool_image_create,
	    __reserved2, WASMPOOL_IMAGE_FROM_FD, 0),
	CMD("image_release", WASMPOOL_IOC_IMAGE_RELEASE, struct wasmpool_image_release,
	    __reserved, 0, 0),
};

#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

FIXTURE(len) {
	int fd;
	int raw;	/* never configured: for CONFIGURE's own checks */
	char *base;
	uint64_t total;
	unsigned char buf[8192];
};

FIXTURE_SETUP(len)
{
	struct wasmpool_configure c = {
		.max_memory_bytes = 65536, .reservation_bytes = 65536,
		.guard_bytes = 65536, .num_slots = 4,
	};

	self->base = MAP_FAILED;
	self->raw = -1;
	WP_TEST_OPEN_DEVICE(self->fd);
	self->raw = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->raw);
	ASSERT_EQ(0, wp_configure(self->fd, &c));
	self->total = c.layout.total_bytes;
	self->base = mmap(NULL, self->total, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->base);
}

FIXTURE_TEARDOWN(len)
{
	if (self->base != MAP_FAILED)
		munmap(self->base, self->total);
	if (self->fd >= 0)
		close(self->fd);
	if (self->raw >= 0)
		close(self->raw);
}

/* Issue @c with @size bytes of a zeroed struct (slot index out of range). */
static int issue(FIXTURE_DATA(len) *self, const struct cmd *c, uint32_t size,
		 size_t tail_byte, uint32_t flags)
{
	uint32_t v;

	memset(self->buf, 0, sizeof(self->buf));
	memcpy(self->buf, &size, 4);
	memcpy(self->buf + 4, &flags, 4);
	if (c->slot_offset) {
		v = 99;		/* no such slot: the same answer every time */
		memcpy(self->buf + c->slot_offset, &v, 4);
	}
	if (tail_byte)
		self->buf[tail_byte] = 0x5a;
	/* a configured file answers CONFIGURE with EBUSY before anything */
	return wp_ioctl(flags && c->ioctl == WASMPOOL_IOC_CONFIGURE ? self->raw : self->fd,
			c->ioctl, self->buf);
}

TEST_F(len, every_ioctl_follows_the_size_rules)
{
	for (unsigned int i = 0; i < NCMDS; i++) {
		const struct cmd *c = &cmds[i];
		int exact = issue(self, c, c->size, 0, 0);

		EXPECT_NE(-E2BIG, exact) TH_LOG("%s exactly sized", c->name);
		EXPECT_NE(-ENOTTY, exact) TH_LOG("%s", c->name);
		EXPECT_EQ(-EINVAL, issue(self, c, c->min_size - 1, 0, 0)) TH_LOG("%s short", c->name);
		EXPECT_EQ(-EINVAL, issue(self, c, 0, 0, 0)) TH_LOG("%s size 0", c->name);
		EXPECT_EQ(-E2BIG, issue(self, c, 4097, 0, 0)) TH_LOG("%s above a page", c->name);
		EXPECT_EQ(exact, issue(self, c, c->size + 64, 0, 0)) TH_LOG("%s zero tail", c->name);
		for (size_t t = c->size; t < c->size + 64; t += 5) {
			EXPECT_EQ(-E2BIG, issue(self, c, c->size + 64, t, 0))
				TH_LOG("%s tail byte %zu", c->name, t);
		}
	}
}

TEST_F(len, every_unknown_flag_bit_refused)
{
	for (unsigned int i = 0; i < NCMDS; i++) {
		const struct cmd *c = &cmds[i];

		for (unsigned int bit = 0; bit < 32; bit++) {
			if (c->known_flags & (1u << bit))
				continue;
			EXPECT_EQ(-EOPNOTSUPP, issue(self, c, c->size, 0, 1u << bit)) {
				TH_LOG("%s flag bit %u", c->name, bit);
			}
		}
	}
}

TEST_F(len, commands_beyond_the_table_enotty)
{
	unsigned int nr;

	for (nr = WASMPOOL_CMD_END; nr < WASMPOOL_CMD_END + 16; nr++) {
		uint32_t size = 64;

		memset(self->buf, 0, sizeof(self->buf));
		memcpy(self->buf, &size, 4);
		EXPECT_EQ(-ENOTTY, wp_ioctl(self->fd, _IO(WASMPOOL_TYPE, nr), self->buf));
	}
	EXPECT_EQ(NCMDS, WASMPOOL_CMD_END - WASMPOOL_CMD_BASE);
}

TEST_HARNESS_MAIN
