// SPDX-License-Identifier: GPL-2.0-only
/*
 * image_test: memory images (WASMPOOL_IOC_IMAGE_CREATE, _RELEASE and slots
 * allocated with WASMPOOL_SLOT_ALLOC_IMAGE). A slot reads its image with
 * no copy; a write copies the page and never reaches the image, whoever
 * reads it meanwhile; a reset gives back exactly the image (then zeroes)
 * across affinity hits and misses; bad input gets its exact errno and
 * leaks nothing; image pages cannot be pinned; an image costs its pages
 * once however many slots map it; a released image serves its slots until
 * they are freed. In warm and strict pools, with and without stripes.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

/* CREATE() below starts from a good request and overrides fields of it. */
#pragma GCC diagnostic ignored "-Woverride-init"

#define PAGE		4096ULL
#define KIB		1024ULL
#define MAX_MEM		(64 * KIB)
#define IMG		(32 * KIB)
#define SLOTS		8
#define GUARD_STRIPED	(256 * KIB)

/* --- helpers ------------------------------------------------------------ */

static int image_create(int fd, const void *p, uint64_t len, uint32_t *id)
{
	struct wasmpool_image_create c = {
		.size = sizeof(c), .user_addr = (uintptr_t)p, .length = len,
	};
	int ret = wp_ioctl(fd, WASMPOOL_IOC_IMAGE_CREATE, &c);

	if (!ret && id)
		*id = c.image;
	return ret;
}

static int image_create_fd(int fd, int src, uint64_t off, uint64_t len, uint32_t *id)
{
	struct wasmpool_image_create c = {
		.size = sizeof(c), .flags = WASMPOOL_IMAGE_FROM_FD, .fd = src,
		.fd_offset = off, .length = len,
	};
	int ret = wp_ioctl(fd, WASMPOOL_IOC_IMAGE_CREATE, &c);

	if (!ret && id)
		*id = c.image;
	return ret;
}

static int image_release(int fd, uint32_t id)
{
	struct wasmpool_image_release r = { .size = sizeof(r), .image = id };

	return wp_ioctl(fd, WASMPOOL_IOC_IMAGE_RELEASE, &r);
}

static int alloc_image(int fd, uint64_t bytes, uint32_t id, struct wasmpool_slot_alloc *a)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->flags = WASMPOOL_SLOT_ALLOC_IMAGE;
	a->image = id;
	a->accessible_bytes = bytes;
	return wp_ioctl(fd, WASMPOOL_IOC_SLOT_ALLOC, a);
}

/* A recognisable image: no zero byte, different in every page and seed. */
static void fill_image(unsigned char *p, uint64_t len, uint64_t seed)
{
	for (uint64_t i = 0; i < len; i += 8) {
		uint64_t v = wp_test_rng(&seed) | 0x0101010101010101ULL;

		memcpy(p + i, &v, 8);
	}
}

static const unsigned char zeroes[MAX_MEM];

/*
 * Does [p, p + acc) read as @img for @img_len bytes, then as zero (at most
 * MAX_MEM of them)? *@bad: the first byte that does not.
 */
static int reads_as(const volatile unsigned char *vp, uint64_t acc,
		    const unsigned char *img, uint64_t img_len, uint64_t *bad)
{
	const unsigned char *p = (const unsigned char *)vp;

	if ((!img_len || !memcmp(p, img, img_len)) &&
	    (acc <= img_len || !memcmp(p + img_len, zeroes, acc - img_len)))
		return 1;
	for (uint64_t i = 0; i < acc; i++) {
		unsigned char want = i < img_len ? img[i] : 0;

		if (p[i] != want) {
			*bad = i;
			return 0;
		}
	}
	return 1;
}

static struct wasmpool_stats stats_of(int fd)
{
	struct wasmpool_stats st;

	wp_stats(fd, &st);
	return st;
}

/* --- the pool fixture: warm, strict, zero page, striped ------------------ */

FIXTURE(img) {
	int fd;
	char *base;
	struct wasmpool_layout l;
	unsigned char a[IMG];
	unsigned char b[IMG];
	long long sys_images, sys_image_bytes;
};

FIXTURE_VARIANT(img) {
	uint32_t flags;
	uint64_t keep;
	bool striped;
};

FIXTURE_VARIANT_ADD(img, warm_keep0) { .keep = 0 };
FIXTURE_VARIANT_ADD(img, warm_keep16k) { .keep = 16 * KIB };
FIXTURE_VARIANT_ADD(img, warm_keep48k) { .keep = 48 * KIB };
FIXTURE_VARIANT_ADD(img, strict_keep16k) {
	.flags = WASMPOOL_CONFIGURE_STRICT, .keep = 16 * KIB,
};
FIXTURE_VARIANT_ADD(img, zero_page_keep48k) {
	.flags = WASMPOOL_CONFIGURE_ZERO_PAGE, .keep = 48 * KIB,
};
FIXTURE_VARIANT_ADD(img, striped_keep16k) { .keep = 16 * KIB, .striped = true };

FIXTURE_SETUP(img)
{
	struct wasmpool_configure c = wp_test_config(variant->flags, MAX_MEM, SLOTS,
						     variant->keep);
	struct wasmpool_apply_keys ak = { .size = sizeof(ak) };

	self->base = MAP_FAILED;
	self->sys_images = wp_sysfs_read("images");
	self->sys_image_bytes = wp_sysfs_read("image_bytes");
	if (variant->striped) {
		self->fd = -1;
		if (!wp_test_have_pkeys())
			SKIP(return, "no protection keys (CPU without PKU, or none free)");
		c.guard_bytes = GUARD_STRIPED;
		c.pkey_mode = WASMPOOL_PKEYS_REQUIRE;
	}
	WP_TEST_OPEN_POOL(self, c);
	if (variant->striped) {
		ASSERT_LT(1, self->l.num_stripes);
		ASSERT_EQ(0, wp_ioctl(self->fd, WASMPOOL_IOC_APPLY_KEYS, &ak));
		/* open every stripe in this thread; new threads inherit it */
		for (uint32_t i = 0; i < self->l.num_stripes; i++)
			ASSERT_EQ(0, pkey_set(c.stripe_pkeys[i], 0));
	}
	fill_image(self->a, IMG, 1);
	fill_image(self->b, IMG, 2);
}

FIXTURE_TEARDOWN(img)
{
	if (self->base != MAP_FAILED)
		munmap(self->base, self->l.total_bytes);
	if (self->fd >= 0)
		close(self->fd);
	/* the pool's end released every image and its pages */
	if (self->sys_images >= 0) {
		EXPECT_EQ(self->sys_images, wp_sysfs_wait("images", self->sys_images));
		EXPECT_EQ(self->sys_image_bytes,
			  wp_sysfs_wait("image_bytes", self->sys_image_bytes));
	}
}

static volatile unsigned char *slot_mem(FIXTURE_DATA(img) *self,
					const struct wasmpool_slot_alloc *a)
{
	return (volatile unsigned char *)self->base + a->offset;
}

/* A slot reads the image, then zeroes; reading costs no page of its own. */
TEST_F(img, reads_image_without_a_copy)
{
	struct wasmpool_slot_alloc s;
	struct wasmpool_stats st;
	uint64_t bad = 0;
	uint32_t id;

	ASSERT_EQ(0, image_create(self->fd, self->a, IMG, &id));
	EXPECT_NE(0, id);
	ASSERT_EQ(0, alloc_image(self->fd, MAX_MEM, id, &s));
	EXPECT_EQ(WASMPOOL_SLOT_COLD, s.reuse);
	EXPECT_TRUE(reads_as(slot_mem(self, &s), MAX_MEM, self->a, IMG, &bad))
		TH_LOG("byte %llu", (unsigned long long)bad);
	st = stats_of(self->fd);
	EXPECT_EQ(1, st.images);
	EXPECT_EQ(IMG, st.image_bytes);
	EXPECT_EQ(0, st.image_copies);
	/* the zeroes above the image are backed (or the zero page); the image is not */
	EXPECT_GE(MAX_MEM - IMG, st.resident_bytes);
	EXPECT_EQ(self->sys_images + 1, wp_sysfs_read("images"));
	EXPECT_EQ(self->sys_image_bytes + (long long)IMG, wp_sysfs_read("image_bytes"));
	EXPECT_EQ(0, wp_free(self->fd, s.slot));
	EXPECT_EQ(0, image_release(self->fd, id));
	st = stats_of(self->fd);
	EXPECT_EQ(0, st.images);
	EXPECT_EQ(0, st.image_bytes);
}

/*
 * A write, after a read of the page or not, copies it: the slot keeps the
 * rest of the page's image bytes, another slot of the image reads it
 * pristine.
 */
TEST_F(img, write_copies_the_page_and_never_the_image)
{
	struct wasmpool_slot_alloc s, t;
	volatile unsigned char *m, *n;
	uint64_t bad = 0, pages = IMG / PAGE;

	uint32_t id;

	ASSERT_EQ(0, image_create(self->fd, self->a, IMG, &id));
	ASSERT_EQ(0, alloc_image(self->fd, MAX_MEM, id, &s));
	ASSERT_EQ(0, alloc_image(self->fd, MAX_MEM, id, &t));
	m = slot_mem(self, &s);
	n = slot_mem(self, &t);
	for (uint64_t p = 0; p < pages; p++) {
		if (p % 2)
			(void)m[p * PAGE + 7];	/* read first: pfn_mkwrite */
		m[p * PAGE + p] = (unsigned char)~self->a[p * PAGE + p];
	}
	for (uint64_t p = 0; p < pages; p++) {
		for (uint64_t i = 0; i < PAGE; i++) {
			unsigned char want = self->a[p * PAGE + i];

			if (i == p)
				want = ~want;
			ASSERT_EQ(want, m[p * PAGE + i]) TH_LOG("page %llu byte %llu",
				(unsigned long long)p, (unsigned long long)i);
		}
	}
	EXPECT_TRUE(reads_as(n, MAX_MEM, self->a, IMG, &bad))
		TH_LOG("the other slot, byte %llu", (unsigned long long)bad);
	EXPECT_EQ(pages, stats_of(self->fd).image_copies);
	EXPECT_EQ(0, wp_free(self->fd, s.slot));
	EXPECT_EQ(0, wp_free(self->fd, t.slot));
	EXPECT_EQ(0, image_release(self->fd, id));
}

/* --- (1) many tenants write, others read: the image never changes -------- */

struct tenant_arg {
	FIXTURE_DATA(img) *self;
	uint32_t id;
	int writer;
	unsigned int seed;
	atomic_int *stop;
	atomic_int *readers_busy;
	long errors;
	long rounds;
};

static void *tenant_thread(void *p)
{
	struct tenant_arg *t = p;
	struct wasmpool_slot_alloc s;
	uint64_t bad;

	if (alloc_image(t->self->fd, MAX_MEM, t->id, &s)) {
		t->errors = -1;
		return NULL;
	}
	do {
		volatile unsigned char *m = slot_mem(t->self, &s);
		unsigned char tag = (unsigned char)(t->seed * 16 + t->rounds);

		if (!t->writer) {
			if (!reads_as(m, MAX_MEM, t->self->a, IMG, &bad))
				t->errors++;
			t->rounds++;
			continue;
		}
		/* every page: read some first (pfn_mkwrite), write, check */
		for (uint64_t i = 0; i < MAX_MEM; i += PAGE) {
			if ((i / PAGE + t->rounds) % 2)
				(void)m[i + 100];
			m[i + (t->rounds % PAGE)] = tag;
		}
		for (uint64_t i = 0; i < MAX_MEM; i += PAGE)
			if (m[i + (t->rounds % PAGE)] != tag)
				t->errors++;
		/* the reset gives back the image */
		if (wp_reset(t->self->fd, s.slot, MAX_MEM) ||
		    !reads_as(m, MAX_MEM, t->self->a, IMG, &bad))
			t->errors++;
		t->rounds++;
	} while (!atomic_load(t->stop) || (!t->writer && t->rounds < 3));
	if (!t->writer)
		atomic_fetch_sub(t->readers_busy, 1);
	if (wp_free(t->self->fd, s.slot))
		t->errors++;
	return NULL;
}

TEST_F(img, tenants_never_write_into_the_shared_image)
{
	enum { WRITERS = 4, READERS = 2 };
	struct tenant_arg args[WRITERS + READERS];
	pthread_t th[WRITERS + READERS];
	atomic_int stop = 0, readers = READERS;
	struct wasmpool_slot_alloc s;
	uint64_t bad = 0;
	uint32_t id;

	ASSERT_EQ(0, image_create(self->fd, self->a, IMG, &id));
	for (int i = 0; i < WRITERS + READERS; i++) {
		args[i] = (struct tenant_arg){
			.self = self, .id = id, .writer = i < WRITERS, .seed = i + 1,
			.stop = &stop, .readers_busy = &readers,
		};
		ASSERT_EQ(0, pthread_create(&th[i], NULL, tenant_thread, &args[i]));
	}
	/* writers write until the readers have read a few passes each */
	for (int i = 0; i < 400 && (args[WRITERS].rounds < 20 ||
				    args[WRITERS + 1].rounds < 20); i++)
		usleep(20000);
	atomic_store(&stop, 1);
	for (int i = 0; i < WRITERS + READERS; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, args[i].errors) TH_LOG("tenant %d (%s), %ld rounds", i,
						    args[i].writer ? "writer" : "reader",
						    args[i].rounds);
		EXPECT_LT(0, args[i].rounds);
	}
	/* a new tenant still reads the pristine image */
	ASSERT_EQ(0, alloc_image(self->fd, MAX_MEM, id, &s));
	EXPECT_TRUE(reads_as(slot_mem(self, &s), MAX_MEM, self->a, IMG, &bad))
		TH_LOG("byte %llu", (unsigned long long)bad);
	EXPECT_EQ(0, wp_free(self->fd, s.slot));
	EXPECT_EQ(0, image_release(self->fd, id));
}

/* --- (2) 10,000 tenants: a reset or alloc gives exactly the image back ----- */

#define TENANTS		10000
#define LIVE		4

struct live {
	bool used;
	uint32_t slot;
	int which;		/* 0: none, 1: a, 2: b */
	uint64_t acc;
	uint64_t offset;
};

TEST_F(img, reset_returns_exactly_the_image_for_10000_tenants)
{
	const unsigned char *imgs[3] = { NULL, self->a, self->b };
	uint64_t rng = 42 + variant->keep + variant->flags, bad = 0;
	struct live live[LIVE] = { 0 };
	uint32_t ids[3] = { 0 };
	unsigned long hits = 0, cold = 0, warm = 0, checks = 0;
	struct wasmpool_stats st;

	ASSERT_EQ(0, image_create(self->fd, self->a, IMG, &ids[1]));
	ASSERT_EQ(0, image_create(self->fd, self->b, IMG, &ids[2]));
	for (int n = 0; n < TENANTS; n++) {
		struct live *t = &live[wp_test_rng(&rng) % LIVE];
		struct wasmpool_slot_alloc s;
		uint64_t r = wp_test_rng(&rng);
		volatile unsigned char *m;
		const unsigned char *img;
		uint64_t img_len;

		if (t->used) {
			/* the last tenant: verify after a last reset sometimes */
			ASSERT_EQ(0, wp_free(self->fd, t->slot));
			t->used = false;
		}
		t->which = r % 10 < 6 ? 1 : r % 10 < 9 ? 2 : 0;
		t->acc = ((r >> 8) % (MAX_MEM / PAGE) + 1) * PAGE;
		img = imgs[t->which];
		img_len = t->which ? IMG : 0;
		if (t->acc < img_len)
			t->acc = img_len;
		if (t->which && (r >> 20) % 8 == 0) {
			/* an explicit affinity key as well: the key decides, the image follows */
			memset(&s, 0, sizeof(s));
			s.size = sizeof(s);
			s.flags = WASMPOOL_SLOT_ALLOC_IMAGE | WASMPOOL_SLOT_ALLOC_AFFINITY;
			s.image = ids[t->which];
			s.affinity = (r >> 24) % 3;
			s.accessible_bytes = t->acc;
			ASSERT_EQ(0, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_ALLOC, &s));
		} else if (t->which) {
			ASSERT_EQ(0, alloc_image(self->fd, t->acc, ids[t->which], &s));
		} else {
			ASSERT_EQ(0, wp_alloc(self->fd, t->acc, &s));
		}
		hits += s.reuse == WASMPOOL_SLOT_WARM_HIT;
		cold += s.reuse == WASMPOOL_SLOT_COLD;
		warm += s.reuse == WASMPOOL_SLOT_WARM;
		t->used = true;
		t->slot = s.slot;
		t->offset = s.offset;
		m = slot_mem(self, &s);
		for (int round = 0; ; round++) {
			ASSERT_TRUE(reads_as(m, t->acc, img, img_len, &bad))
				TH_LOG("tenant %d round %d image %d acc %llu reuse %u: byte %llu",
				       n, round, t->which, (unsigned long long)t->acc, s.reuse,
				       (unsigned long long)bad);
			checks++;
			/* random writes inside and outside the image and the kept range */
			for (int w = 0; w < 4; w++) {
				uint64_t off = wp_test_rng(&rng) % t->acc;

				m[off] = (unsigned char)(wp_test_rng(&rng) | 1);
			}
			if (round == 1 || wp_test_rng(&rng) % 3)
				break;
			/* a reset to another size, never below the image */
			t->acc = (wp_test_rng(&rng) % (MAX_MEM / PAGE) + 1) * PAGE;
			if (t->acc < img_len)
				t->acc = img_len;
			ASSERT_EQ(0, wp_reset(self->fd, t->slot, t->acc));
		}
	}
	for (int i = 0; i < LIVE; i++)
		if (live[i].used)
			ASSERT_EQ(0, wp_free(self->fd, live[i].slot));
	TH_LOG("%d tenants, %lu checks: %lu warm hits, %lu warm, %lu cold",
	       TENANTS, checks, hits, warm, cold);
	EXPECT_LT(0, hits);
	EXPECT_LT(0, cold);
	st = stats_of(self->fd);
	EXPECT_EQ(2, st.images);
	EXPECT_EQ(0, image_release(self->fd, ids[1]));
	EXPECT_EQ(0, image_release(self->fd, ids[2]));
	/* no slot is in use: the images went at their release */
	st = stats_of(self->fd);
	EXPECT_EQ(0, st.images);
	EXPECT_EQ(0, st.image_bytes);
	EXPECT_EQ(0, st.slots_in_use);
}

/* --- (6) a released image serves its slots until they are freed ---------- */

TEST_F(img, release_while_in_use_keeps_the_slots_working)
{
	struct wasmpool_slot_alloc s, t, w;
	uint64_t bad = 0;
	uint32_t id;

	ASSERT_EQ(0, image_create(self->fd, self->a, IMG, &id));
	ASSERT_EQ(0, alloc_image(self->fd, MAX_MEM, id, &s));
	ASSERT_EQ(0, alloc_image(self->fd, MAX_MEM, id, &t));
	/* a third one, read and freed: a warm free slot holding the image */
	ASSERT_EQ(0, alloc_image(self->fd, MAX_MEM, id, &w));
	EXPECT_TRUE(reads_as(slot_mem(self, &w), MAX_MEM, self->a, IMG, &bad));
	ASSERT_EQ(0, wp_free(self->fd, w.slot));
	slot_mem(self, &s)[5] = 0;

	ASSERT_EQ(0, image_release(self->fd, id));
	EXPECT_EQ(-ENOENT, image_release(self->fd, id));
	EXPECT_EQ(-ENOENT, alloc_image(self->fd, MAX_MEM, id, &w));
	EXPECT_EQ(1, stats_of(self->fd).images);
	EXPECT_EQ(IMG, stats_of(self->fd).image_bytes);

	/* the slots still read (and copy) the image; a reset still restores it */
	EXPECT_EQ(0, slot_mem(self, &s)[5]);
	EXPECT_TRUE(reads_as(slot_mem(self, &t), MAX_MEM, self->a, IMG, &bad));
	slot_mem(self, &t)[IMG - 1] = 0;
	EXPECT_EQ(0, wp_reset(self->fd, s.slot, MAX_MEM));
	EXPECT_TRUE(reads_as(slot_mem(self, &s), MAX_MEM, self->a, IMG, &bad))
		TH_LOG("byte %llu", (unsigned long long)bad);

	EXPECT_EQ(0, wp_free(self->fd, s.slot));
	EXPECT_EQ(1, stats_of(self->fd).images);
	EXPECT_EQ(0, wp_free(self->fd, t.slot));
	EXPECT_EQ(0, stats_of(self->fd).images);
	EXPECT_EQ(0, stats_of(self->fd).image_bytes);
	EXPECT_EQ(self->sys_images, wp_sysfs_read("images"));
	EXPECT_EQ(self->sys_image_bytes, wp_sysfs_read("image_bytes"));
	/* the slots are plain zeroed slots again */
	ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &s));
	EXPECT_TRUE(reads_as(slot_mem(self, &s), MAX_MEM, NULL, 0, &bad))
		TH_LOG("byte %llu", (unsigned long long)bad);
	EXPECT_EQ(0, wp_free(self->fd, s.slot));
}

/*
 * Releases race with tenants: threads allocate slots with whichever image
 * is current, read and write them, reset and free them, while the main
 * thread creates a new image and releases the old one, over and over.
 * Every tenant reads its image intact (never a freed or another page), an
 * allocation with a released id fails with ENOENT and nothing else, and
 * once the tenants are gone no image is left.
 */
struct racer {
	FIXTURE_DATA(img) *self;
	atomic_uint *current;
	atomic_int *stop;
	long tenants, enoent, errors;
};

static void *racer_thread(void *p)
{
	struct racer *r = p;
	struct wasmpool_slot_alloc s;
	uint64_t bad;

	while (!atomic_load(r->stop)) {
		uint32_t id = atomic_load(r->current);
		volatile unsigned char *m;
		int ret = alloc_image(r->self->fd, MAX_MEM, id, &s);

		if (ret == -ENOENT) {
			/* released under us: wait for the next one */
			r->enoent++;
			usleep(200);
			continue;
		}
		if (ret == -ENOSPC)
			continue;
		if (ret) {
			r->errors++;
			continue;
		}
		m = slot_mem(r->self, &s);
		if (!reads_as(m, MAX_MEM, r->self->a, IMG, &bad))
			r->errors++;
		m[(r->tenants * PAGE) % MAX_MEM] = 0;
		if (r->tenants % 2 && (wp_reset(r->self->fd, s.slot, MAX_MEM) ||
				       !reads_as(m, MAX_MEM, r->self->a, IMG, &bad)))
			r->errors++;
		if (wp_free(r->self->fd, s.slot))
			r->errors++;
		r->tenants++;
	}
	return NULL;
}

TEST_F(img, release_races_with_tenants)
{
	enum { THREADS = 3, ROUNDS = 150 };
	struct racer r[THREADS];
	pthread_t th[THREADS];
	atomic_int stop = 0;
	atomic_uint current;
	long tenants = 0, enoent = 0;
	uint32_t id, old;

	ASSERT_EQ(0, image_create(self->fd, self->a, IMG, &id));
	atomic_init(&current, id);
	for (int i = 0; i < THREADS; i++) {
		r[i] = (struct racer){ .self = self, .current = &current, .stop = &stop };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, racer_thread, &r[i]));
	}
	for (int n = 0; n < ROUNDS; n++) {
		old = id;
		ASSERT_EQ(0, image_create(self->fd, self->a, IMG, &id));
		if (n % 2) {
			/* the tenants move on first: slots of the old one in use */
			atomic_store(&current, id);
			usleep(n % 3 * 1000);
			ASSERT_EQ(0, image_release(self->fd, old));
		} else {
			/* released under them: their allocations get ENOENT */
			ASSERT_EQ(0, image_release(self->fd, old));
			usleep(n % 3 * 1000);
			atomic_store(&current, id);
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, r[i].errors) TH_LOG("thread %d", i);
		tenants += r[i].tenants;
		enoent += r[i].enoent;
	}
	TH_LOG("%d images, %ld tenants, %ld allocations of a released image", ROUNDS + 1,
	       tenants, enoent);
	EXPECT_LT(THREADS, tenants);
	EXPECT_LT(0, enoent);
	EXPECT_EQ(1, stats_of(self->fd).images);
	EXPECT_EQ(0, image_release(self->fd, id));
	EXPECT_EQ(0, stats_of(self->fd).images);
	EXPECT_EQ(0, stats_of(self->fd).image_bytes);
	EXPECT_EQ(0, stats_of(self->fd).slots_in_use);
}

/* An image without a key of its own brings its slot back: a warm hit. */
TEST_F(img, the_image_is_the_affinity_key)
{
	struct wasmpool_slot_alloc s, t;
	uint32_t ida, idb;
	uint64_t bad = 0;

	ASSERT_EQ(0, image_create(self->fd, self->a, IMG, &ida));
	ASSERT_EQ(0, image_create(self->fd, self->b, IMG, &idb));
	ASSERT_EQ(0, alloc_image(self->fd, MAX_MEM, ida, &s));
	(void)slot_mem(self, &s)[0];
	ASSERT_EQ(0, wp_free(self->fd, s.slot));
	/* another image takes a cold slot rather than evict a's */
	ASSERT_EQ(0, alloc_image(self->fd, MAX_MEM, idb, &t));
	EXPECT_NE(s.slot, t.slot);
	EXPECT_EQ(WASMPOOL_SLOT_COLD, t.reuse);
	ASSERT_EQ(0, alloc_image(self->fd, MAX_MEM, ida, &t));
	EXPECT_EQ(s.slot, t.slot);
	EXPECT_EQ(WASMPOOL_SLOT_WARM_HIT, t.reuse);
	EXPECT_TRUE(reads_as(slot_mem(self, &t), MAX_MEM, self->a, IMG, &bad));
	EXPECT_EQ(1, stats_of(self->fd).warm_hits);
	EXPECT_EQ(0, image_release(self->fd, ida));
	EXPECT_EQ(0, image_release(self->fd, idb));
}

/* Read from a file (a memfd) at an offset; writing the memfd later changes nothing. */
TEST_F(img, image_from_a_memfd_is_a_copy)
{
	struct wasmpool_slot_alloc s;
	uint64_t bad = 0;
	uint32_t id;
	int mfd;

	mfd = memfd_create("image", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(PAGE, pwrite(mfd, self->b, PAGE, 0));
	ASSERT_EQ(IMG, pwrite(mfd, self->a, IMG, PAGE));
	ASSERT_EQ(0, image_create_fd(self->fd, mfd, PAGE, IMG, &id));
	ASSERT_EQ(IMG, pwrite(mfd, self->b, IMG, PAGE));
	ASSERT_EQ(0, ftruncate(mfd, 0));
	close(mfd);
	ASSERT_EQ(0, alloc_image(self->fd, MAX_MEM, id, &s));
	EXPECT_TRUE(reads_as(slot_mem(self, &s), MAX_MEM, self->a, IMG, &bad))
		TH_LOG("byte %llu", (unsigned long long)bad);
	EXPECT_EQ(0, wp_free(self->fd, s.slot));
	EXPECT_EQ(0, image_release(self->fd, id));
}

/* --- (3) bad input: the exact errno, nothing leaked ----------------------- */

TEST_F(img, bad_input_exact_errno_nothing_leaked)
{
	struct wasmpool_stats before = stats_of(self->fd), after;
	long long limit_hits = wp_sysfs_read("limit_hits");
	struct wasmpool_image_create c;
	struct wasmpool_image_release r;
	struct wasmpool_slot_alloc s;
	int pipefd[2], mfd, wfd, other;
	uint32_t id, oid = 0;
	uint64_t bad = 0;

#define CREATE(...) ({ c = (struct wasmpool_image_create){ .size = sizeof(c),		\
			.user_addr = (uintptr_t)self->a, .length = IMG, __VA_ARGS__ };	\
		wp_ioctl(self->fd, WASMPOOL_IOC_IMAGE_CREATE, &c); })
	EXPECT_EQ(-EINVAL, CREATE(.length = 0));
	EXPECT_EQ(-EINVAL, CREATE(.length = 100));
	EXPECT_EQ(-EINVAL, CREATE(.length = PAGE + 1));
	EXPECT_EQ(-EINVAL, CREATE(.length = MAX_MEM + PAGE));
	EXPECT_EQ(-EINVAL, CREATE(.length = 1ULL << 63));
	EXPECT_EQ(-EFAULT, CREATE(.user_addr = 0));
	/* the last slot's guard region: the copy faults */
	EXPECT_EQ(-EFAULT, CREATE(.user_addr = (uintptr_t)self->base + self->l.total_bytes - IMG));
	EXPECT_EQ(-EOPNOTSUPP, CREATE(.flags = 1u << 5));
	EXPECT_EQ(-EOPNOTSUPP, CREATE(.__reserved = 1));
	EXPECT_EQ(-EOPNOTSUPP, CREATE(.__reserved2 = 1));
	EXPECT_EQ(-EOPNOTSUPP, CREATE(.fd = 3));
	EXPECT_EQ(-EOPNOTSUPP, CREATE(.fd_offset = PAGE));
	EXPECT_EQ(-EOPNOTSUPP, CREATE(.flags = WASMPOOL_IMAGE_FROM_FD, .fd = 0));
	EXPECT_EQ(-EBADF, CREATE(.flags = WASMPOOL_IMAGE_FROM_FD, .user_addr = 0, .fd = -1));
	EXPECT_EQ(-EBADF, CREATE(.flags = WASMPOOL_IMAGE_FROM_FD, .user_addr = 0, .fd = 999));
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	EXPECT_EQ(-EINVAL, CREATE(.flags = WASMPOOL_IMAGE_FROM_FD, .user_addr = 0,
				  .fd = pipefd[0]));
	close(pipefd[0]);
	close(pipefd[1]);
	EXPECT_EQ(-EINVAL, CREATE(.flags = WASMPOOL_IMAGE_FROM_FD, .user_addr = 0,
				  .fd = self->fd));
	mfd = memfd_create("image", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(IMG - PAGE, pwrite(mfd, self->a, IMG - PAGE, 0));
	/* one page short */
	EXPECT_EQ(-EINVAL, CREATE(.flags = WASMPOOL_IMAGE_FROM_FD, .user_addr = 0, .fd = mfd));
	EXPECT_EQ(-EINVAL, CREATE(.flags = WASMPOOL_IMAGE_FROM_FD, .user_addr = 0, .fd = mfd,
				  .fd_offset = 100));
	EXPECT_EQ(-EOVERFLOW, CREATE(.flags = WASMPOOL_IMAGE_FROM_FD, .user_addr = 0, .fd = mfd,
				     .fd_offset = UINT64_MAX & ~(PAGE - 1)));
	/* a descriptor not open for reading */
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
		wfd = open(path, O_WRONLY | O_CLOEXEC);
		ASSERT_LE(0, wfd);
		EXPECT_EQ(-EBADF, CREATE(.flags = WASMPOOL_IMAGE_FROM_FD, .user_addr = 0,
					 .fd = wfd, .length = PAGE));
		close(wfd);
	}
	close(mfd);
	/* a struct of the first version's size minus one */
	c = (struct wasmpool_image_create){ .size = offsetofend(struct wasmpool_image_create,
								__reserved2) - 1 };
	EXPECT_EQ(-EINVAL, wp_ioctl(self->fd, WASMPOOL_IOC_IMAGE_CREATE, &c));

	/* ids: 0 and never given out are EINVAL, released ones ENOENT */
	ASSERT_EQ(0, image_create(self->fd, self->a, IMG, &id));
	EXPECT_EQ(-EINVAL, alloc_image(self->fd, MAX_MEM, 0, &s));
	EXPECT_EQ(-EINVAL, alloc_image(self->fd, MAX_MEM, id + 1000, &s));
	EXPECT_EQ(-EINVAL, alloc_image(self->fd, IMG - PAGE, id, &s));
	EXPECT_EQ(-ERANGE, alloc_image(self->fd, MAX_MEM + PAGE, id, &s));
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.accessible_bytes = MAX_MEM;
	s.image = id;		/* without the flag */
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_ALLOC, &s));
	s.flags = WASMPOOL_SLOT_ALLOC_IMAGE;
	s.__reserved2 = 1;
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_ALLOC, &s));
	r = (struct wasmpool_image_release){ .size = sizeof(r), .image = id, .flags = 1 };
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_IMAGE_RELEASE, &r));
	r = (struct wasmpool_image_release){ .size = sizeof(r), .image = id, .__reserved = 1 };
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_IMAGE_RELEASE, &r));
	EXPECT_EQ(-EINVAL, image_release(self->fd, 0));
	EXPECT_EQ(-EINVAL, image_release(self->fd, id + 1000));

	/* a reset below the image's length */
	ASSERT_EQ(0, alloc_image(self->fd, MAX_MEM, id, &s));
	EXPECT_EQ(-EINVAL, wp_reset(self->fd, s.slot, IMG - PAGE));
	EXPECT_TRUE(reads_as(slot_mem(self, &s), MAX_MEM, self->a, IMG, &bad));

	/*
	 * Another pool's ids are its own: an id this pool never gave out is
	 * unknown, and one it did names this pool's image, never the other's.
	 */
	WP_TEST_OPEN_DEVICE(other);
	{
		struct wasmpool_configure oc = wp_test_config(0, MAX_MEM, 2, 0);

		ASSERT_EQ(0, wp_configure(other, &oc));
		for (int i = 0; i < 3; i++)
			ASSERT_EQ(0, image_create(other, self->b, IMG, &oid));
	}
	EXPECT_LT(id, oid);
	EXPECT_EQ(-EINVAL, alloc_image(self->fd, MAX_MEM, oid, &s));
	EXPECT_EQ(-EINVAL, image_release(self->fd, oid));
	close(other);

	EXPECT_EQ(0, wp_free(self->fd, s.slot));
	EXPECT_EQ(0, image_release(self->fd, id));
	EXPECT_EQ(-ENOENT, image_release(self->fd, id));
	EXPECT_EQ(-ENOENT, alloc_image(self->fd, MAX_MEM, id, &s));

	/* nothing leaked: the pool's and the module's counters are back */
	after = stats_of(self->fd);
	EXPECT_EQ(before.images, after.images);
	EXPECT_EQ(before.image_bytes, after.image_bytes);
	EXPECT_EQ(before.slots_in_use, after.slots_in_use);
	EXPECT_EQ(self->sys_images, wp_sysfs_wait("images", self->sys_images));
	EXPECT_EQ(self->sys_image_bytes, wp_sysfs_wait("image_bytes", self->sys_image_bytes));
	EXPECT_EQ(limit_hits, wp_sysfs_read("limit_hits"));
#undef CREATE
}

/* The admin limit: EDQUOT beyond max_image_bytes_per_pool, counted. */
TEST(image_limit_edquot)
{
	char old[64];
	long long hits = wp_sysfs_read("limit_hits");
	struct wasmpool_configure c = wp_test_config(0, MAX_MEM, 2, 0);
	static unsigned char buf[MAX_MEM];
	uint32_t id;
	int fd;

	WP_TEST_OPEN_DEVICE(fd);
	if (wp_file_rw("/sys/class/misc/wasmpool/max_image_bytes_per_pool", old,
		       sizeof(old), NULL) ||
	    wp_file_rw("/sys/class/misc/wasmpool/max_image_bytes_per_pool", NULL, 0, "65536")) {
		close(fd);
		SKIP(return, "cannot write max_image_bytes_per_pool (not root?)");
	}
	ASSERT_EQ(0, wp_configure(fd, &c));
	ASSERT_EQ(0, wp_file_rw("/sys/class/misc/wasmpool/max_image_bytes_per_pool",
				NULL, 0, old));
	EXPECT_EQ(0, image_create(fd, buf, 32 * KIB, &id));
	EXPECT_EQ(-EDQUOT, image_create(fd, buf, 48 * KIB, NULL));
	EXPECT_EQ(hits + 1, wp_sysfs_read("limit_hits"));
	EXPECT_EQ(0, image_create(fd, buf, 32 * KIB, NULL));	/* exactly at it */
	EXPECT_EQ(-EDQUOT, image_create(fd, buf, PAGE, NULL));
	EXPECT_EQ(0, image_release(fd, id));
	EXPECT_EQ(0, image_create(fd, buf, 32 * KIB, NULL));
	close(fd);
}

/* --- (4) image pages cannot be pinned ----------------------------------- */

TEST_F(img, image_pages_cannot_be_pinned)
{
	struct wasmpool_slot_alloc s;
	char *buf = malloc(PAGE);
	struct iovec local, remote;
	uint64_t bad = 0;
	int pipefd[2];
	ssize_t n;
	uint32_t id;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, image_create(self->fd, self->a, IMG, &id));
	ASSERT_EQ(0, alloc_image(self->fd, MAX_MEM, id, &s));
	/* page 0 read (the image's page mapped), page 1 written (a copy) */
	EXPECT_EQ(self->a[0], slot_mem(self, &s)[0]);
	slot_mem(self, &s)[PAGE] = 'W';
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC | O_NONBLOCK));
	for (int page = 0; page < 2; page++) {
		struct iovec iov = { (char *)slot_mem(self, &s) + page * PAGE, PAGE };

		n = vmsplice(pipefd[1], &iov, 1, 0);
		EXPECT_EQ(-1, n) TH_LOG("vmsplice of page %d took a reference", page);
		EXPECT_EQ(EFAULT, errno);
		local = (struct iovec){ buf, PAGE };
		remote = iov;
		n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
		EXPECT_EQ(-1, n) TH_LOG("process_vm_readv of page %d pinned it", page);
	}
	close(pipefd[0]);
	close(pipefd[1]);
	/* O_DIRECT, where the filesystem has it, either fails or copies */
	{
		int f = open("/tmp/image_test.odirect", O_CREAT | O_RDWR | O_DIRECT | O_CLOEXEC,
			     0600);

		if (f < 0) {
			TH_LOG("no O_DIRECT here (%s): vmsplice and process_vm_readv only",
			       strerror(errno));
		} else {
			n = pwrite(f, (char *)slot_mem(self, &s), PAGE, 0);
			TH_LOG("O_DIRECT write of an image page: %zd (%s)", n,
			       n < 0 ? strerror(errno) : "copied");
			ASSERT_EQ(0, wp_reset(self->fd, s.slot, MAX_MEM));
			if (n == PAGE) {
				ASSERT_EQ(PAGE, pread(f, buf, PAGE, 0));
				EXPECT_EQ(0, memcmp(buf, self->a, PAGE));
			}
			close(f);
			unlink("/tmp/image_test.odirect");
		}
	}
	/* the reset never leaks: the slot reads the image again */
	ASSERT_EQ(0, wp_reset(self->fd, s.slot, MAX_MEM));
	EXPECT_TRUE(reads_as(slot_mem(self, &s), MAX_MEM, self->a, IMG, &bad))
		TH_LOG("byte %llu", (unsigned long long)bad);
	EXPECT_EQ(0, wp_free(self->fd, s.slot));
	EXPECT_EQ(0, image_release(self->fd, id));
	free(buf);
}

/* --- (5) an image costs its pages once ----------------------------------- */

/*
 * A 4 MiB image in 8 slots of a pool: the pool's stats and sysfs count it
 * once, so does the owner's RssShmem (to within the per-CPU counters'
 * slack, 512 KiB or more); mapping the slots costs no page, reading every
 * byte of every slot's image costs no page either.
 */
TEST(image_counted_once)
{
	const uint64_t max = 8 << 20, len = 4 << 20;
	struct wasmpool_configure c = wp_test_config(0, max, 8, 0);
	long long cpus = sysconf(_SC_NPROCESSORS_CONF);
	long long fuzz = 2 * (cpus * 2 > 32 ? cpus * 2 : 32) * cpus * PAGE;
	long long rss0, rss1, rss2, rss3, sys_bytes = wp_sysfs_read("image_bytes");
	struct wasmpool_slot_alloc s[8];
	struct wasmpool_stats st;
	unsigned char *img;
	uint64_t bad = 0;
	char *base;
	uint32_t id;
	int fd;

	if (fuzz < 128 * (long long)PAGE)
		fuzz = 128 * PAGE;
	img = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, img);
	fill_image(img, len, 7);
	WP_TEST_OPEN_DEVICE(fd);
	ASSERT_EQ(0, wp_configure(fd, &c));
	base = wp_test_map(fd, &c.layout);
	ASSERT_NE(MAP_FAILED, base);
	rss0 = wp_test_status_bytes("RssShmem");
	ASSERT_EQ(0, image_create(fd, img, len, &id));
	rss1 = wp_test_status_bytes("RssShmem");
	EXPECT_EQ(sys_bytes + (long long)len, wp_sysfs_read("image_bytes"));
	for (int i = 0; i < 8; i++)
		ASSERT_EQ(0, alloc_image(fd, max, id, &s[i]));
	st = stats_of(fd);
	EXPECT_EQ(0, st.pages_allocated);
	EXPECT_EQ(0, st.resident_bytes);
	for (int i = 0; i < 8; i++) {
		ASSERT_TRUE(reads_as((unsigned char *)base + s[i].offset, len, img, len, &bad))
			TH_LOG("slot %d byte %llu", i, (unsigned long long)bad);
	}
	rss2 = wp_test_status_bytes("RssShmem");
	st = stats_of(fd);
	EXPECT_EQ(0, st.pages_allocated);
	EXPECT_EQ(0, st.resident_bytes);
	EXPECT_EQ(len, st.image_bytes);
	EXPECT_EQ(0, st.image_copies);
	EXPECT_EQ(sys_bytes + (long long)len, wp_sysfs_read("image_bytes"));
	TH_LOG("RssShmem KiB: %lld before, %lld with the image, %lld with 8 slots read (fuzz %lld)",
	       rss0 >> 10, rss1 >> 10, rss2 >> 10, fuzz >> 10);
	EXPECT_LE(llabs(rss1 - rss0 - (long long)len), fuzz);
	EXPECT_LE(llabs(rss2 - rss1), fuzz);
	for (int i = 0; i < 8; i++)
		ASSERT_EQ(0, wp_free(fd, s[i].slot));
	ASSERT_EQ(0, image_release(fd, id));
	rss3 = wp_test_status_bytes("RssShmem");
	EXPECT_LE(llabs(rss3 - rss0), fuzz);
	EXPECT_EQ(sys_bytes, wp_sysfs_read("image_bytes"));
	munmap(base, c.layout.total_bytes);
	close(fd);
	munmap(img, len);
}

/* A caller of 0.3 passes the smaller slot-alloc and stats structs. */
TEST(older_struct_sizes_still_work)
{
	struct wasmpool_configure c = wp_test_config(0, MAX_MEM, 2, 0);
	struct {
		struct wasmpool_stats st;
		unsigned char canary[64];
	} big;
	struct wasmpool_slot_alloc a;
	int fd;

	WP_TEST_OPEN_DEVICE(fd);
	ASSERT_EQ(0, wp_configure(fd, &c));
	memset(&a, 0xa5, sizeof(a));
	memset(&a, 0, offsetofend(struct wasmpool_slot_alloc, __reserved));
	a.size = offsetofend(struct wasmpool_slot_alloc, __reserved);
	a.accessible_bytes = PAGE;
	ASSERT_EQ(0, wp_ioctl(fd, WASMPOOL_IOC_SLOT_ALLOC, &a));
	EXPECT_EQ(0xa5a5a5a5, a.image);		/* not written */
	memset(&big, 0xa5, sizeof(big));
	big.st.size = offsetofend(struct wasmpool_stats, faults_vma_locked);
	big.st.flags = 0;
	ASSERT_EQ(0, wp_ioctl(fd, WASMPOOL_IOC_STATS, &big.st));
	EXPECT_EQ(1, big.st.slots_in_use);
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, big.st.images);	/* not written */
	close(fd);
}

TEST_HARNESS_MAIN
