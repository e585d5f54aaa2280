// SPDX-License-Identifier: GPL-2.0-only
/*
 * pin_test: no page of a pool can be pinned across a reset. Every path a
 * runtime can reach that takes references to user pages - vmsplice(),
 * O_DIRECT, io_uring, MSG_ZEROCOPY, process_vm_readv(), /proc/PID/mem - is
 * aimed at a touched page of a slot, once on its own and once with the slot
 * reset under it. The path is refused, or it carries no byte between
 * tenants: the I/O is held in flight while the slot is reset (keep_resident
 * covers the page, so a module that zeroes it in place gives the same
 * physical page to the next tenant), the next tenant writes a secret at the
 * same place, and then the I/O is drained: the secret never comes out, and
 * what the I/O writes never lands in the next tenant's memory. The
 * "control" tests run the same holds on ordinary memory, where the pins
 * are legitimate, to show that the method sees a pin where there is one.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"
#include "wp_io.h"

#define KIB		1024ULL
#define PAGE		4096ULL
#define MAX_MEM		(256 * KIB)
#define KEEP		(64 * KIB)
#define SLOTS		4
/* What the next tenant writes at the start of the slot. */
#define SECRET		"TENANT-B-SECRET"

/* The loop device's backing file and where each I/O goes in it. */
#define BACKING_BYTES	(1024 * KIB)
#define IO_OFF		(64 * KIB)	/* the I/O under test */
#define PLUG_OFF	(128 * KIB)	/* the write that holds the loop worker */
#define HOLD_OFF	(512 * KIB)	/* the write that holds the backing inode */

/* MSG_ZEROCOPY across a reset: bytes queued ahead of the page. */
#define FILLER_BYTES	(128 * KIB)

/* How the I/O under test is issued. */
enum io_via { VIA_SYSCALL, VIA_IO_URING };

struct pool_io {
	enum io_via via;
	bool write;		/* from memory to the device */
	const char *name;
};

static const struct pool_io odirect_write = { VIA_SYSCALL, true, "O_DIRECT write" };
static const struct pool_io odirect_read = { VIA_SYSCALL, false, "O_DIRECT read" };
static const struct pool_io uring_write = { VIA_IO_URING, true, "io_uring O_DIRECT write" };
static const struct pool_io uring_read = { VIA_IO_URING, false, "io_uring O_DIRECT read" };

FIXTURE(pin) {
	int fd;
	char *base;
	struct wasmpool_layout l;
	uint32_t slot;
	char *s;		/* the slot's memory */
	char *buf;		/* 64 KiB of ordinary memory */
	int pipe[2];
	struct wp_loop lo;
	struct wp_stall stall;
	struct wp_ring ring;
	struct wp_tcp tcp;
	struct wp_io_thread io;	/* the I/O under test, VIA_SYSCALL */
	enum io_via via;	/* of the I/O under test */
};

FIXTURE_SETUP(pin)
{
	struct wasmpool_configure c = {
		.max_memory_bytes = MAX_MEM,
		.num_slots = SLOTS,
		.reservation_bytes = MAX_MEM,
		.guard_bytes = 64 * KIB,
		.keep_resident_bytes = KEEP,
	};

	self->base = MAP_FAILED;
	self->buf = MAP_FAILED;
	self->pipe[0] = -1;
	self->pipe[1] = -1;
	self->lo = (struct wp_loop)WP_LOOP_INIT;
	self->stall = (struct wp_stall)WP_STALL_INIT;
	self->ring = (struct wp_ring)WP_RING_INIT;
	self->tcp = (struct wp_tcp)WP_TCP_INIT;
	WP_TEST_OPEN_DEVICE(self->fd);
	ASSERT_EQ(0, wp_configure(self->fd, &c));
	self->l = c.layout;
	self->base = mmap(NULL, c.layout.total_bytes, PROT_READ | PROT_WRITE,
			  MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->base) TH_LOG("mmap: %s", strerror(errno));
	self->buf = mmap(NULL, 64 * KIB, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(pin)
{
	/* Let every held I/O finish before taking down what it uses. */
	wp_stall_release(&self->stall);
	wp_io_thread_join(&self->io);
	wp_ring_free(&self->ring);
	wp_loop_detach(&self->lo);
	wp_tcp_close(&self->tcp);
	if (self->pipe[0] >= 0)
		close(self->pipe[0]);
	if (self->pipe[1] >= 0)
		close(self->pipe[1]);
	if (self->buf != MAP_FAILED)
		munmap(self->buf, 64 * KIB);
	if (self->base != MAP_FAILED)
		munmap(self->base, self->l.total_bytes);
	if (self->fd >= 0)
		close(self->fd);
}

/* --- tenants -------------------------------------------------------------- */

/* Tenant A takes a slot and writes 'A' over its first page (touching it). */
static void tenant_a(struct __test_metadata *_metadata, FIXTURE_DATA(pin) *self)
{
	struct wasmpool_slot_alloc a;

	ASSERT_EQ(0, wp_alloc(self->fd, KEEP, &a));
	self->slot = a.slot;
	self->s = self->base + a.offset;
	memset(self->s, 'A', PAGE);
}

/*
 * The slot goes to tenant B: a reset (the page is within keep_resident),
 * then B writes its secret at the start of the slot, where A's page was.
 */
static void tenant_b(struct __test_metadata *_metadata, FIXTURE_DATA(pin) *self)
{
	ASSERT_EQ(0, wp_reset(self->fd, self->slot, KEEP));
	memcpy(self->s, SECRET, sizeof(SECRET));
}

static bool all_bytes(const char *p, int c, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != c)
			return false;
	return true;
}

/*
 * Data that went out through a path that started with tenant A's page:
 * every byte is A's ('A') or a reset's zero, never the next tenant's.
 */
static bool only_tenant_a(const char *what, const char *p, size_t len)
{
	bool secret = memmem(p, len, SECRET, strlen(SECRET));

	for (size_t i = 0; i < len; i++) {
		if (p[i] != 'A' && p[i] != 0) {
			fprintf(stderr, "# %s: byte %#x at %zu is not tenant A's%s\n",
				what, p[i] & 0xff, i,
				secret ? "; the next tenant's secret is in it" : "");
			return false;
		}
	}
	return true;
}

/* Tenant B's page reads as B left it: its secret, then zeroes. */
static bool tenant_b_intact(const char *p)
{
	if (memcmp(p, SECRET, sizeof(SECRET))) {
		fprintf(stderr, "# tenant B's page starts with %.16s, not its secret\n", p);
		return false;
	}
	if (!all_bytes(p + sizeof(SECRET), 0, PAGE - sizeof(SECRET))) {
		fprintf(stderr, "# tenant B's page is not zero after its secret\n");
		return false;
	}
	return true;
}

static void log_refused(const char *path, int err)
{
	fprintf(stderr, "# %s of pool memory refused: %s\n", path, strerror(err));
}

static void log_accepted(const char *path)
{
	fprintf(stderr, "# %s of pool memory accepted: the page was pinned\n", path);
}

/* What became of an attempt that returned @ret (errno set when < 0). */
static void log_attempt(const char *path, long ret)
{
	if (ret < 0)
		log_refused(path, errno);
	else
		log_accepted(path);
}

/* --- the I/O under test: O_DIRECT on a thread, or io_uring ------------------ */

/* The loop device (and the ring) for an I/O test, or skip. */
#define IO_SETUP(io) do {							\
	char why_[160];								\
	int err_;								\
	if (wp_loop_attach(&self->lo, BACKING_BYTES, why_, sizeof(why_)))	\
		SKIP(return, "no loop device: %s", why_);			\
	if ((io)->via == VIA_IO_URING) {					\
		err_ = wp_ring_setup(&self->ring);				\
		if (err_ == -ENOSYS || err_ == -EPERM)				\
			SKIP(return, "io_uring_setup: %s", strerror(-err_));	\
		ASSERT_EQ(0, err_) TH_LOG("io_uring_setup: %s", strerror(-err_)); \
	}									\
	/* an O_DIRECT read of the device lands on 'D's */			\
	memset(self->buf + PAGE, 'D', PAGE);					\
	ASSERT_EQ(PAGE, pwrite(self->lo.backing, self->buf + PAGE, PAGE, IO_OFF)); \
} while (0)

/*
 * Hold the loop device: 0, or -EOPNOTSUPP with the reason in @why when
 * nothing can hold I/O here (no userfaultfd); any other failure is the test's.
 */
static int hold(struct __test_metadata *_metadata, FIXTURE_DATA(pin) *self,
		char *why, size_t len)
{
	int err = wp_stall_hold(&self->stall, &self->lo, self->buf, PLUG_OFF, HOLD_OFF,
				why, len);

	ASSERT_NE(-EIO, err) TH_LOG("holding the loop device: %s", why);
	return err;
}

static void io_start(struct __test_metadata *_metadata, FIXTURE_DATA(pin) *self,
		     const struct pool_io *io, char *mem)
{
	int err;

	self->via = io->via;
	if (io->via == VIA_SYSCALL) {
		ASSERT_EQ(0, wp_io_thread_start(&self->io, self->lo.fd, io->write, mem,
						PAGE, IO_OFF));
	} else {
		err = wp_ring_rw(&self->ring, io->write, self->lo.fd, mem, PAGE, IO_OFF);
		ASSERT_EQ(0, err) TH_LOG("io_uring_enter: %s", strerror(-err));
	}
}

static bool io_done(void *arg)
{
	FIXTURE_DATA(pin) *self = arg;

	if (self->via == VIA_IO_URING)
		return wp_ring_has_cqe(&self->ring);
	return wp_io_thread_done(&self->io);
}

/* Wait for the I/O: its result, with errno set when it is negative. */
static ssize_t io_wait(struct __test_metadata *_metadata, FIXTURE_DATA(pin) *self,
		       const struct pool_io *io)
{
	ssize_t ret;

	ASSERT_TRUE(wp_wait_for(io_done, self, WP_IO_WAIT_MS))
		TH_LOG("%s did not complete", io->name);
	if (io->via == VIA_SYSCALL) {
		wp_io_thread_join(&self->io);
		errno = self->io.err;
		return self->io.ret;
	}
	ret = wp_ring_reap(&self->ring);
	if (ret < 0) {
		errno = -ret;
		ret = -1;
	}
	return ret;
}

/* Start the I/O on a held device; true once it is queued (pinned) there. */
static bool io_start_held(struct __test_metadata *_metadata, FIXTURE_DATA(pin) *self,
			  const struct pool_io *io, char *mem)
{
	/* this I/O in flight, behind the held plug (a write) */
	struct wp_inflight_wait w = { .lo = &self->lo, .writes = io->write,
				      .want = io->write ? 2 : 1, .done = io_done,
				      .done_arg = self };
	ssize_t n;

	io_start(_metadata, self, io, mem);
	ASSERT_TRUE(wp_wait_for(wp_inflight_reached, &w, WP_IO_WAIT_MS))
		TH_LOG("%s neither failed nor reached the loop device", io->name);
	if (!io_done(self))
		return true;
	n = io_wait(_metadata, self, io);
	ASSERT_GT(0, n) TH_LOG("%s completed past the held loop worker", io->name);
	return false;
}

/* Without a reset: refused, or it moves tenant A's own bytes. */
static void io_touched(struct __test_metadata *_metadata, FIXTURE_DATA(pin) *self,
		       const struct pool_io *io)
{
	ssize_t n;

	tenant_a(_metadata, self);
	io_start(_metadata, self, io, self->s);
	n = io_wait(_metadata, self, io);
	log_attempt(io->name, n);
	if (n < 0)
		return;
	ASSERT_EQ(PAGE, n);
	if (io->write) {
		ASSERT_EQ(PAGE, pread(self->lo.backing, self->buf, PAGE, IO_OFF));
		EXPECT_TRUE(all_bytes(self->buf, 'A', PAGE))
			TH_LOG("the device did not get tenant A's page");
	} else {
		EXPECT_TRUE(all_bytes(self->s, 'D', PAGE))
			TH_LOG("tenant A's page did not get the device's data");
	}
}

/*
 * With a reset while the I/O is in flight: refused, or a write carries
 * none of tenant B's bytes to the device and a read lands nothing in
 * tenant B's memory.
 */
static void io_across_reset(struct __test_metadata *_metadata, FIXTURE_DATA(pin) *self,
			    const struct pool_io *io)
{
	char why[160];
	ssize_t n;

	tenant_a(_metadata, self);
	if (hold(_metadata, self, why, sizeof(why))) {
		/* Nothing can hold the I/O here: still, a refusal is a refusal. */
		io_start(_metadata, self, io, self->s);
		n = io_wait(_metadata, self, io);
		log_attempt(io->name, n);
		if (n >= 0)
			SKIP(return, "accepted, and it cannot be held across a reset: %s", why);
		return;
	}
	if (!io_start_held(_metadata, self, io, self->s)) {
		log_refused(io->name, errno);
		return;
	}
	log_accepted(io->name);
	fprintf(stderr, "# in flight with tenant A's page: reset, tenant B writes\n");
	tenant_b(_metadata, self);
	wp_stall_release(&self->stall);
	n = io_wait(_metadata, self, io);
	if (n < 0)
		fprintf(stderr, "# %s failed after the reset: %s\n", io->name, strerror(errno));
	if (io->write) {
		ASSERT_EQ(PAGE, pread(self->lo.backing, self->buf, PAGE, IO_OFF));
		EXPECT_TRUE(only_tenant_a("the device after the write", self->buf, PAGE))
			TH_LOG("%s wrote the next tenant's memory to the device", io->name);
	} else {
		EXPECT_TRUE(tenant_b_intact(self->s))
			TH_LOG("%s landed in the next tenant's memory", io->name);
	}
}

#define TCP_SETUP(small) do {							\
	char why_[160];								\
	if (wp_tcp_pair(&self->tcp, (small), why_, sizeof(why_)))		\
		SKIP(return, "no TCP with MSG_ZEROCOPY over loopback: %s", why_); \
} while (0)

/*
 * Fill the receiver's window, then send a page of @mem with MSG_ZEROCOPY,
 * so that it waits at the sender. The send's result; when it was accepted,
 * it is asserted that the page is still unsent.
 */
static ssize_t zerocopy_queue(struct __test_metadata *_metadata, FIXTURE_DATA(pin) *self,
			      char *filler, const char *mem)
{
	int unsent = 0;
	ssize_t n;

	memset(filler, 'f', FILLER_BYTES);
	ASSERT_EQ(FILLER_BYTES, wp_send_all(self->tcp.csk, filler, FILLER_BYTES))
		TH_LOG("the sender's buffer took less than the filler");
	n = send(self->tcp.csk, mem, PAGE, MSG_ZEROCOPY | MSG_DONTWAIT);
	if (n < 0) {
		ASSERT_NE(EAGAIN, errno) TH_LOG("the sender's buffer is full");
		return n;
	}
	ASSERT_EQ(PAGE, n);
	ASSERT_EQ(0, ioctl(self->tcp.csk, SIOCOUTQNSD, &unsent));
	ASSERT_LE(PAGE, unsent) TH_LOG("the page left at once: the receiver's window was open");
	fprintf(stderr, "# %d bytes wait at the sender\n", unsent);
	return n;
}

/* --- vmsplice ------------------------------------------------------------- */

TEST_F(pin, vmsplice_of_touched_page)
{
	struct iovec iov;
	ssize_t n;

	ASSERT_EQ(0, pipe2(self->pipe, O_CLOEXEC | O_NONBLOCK));
	tenant_a(_metadata, self);
	iov = (struct iovec){ self->s, PAGE };
	n = vmsplice(self->pipe[1], &iov, 1, 0);
	log_attempt("vmsplice", n);
	if (n < 0)
		return;
	ASSERT_EQ(PAGE, n);
	ASSERT_EQ(PAGE, read(self->pipe[0], self->buf, PAGE));
	EXPECT_TRUE(all_bytes(self->buf, 'A', PAGE));
}

TEST_F(pin, vmsplice_across_reset)
{
	struct iovec iov;
	ssize_t n;

	ASSERT_EQ(0, pipe2(self->pipe, O_CLOEXEC | O_NONBLOCK));
	tenant_a(_metadata, self);
	iov = (struct iovec){ self->s, PAGE };
	n = vmsplice(self->pipe[1], &iov, 1, 0);
	log_attempt("vmsplice", n);
	if (n < 0)
		return;
	ASSERT_EQ(PAGE, n);
	tenant_b(_metadata, self);
	ASSERT_EQ(PAGE, read(self->pipe[0], self->buf, PAGE));
	EXPECT_TRUE(only_tenant_a("the pipe", self->buf, PAGE))
		TH_LOG("the pipe gave out the next tenant's memory");
}

/* --- O_DIRECT and io_uring on a loop device -------------------------------- */

TEST_F(pin, odirect_write_of_touched_page)
{
	IO_SETUP(&odirect_write);
	io_touched(_metadata, self, &odirect_write);
}

TEST_F(pin, odirect_write_across_reset)
{
	IO_SETUP(&odirect_write);
	io_across_reset(_metadata, self, &odirect_write);
}

TEST_F(pin, odirect_read_into_touched_page)
{
	IO_SETUP(&odirect_read);
	io_touched(_metadata, self, &odirect_read);
}

TEST_F(pin, odirect_read_across_reset)
{
	IO_SETUP(&odirect_read);
	io_across_reset(_metadata, self, &odirect_read);
}

TEST_F(pin, io_uring_write_of_touched_page)
{
	IO_SETUP(&uring_write);
	io_touched(_metadata, self, &uring_write);
}

TEST_F(pin, io_uring_write_across_reset)
{
	IO_SETUP(&uring_write);
	io_across_reset(_metadata, self, &uring_write);
}

TEST_F(pin, io_uring_read_into_touched_page)
{
	IO_SETUP(&uring_read);
	io_touched(_metadata, self, &uring_read);
}

TEST_F(pin, io_uring_read_across_reset)
{
	IO_SETUP(&uring_read);
	io_across_reset(_metadata, self, &uring_read);
}

TEST_F(pin, io_uring_register_buffers_refused)
{
	int err = wp_ring_setup(&self->ring);

	if (err == -ENOSYS || err == -EPERM)
		SKIP(return, "io_uring_setup: %s", strerror(-err));
	ASSERT_EQ(0, err) TH_LOG("io_uring_setup: %s", strerror(-err));
	tenant_a(_metadata, self);
	err = wp_ring_register(&self->ring, self->s, PAGE);
	if (err)
		log_refused("IORING_REGISTER_BUFFERS", -err);
	EXPECT_NE(0, err) TH_LOG("pool memory registered: pinned for the ring's life");
}

/* --- MSG_ZEROCOPY over loopback --------------------------------------------- */

TEST_F(pin, msg_zerocopy_of_touched_page)
{
	ssize_t n;

	TCP_SETUP(false);
	tenant_a(_metadata, self);
	n = send(self->tcp.csk, self->s, PAGE, MSG_ZEROCOPY);
	log_attempt("send(MSG_ZEROCOPY)", n);
	if (n < 0)
		return;
	ASSERT_EQ(PAGE, n);
	ASSERT_EQ(PAGE, wp_recv_full(self->tcp.ssk, self->buf, PAGE));
	EXPECT_TRUE(all_bytes(self->buf, 'A', PAGE));
}

TEST_F(pin, msg_zerocopy_across_reset)
{
	size_t got, total = FILLER_BYTES + PAGE;
	char *filler, *in;
	ssize_t n;

	TCP_SETUP(true);
	filler = malloc(FILLER_BYTES);
	in = malloc(total);
	ASSERT_TRUE(filler && in);
	tenant_a(_metadata, self);
	n = zerocopy_queue(_metadata, self, filler, self->s);
	log_attempt("send(MSG_ZEROCOPY)", n);
	if (n >= 0) {
		fprintf(stderr, "# reset, tenant B writes\n");
		tenant_b(_metadata, self);
		got = wp_recv_full(self->tcp.ssk, in, total);
		EXPECT_EQ(total, got);
		EXPECT_EQ(NULL, memmem(in, got, SECRET, strlen(SECRET)))
			TH_LOG("the peer received the next tenant's secret");
		if (got == total)
			EXPECT_TRUE(only_tenant_a("the peer's stream", in + FILLER_BYTES, PAGE));
	}
	free(filler);
	free(in);
}

/* --- process_vm_readv and /proc/PID/mem -------------------------------------- */

static ssize_t vm_readv_self(char *to, const char *from)
{
	struct iovec local = { to, PAGE }, remote = { (void *)from, PAGE };

	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
}

TEST_F(pin, process_vm_readv_of_touched_page)
{
	ssize_t n;

	tenant_a(_metadata, self);
	n = vm_readv_self(self->buf, self->s);
	log_attempt("process_vm_readv", n);
	if (n < 0)
		return;
	ASSERT_EQ(PAGE, n);
	EXPECT_TRUE(all_bytes(self->buf, 'A', PAGE));
}

/* After the reset nothing of tenant A is there to read: refused, or zeroes. */
TEST_F(pin, process_vm_readv_after_reset)
{
	ssize_t n;

	tenant_a(_metadata, self);
	ASSERT_EQ(0, wp_reset(self->fd, self->slot, KEEP));
	memset(self->buf, 'x', PAGE);
	n = vm_readv_self(self->buf, self->s);
	log_attempt("process_vm_readv", n);
	if (n < 0)
		return;
	ASSERT_EQ(PAGE, n);
	EXPECT_TRUE(all_bytes(self->buf, 0, PAGE)) TH_LOG("tenant A's bytes outlived the reset");
}

/* pread() or pwrite() of a page at @p through /proc/self/mem. */
static ssize_t proc_mem_rw(bool write, char *p, char *buf)
{
	int fd = open("/proc/self/mem", (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return -1;
	if (write)
		n = pwrite(fd, buf, PAGE, (off_t)(uintptr_t)p);
	else
		n = pread(fd, buf, PAGE, (off_t)(uintptr_t)p);
	err = errno;
	close(fd);
	errno = err;
	return n;
}

TEST_F(pin, proc_pid_mem_read_refused)
{
	ssize_t n;

	tenant_a(_metadata, self);
	n = proc_mem_rw(false, self->s, self->buf);
	log_attempt("pread(/proc/self/mem)", n);
	EXPECT_GT(0, n) TH_LOG("/proc/self/mem read %zd bytes of pool memory", n);
}

TEST_F(pin, proc_pid_mem_read_across_reset_refused)
{
	ssize_t n;

	tenant_a(_metadata, self);
	tenant_b(_metadata, self);
	n = proc_mem_rw(false, self->s, self->buf);
	log_attempt("pread(/proc/self/mem)", n);
	EXPECT_GT(0, n) TH_LOG("/proc/self/mem read %zd bytes of pool memory", n);
}

TEST_F(pin, proc_pid_mem_write_refused)
{
	ssize_t n;

	tenant_a(_metadata, self);
	memset(self->buf, 'W', PAGE);
	n = proc_mem_rw(true, self->s, self->buf);
	log_attempt("pwrite(/proc/self/mem)", n);
	EXPECT_GT(0, n) TH_LOG("/proc/self/mem wrote %zd bytes of pool memory", n);
	EXPECT_TRUE(all_bytes(self->s, n < 0 ? 'A' : 'W', PAGE));
}

/* --- controls: the same holds on ordinary memory do see a pin ---------------- */

/*
 * A pinned page of ordinary memory, written after the I/O was issued: the
 * held write carries the later bytes. Were it not so, the *_across_reset
 * tests above could not see a leak either.
 */
TEST_F(pin, control_held_odirect_write_carries_later_bytes)
{
	char why[160], *mem = self->buf + 2 * PAGE;
	ssize_t n;

	IO_SETUP(&odirect_write);
	memset(mem, 'A', PAGE);
	if (hold(_metadata, self, why, sizeof(why)))
		SKIP(return, "cannot hold I/O in flight: %s", why);
	ASSERT_TRUE(io_start_held(_metadata, self, &odirect_write, mem))
		TH_LOG("O_DIRECT write of ordinary memory refused: %s", strerror(errno));
	memcpy(mem, SECRET, sizeof(SECRET));
	wp_stall_release(&self->stall);
	n = io_wait(_metadata, self, &odirect_write);
	ASSERT_EQ(PAGE, n) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(PAGE, pread(self->lo.backing, self->buf, PAGE, IO_OFF));
	EXPECT_EQ(0, memcmp(self->buf, SECRET, sizeof(SECRET)))
		TH_LOG("the held write did not carry the later bytes: the hold does not hold");
}

TEST_F(pin, control_held_io_uring_read_lands_after_later_bytes)
{
	char why[160], *mem = self->buf + 2 * PAGE;
	ssize_t n;

	IO_SETUP(&uring_read);
	memset(mem, 'A', PAGE);
	if (hold(_metadata, self, why, sizeof(why)))
		SKIP(return, "cannot hold I/O in flight: %s", why);
	ASSERT_TRUE(io_start_held(_metadata, self, &uring_read, mem))
		TH_LOG("io_uring read into ordinary memory refused: %s", strerror(errno));
	memcpy(mem, SECRET, sizeof(SECRET));
	wp_stall_release(&self->stall);
	n = io_wait(_metadata, self, &uring_read);
	ASSERT_EQ(PAGE, n) TH_LOG("%s", strerror(errno));
	EXPECT_TRUE(all_bytes(mem, 'D', PAGE))
		TH_LOG("the held read did not land after the later bytes: the hold does not hold");
}

TEST_F(pin, control_queued_zerocopy_carries_later_bytes)
{
	size_t total = FILLER_BYTES + PAGE;
	char *filler, *in, *mem = self->buf + 2 * PAGE;

	TCP_SETUP(true);
	filler = malloc(FILLER_BYTES);
	in = malloc(total);
	ASSERT_TRUE(filler && in);
	memset(mem, 'A', PAGE);
	ASSERT_EQ(PAGE, zerocopy_queue(_metadata, self, filler, mem))
		TH_LOG("MSG_ZEROCOPY of ordinary memory: %s", strerror(errno));
	memcpy(mem, SECRET, sizeof(SECRET));
	EXPECT_EQ(total, wp_recv_full(self->tcp.ssk, in, total));
	EXPECT_EQ(0, memcmp(in + FILLER_BYTES, SECRET, sizeof(SECRET)))
		TH_LOG("the queued page did not carry the later bytes (copied, not pinned?)");
	free(filler);
	free(in);
}

/* --- the pool after every attempt ------------------------------------------- */

/*
 * After an attempt on tenant A's slot: the counters agree with each other,
 * the slot resets to zeroes keeping its pages, takes writes, and frees.
 */
static void pool_works(struct __test_metadata *_metadata, FIXTURE_DATA(pin) *self,
		       const char *after)
{
	struct wasmpool_stats st, st2;

	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(1, st.slots_in_use) TH_LOG("after %s", after);
	EXPECT_LE(PAGE, st.resident_bytes) TH_LOG("after %s", after);
	EXPECT_EQ(st.resident_bytes / PAGE, st.pages_allocated - st.pages_freed)
		TH_LOG("after %s: %llu resident bytes, %llu pages allocated, %llu freed",
		       after, st.resident_bytes, st.pages_allocated, st.pages_freed);
	ASSERT_EQ(0, wp_reset(self->fd, self->slot, KEEP)) TH_LOG("after %s", after);
	ASSERT_EQ(0, wp_stats(self->fd, &st2));
	EXPECT_EQ(st.resident_bytes, st2.resident_bytes)
		TH_LOG("after %s: the reset did not keep the pages (all within keep_resident)",
		       after);
	EXPECT_TRUE(all_bytes(self->s, 0, KEEP)) TH_LOG("after %s: not zero after a reset", after);
	memset(self->s, 'Z', 4 * PAGE);
	EXPECT_TRUE(all_bytes(self->s, 'Z', 4 * PAGE)) TH_LOG("after %s", after);
	ASSERT_EQ(0, wp_free(self->fd, self->slot)) TH_LOG("after %s", after);
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(0, st.slots_in_use) TH_LOG("after %s", after);
	EXPECT_EQ(st.resident_bytes / PAGE, st.pages_allocated - st.pages_freed)
		TH_LOG("after %s", after);
}

TEST_F(pin, pool_intact_after_every_refused_pin)
{
	const struct pool_io *ios[] = { &odirect_write, &odirect_read, &uring_write,
					&uring_read };
	bool have_loop, have_ring, have_tcp;
	struct wasmpool_stats st;
	struct iovec iov;
	long long global;
	char why[160];
	ssize_t n;

	global = wp_sysfs_read("resident_bytes");
	ASSERT_EQ(0, pipe2(self->pipe, O_CLOEXEC | O_NONBLOCK));
	have_loop = !wp_loop_attach(&self->lo, BACKING_BYTES, why, sizeof(why));
	if (!have_loop)
		fprintf(stderr, "# no O_DIRECT or io_uring I/O: no loop device: %s\n", why);
	have_ring = have_loop && !wp_ring_setup(&self->ring);
	have_tcp = !wp_tcp_pair(&self->tcp, false, why, sizeof(why));
	if (!have_tcp)
		fprintf(stderr, "# no MSG_ZEROCOPY: %s\n", why);

	tenant_a(_metadata, self);
	iov = (struct iovec){ self->s, PAGE };
	n = vmsplice(self->pipe[1], &iov, 1, 0);
	log_attempt("vmsplice", n);
	if (n > 0)
		EXPECT_EQ(n, read(self->pipe[0], self->buf, PAGE));
	pool_works(_metadata, self, "vmsplice");

	for (size_t i = 0; have_loop && i < sizeof(ios) / sizeof(ios[0]); i++) {
		if (ios[i]->via == VIA_IO_URING && !have_ring)
			continue;
		tenant_a(_metadata, self);
		io_start(_metadata, self, ios[i], self->s);
		log_attempt(ios[i]->name, io_wait(_metadata, self, ios[i]));
		pool_works(_metadata, self, ios[i]->name);
	}

	if (have_ring) {
		tenant_a(_metadata, self);
		n = wp_ring_register(&self->ring, self->s, PAGE);
		errno = -n;
		log_attempt("IORING_REGISTER_BUFFERS", n);
		pool_works(_metadata, self, "IORING_REGISTER_BUFFERS");
	}

	if (have_tcp) {
		tenant_a(_metadata, self);
		n = send(self->tcp.csk, self->s, PAGE, MSG_ZEROCOPY);
		log_attempt("send(MSG_ZEROCOPY)", n);
		if (n > 0)
			EXPECT_EQ(n, wp_recv_full(self->tcp.ssk, self->buf, n));
		pool_works(_metadata, self, "send(MSG_ZEROCOPY)");
	}

	tenant_a(_metadata, self);
	log_attempt("process_vm_readv", vm_readv_self(self->buf, self->s));
	pool_works(_metadata, self, "process_vm_readv");

	tenant_a(_metadata, self);
	log_attempt("pread(/proc/self/mem)", proc_mem_rw(false, self->s, self->buf));
	log_attempt("pwrite(/proc/self/mem)", proc_mem_rw(true, self->s, self->buf));
	pool_works(_metadata, self, "/proc/self/mem");

	/* Unmapped, the pool holds no page, and the module is where it was. */
	wp_ring_free(&self->ring);
	if (have_loop) {
		char path[64];

		snprintf(path, sizeof(path), "/sys/block/loop%d/loop/backing_file",
			 self->lo.nr);
		wp_loop_detach(&self->lo);
		EXPECT_NE(0, access(path, F_OK)) TH_LOG("loop%d still attached", self->lo.nr);
	}
	wp_tcp_close(&self->tcp);
	ASSERT_EQ(0, munmap(self->base, self->l.total_bytes));
	self->base = MAP_FAILED;
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(0, st.resident_bytes);
	EXPECT_EQ(st.pages_allocated, st.pages_freed);
	EXPECT_EQ(0, st.address);
	if (global >= 0)
		EXPECT_EQ(global, wp_sysfs_wait("resident_bytes", global));
}

TEST_HARNESS_MAIN
