/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * I/O machinery for the selftests that aim the kernel's page-pinning paths
 * at pool memory (pin_test): a syscall on a thread, a loop device, a loop
 * device whose worker is held so that I/O stays in flight, raw io_uring,
 * and a TCP pair over loopback. Include after wp_test.h. Every function
 * returns 0 or -1 (or -errno where it says so), with the reason of a
 * failure in @why, for the test to skip or fail with it.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef WP_IO_H
#define WP_IO_H

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <linux/io_uring.h>
#include <linux/loop.h>
#include <linux/userfaultfd.h>

#ifndef SIOCOUTQNSD
#define SIOCOUTQNSD	0x894B	/* linux/sockios.h: bytes not sent yet */
#endif

/* How long anything may take that a test waits for (TCG is slow). */
#define WP_IO_WAIT_MS	10000

/* Poll @cond(@arg) every millisecond for at most @ms. */
static inline bool wp_wait_for(bool (*cond)(void *), void *arg, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (cond(arg))
			return true;
		usleep(1000);
	}
	return cond(arg);
}

/* --- a pread() or pwrite() on a thread, so that a test can watch it block -- */

struct wp_io_thread {
	pthread_t thr;
	bool started;
	int done;		/* set (atomically) when the call returned */
	int fd;
	bool write;
	void *buf;
	size_t len;
	off_t off;
	ssize_t ret;
	int err;
};

static void *wp_io_thread_fn(void *arg)
{
	struct wp_io_thread *t = arg;

	if (t->write)
		t->ret = pwrite(t->fd, t->buf, t->len, t->off);
	else
		t->ret = pread(t->fd, t->buf, t->len, t->off);
	t->err = errno;
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static inline int wp_io_thread_start(struct wp_io_thread *t, int fd, bool write,
				     void *buf, size_t len, off_t off)
{
	*t = (struct wp_io_thread){ .fd = fd, .write = write, .buf = buf,
				    .len = len, .off = off };
	if (pthread_create(&t->thr, NULL, wp_io_thread_fn, t))
		return -1;
	t->started = true;
	return 0;
}

static inline bool wp_io_thread_done(void *arg)
{
	struct wp_io_thread *t = arg;

	return __atomic_load_n(&t->done, __ATOMIC_ACQUIRE);
}

static inline void wp_io_thread_join(struct wp_io_thread *t)
{
	if (t->started)
		pthread_join(t->thr, NULL);
	t->started = false;
}

/* --- a loop device on an unlinked file in /tmp, opened for O_DIRECT ------- */

struct wp_loop {
	int nr;			/* /dev/loopN */
	int dev;		/* the fd that attached it */
	int fd;			/* an O_DIRECT fd of it */
	int backing;		/* the backing file */
};

#define WP_LOOP_INIT { .nr = -1, .dev = -1, .fd = -1, .backing = -1 }

static inline void wp_loop_detach(struct wp_loop *lo)
{
	if (lo->fd >= 0)
		close(lo->fd);
	if (lo->dev >= 0) {
		ioctl(lo->dev, LOOP_CLR_FD);
		close(lo->dev);
	}
	if (lo->backing >= 0)
		close(lo->backing);
	lo->fd = -1;
	lo->dev = -1;
	lo->backing = -1;
}

static inline int wp_loop_attach(struct wp_loop *lo, size_t bytes, char *why, size_t len)
{
	char path[64] = "/tmp/wp-io-XXXXXX";
	int ctl;

	lo->backing = mkostemp(path, O_CLOEXEC);
	if (lo->backing < 0) {
		snprintf(why, len, "mkostemp in /tmp: %s", strerror(errno));
		return -1;
	}
	unlink(path);
	if (ftruncate(lo->backing, bytes)) {
		snprintf(why, len, "ftruncate: %s", strerror(errno));
		goto detach;
	}
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		snprintf(why, len, "/dev/loop-control: %s (no loop driver, or not root)",
			 strerror(errno));
		goto detach;
	}
	/* Another user may take the free device first: try a few. */
	for (int tries = 0; tries < 5 && lo->fd < 0; tries++) {
		lo->nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (lo->nr < 0) {
			snprintf(why, len, "LOOP_CTL_GET_FREE: %s", strerror(errno));
			break;
		}
		snprintf(path, sizeof(path), "/dev/loop%d", lo->nr);
		/* devtmpfs may create the node a moment after the device */
		for (int i = 0; i < 2000; i++) {
			lo->dev = open(path, O_RDWR | O_CLOEXEC);
			if (lo->dev >= 0 || errno != ENOENT)
				break;
			usleep(1000);
		}
		if (lo->dev < 0) {
			snprintf(why, len, "%s: %s", path, strerror(errno));
			break;
		}
		if (ioctl(lo->dev, LOOP_SET_FD, lo->backing)) {
			int err = errno;

			snprintf(why, len, "LOOP_SET_FD %s: %s", path, strerror(err));
			close(lo->dev);
			lo->dev = -1;
			if (err == EBUSY)
				continue;
			break;
		}
		lo->fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (lo->fd < 0) {
			snprintf(why, len, "%s with O_DIRECT: %s", path, strerror(errno));
			break;
		}
	}
	close(ctl);
	if (lo->fd >= 0)
		return 0;
detach:
	wp_loop_detach(lo);
	return -1;
}

/* Reads or writes of the loop device in flight, or -1. */
static inline int wp_loop_inflight(const struct wp_loop *lo, bool writes)
{
	char path[64], buf[64];
	unsigned int r, w;

	snprintf(path, sizeof(path), "/sys/block/loop%d/inflight", lo->nr);
	if (wp_file_rw(path, buf, sizeof(buf), NULL) || sscanf(buf, "%u %u", &r, &w) != 2)
		return -1;
	return writes ? w : r;
}

/*
 * Wait for @want reads or writes in flight. Counted apart, because a
 * host's udev may read a new device (blkid) while a test holds it; it
 * never writes.
 */
struct wp_inflight_wait {
	const struct wp_loop *lo;
	bool writes;
	int want;
	bool (*done)(void *arg);	/* or stop waiting when this is true */
	void *done_arg;
};

static inline bool wp_inflight_reached(void *arg)
{
	struct wp_inflight_wait *w = arg;

	if (w->done && w->done(w->done_arg))
		return true;
	return wp_loop_inflight(w->lo, w->writes) >= w->want;
}

/*
 * --- a held loop device: I/O that stays in flight, its pages pinned -------
 *
 * The loop driver runs the requests of one cgroup one after the other on one
 * worker, and writes to its backing file with the backing inode locked. A
 * write(2) to the backing file from a userfaultfd page stops in the page
 * fault with that lock held ("holder"); a write through the loop device
 * then stops the worker on the lock ("plug"); every request queued after
 * it waits, with its pages pinned, until wp_stall_release() resolves the
 * fault.
 */
struct wp_stall {
	int uffd;
	char *page;
	struct wp_io_thread holder, plug;
};

#define WP_STALL_INIT { .uffd = -1, .page = MAP_FAILED }

/* Let the held worker go and wait for the holder and the plug. */
static inline void wp_stall_release(struct wp_stall *st)
{
	struct uffdio_zeropage zp = { .range = { (uintptr_t)st->page, 4096 } };

	if (st->uffd >= 0) {
		ioctl(st->uffd, UFFDIO_ZEROPAGE, &zp);
		/* closing wakes the fault as well, should the ioctl fail */
		close(st->uffd);
		st->uffd = -1;
	}
	wp_io_thread_join(&st->holder);
	wp_io_thread_join(&st->plug);
	if (st->page != MAP_FAILED)
		munmap(st->page, 4096);
	st->page = MAP_FAILED;
}

/*
 * Hold @lo: the holder writes a page at @hold_off of the backing file, the
 * plug writes @plug_buf (a page of ordinary memory) at @plug_off of the
 * device. 0 once the plug is in flight and held; -EOPNOTSUPP when
 * userfaultfd is not available here; -EIO when the hold did not work.
 */
static inline int wp_stall_hold(struct wp_stall *st, const struct wp_loop *lo,
				void *plug_buf, off_t plug_off, off_t hold_off,
				char *why, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct wp_inflight_wait w = { .lo = lo, .writes = true, .want = 1,
				      .done = wp_io_thread_done, .done_arg = &st->plug };
	struct pollfd pfd;
	struct uffd_msg msg;

	st->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (st->uffd < 0) {
		snprintf(why, len, "userfaultfd: %s", strerror(errno));
		return -EOPNOTSUPP;
	}
	st->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	reg.range.start = (uintptr_t)st->page;
	reg.range.len = 4096;
	if (ioctl(st->uffd, UFFDIO_API, &api) || st->page == MAP_FAILED ||
	    ioctl(st->uffd, UFFDIO_REGISTER, &reg)) {
		snprintf(why, len, "userfaultfd setup: %s", strerror(errno));
		goto fail;
	}
	if (wp_io_thread_start(&st->holder, lo->backing, true, st->page, 4096, hold_off)) {
		snprintf(why, len, "pthread_create");
		goto fail;
	}
	pfd = (struct pollfd){ .fd = st->uffd, .events = POLLIN };
	if (poll(&pfd, 1, WP_IO_WAIT_MS) != 1 ||
	    read(st->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT) {
		snprintf(why, len, "the write to the backing file never faulted");
		goto fail;
	}
	if (wp_io_thread_start(&st->plug, lo->fd, true, plug_buf, 4096, plug_off)) {
		snprintf(why, len, "pthread_create");
		goto fail;
	}
	if (!wp_wait_for(wp_inflight_reached, &w, WP_IO_WAIT_MS)) {
		snprintf(why, len, "the plug write never showed in /sys/block/loop%d/inflight",
			 lo->nr);
		goto fail;
	}
	if (wp_io_thread_done(&st->plug)) {
		snprintf(why, len, "the plug write completed (%zd, %s): the loop worker is not held",
			 st->plug.ret, strerror(st->plug.err));
		goto fail;
	}
	return 0;
fail:
	wp_stall_release(st);
	return -EIO;
}

/* --- io_uring, raw: no liburing ---------------------------------------------- */

struct wp_ring {
	int fd;
	void *sq_ptr, *cq_ptr;
	size_t sq_len, cq_len, sqes_len;
	struct io_uring_sqe *sqes;
	unsigned int *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
};

#define WP_RING_INIT { .fd = -1, .sq_ptr = MAP_FAILED, .cq_ptr = MAP_FAILED, \
		       .sqes = MAP_FAILED }

static inline void wp_ring_free(struct wp_ring *r)
{
	if (r->sq_ptr != MAP_FAILED)
		munmap(r->sq_ptr, r->sq_len);
	if (r->cq_ptr != MAP_FAILED)
		munmap(r->cq_ptr, r->cq_len);
	if (r->sqes != MAP_FAILED)
		munmap(r->sqes, r->sqes_len);
	if (r->fd >= 0)
		close(r->fd);
	*r = (struct wp_ring)WP_RING_INIT;
}

/* A ring of 4 entries: 0 or -errno. */
static inline int wp_ring_setup(struct wp_ring *r)
{
	struct io_uring_params p = { 0 };
	char *sq, *cq;
	int err;

	r->fd = syscall(__NR_io_uring_setup, 4, &p);
	if (r->fd < 0)
		return -errno;
	r->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	r->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	r->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
	r->sq_ptr = mmap(NULL, r->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd,
			 IORING_OFF_SQ_RING);
	r->cq_ptr = mmap(NULL, r->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd,
			 IORING_OFF_CQ_RING);
	r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd,
		       IORING_OFF_SQES);
	if (r->sq_ptr == MAP_FAILED || r->cq_ptr == MAP_FAILED || r->sqes == MAP_FAILED) {
		err = -errno;
		wp_ring_free(r);
		return err;
	}
	sq = r->sq_ptr;
	cq = r->cq_ptr;
	r->sq_tail = (unsigned int *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned int *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned int *)(sq + p.sq_off.array);
	r->cq_head = (unsigned int *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned int *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned int *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

/* Submit one IORING_OP_READ or _WRITE: 0 or -errno of io_uring_enter(). */
static inline int wp_ring_rw(struct wp_ring *r, bool write, int fd, void *buf,
			     unsigned int len, uint64_t off)
{
	unsigned int tail = *r->sq_tail, idx = tail & *r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[idx];

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = write ? IORING_OP_WRITE : IORING_OP_READ;
	sqe->fd = fd;
	sqe->addr = (uintptr_t)buf;
	sqe->len = len;
	sqe->off = off;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, r->fd, 1, 0, 0, NULL, 0) != 1)
		return -errno;
	return 0;
}

/* IORING_REGISTER_BUFFERS of one buffer: 0 or -errno (unregistered again). */
static inline int wp_ring_register(struct wp_ring *r, void *buf, size_t len)
{
	struct iovec iov = { buf, len };

	if (syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_BUFFERS, &iov, 1))
		return -errno;
	syscall(__NR_io_uring_register, r->fd, IORING_UNREGISTER_BUFFERS, NULL, 0);
	return 0;
}

static inline bool wp_ring_has_cqe(void *arg)
{
	struct wp_ring *r = arg;

	return __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE) != *r->cq_head;
}

/* Reap one completion: its result. */
static inline int wp_ring_reap(struct wp_ring *r)
{
	unsigned int head = *r->cq_head;
	int res = r->cqes[head & *r->cq_mask].res;

	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

/* --- TCP over loopback ------------------------------------------------------- */

struct wp_tcp {
	int csk;		/* the sender, with SO_ZEROCOPY */
	int ssk;		/* the receiver */
	bool lo_upped;		/* lo was down: put it back */
};

#define WP_TCP_INIT { .csk = -1, .ssk = -1 }

static inline int wp_lo_set_up(bool up)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = -1;

	if (s < 0)
		return -1;
	if (!ioctl(s, SIOCGIFFLAGS, &ifr)) {
		ret = !!(ifr.ifr_flags & IFF_UP) == up ? 1 : 0;
		ifr.ifr_flags = up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP;
		if (!ret && ioctl(s, SIOCSIFFLAGS, &ifr))
			ret = -1;
	}
	close(s);
	return ret;	/* 1: it was so already, 0: changed, -1: error */
}

static inline void wp_tcp_close(struct wp_tcp *t)
{
	if (t->csk >= 0)
		close(t->csk);
	if (t->ssk >= 0)
		close(t->ssk);
	if (t->lo_upped)
		wp_lo_set_up(false);	/* leave lo as it was */
	*t = (struct wp_tcp)WP_TCP_INIT;
}

/*
 * A connected pair over 127.0.0.1, lo brought up if it was down. With
 * @small_rcvbuf the receiver's window is a few KiB and the sender's buffer
 * large, so that what is sent beyond the window waits at the sender.
 */
static inline int wp_tcp_pair(struct wp_tcp *t, bool small_rcvbuf, char *why, size_t len)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = WP_IO_WAIT_MS / 1000 };
	socklen_t alen = sizeof(addr);
	int one = 1, rcv = 4096, snd = 4 << 20, lsk, up;

	up = wp_lo_set_up(true);
	if (up < 0) {
		snprintf(why, len, "bringing lo up: %s", strerror(errno));
		return -1;
	}
	t->lo_upped = !up;
	lsk = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsk < 0 ||
	    (small_rcvbuf && setsockopt(lsk, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv))) ||
	    bind(lsk, (struct sockaddr *)&addr, sizeof(addr)) || listen(lsk, 1) ||
	    getsockname(lsk, (struct sockaddr *)&addr, &alen)) {
		snprintf(why, len, "listening on 127.0.0.1: %s", strerror(errno));
		goto close_listener;
	}
	t->csk = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (t->csk < 0) {
		snprintf(why, len, "socket: %s", strerror(errno));
		goto close_listener;
	}
	setsockopt(t->csk, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	if (setsockopt(t->csk, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one))) {
		snprintf(why, len, "SO_ZEROCOPY: %s", strerror(errno));
		goto close_listener;
	}
	if (connect(t->csk, (struct sockaddr *)&addr, sizeof(addr))) {
		snprintf(why, len, "connect to 127.0.0.1: %s", strerror(errno));
		goto close_listener;
	}
	t->ssk = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);
	if (t->ssk < 0) {
		snprintf(why, len, "accept: %s", strerror(errno));
		goto close_listener;
	}
	setsockopt(t->ssk, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	close(lsk);
	return 0;

close_listener:
	if (lsk >= 0)
		close(lsk);
	wp_tcp_close(t);
	return -1;
}

/* Receive @len bytes, or what came before an error or the timeout. */
static inline size_t wp_recv_full(int fd, char *p, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = recv(fd, p + got, len - got, 0);
		if (n <= 0)
			break;
		got += n;
	}
	return got;
}

/* Send @len bytes without blocking: what was sent before EAGAIN. */
static inline size_t wp_send_all(int fd, const char *p, size_t len)
{
	size_t sent = 0;
	ssize_t n;

	while (sent < len) {
		n = send(fd, p + sent, len - sent, MSG_DONTWAIT);
		if (n <= 0)
			break;
		sent += n;
	}
	return sent;
}

#endif /* WP_IO_H */
