// SPDX-License-Identifier: GPL-2.0-only
/*
 * pool_process_test: a pool belongs to one address space - fork children
 * and processes that receive the file over a UNIX socket get EPERM and no
 * mapping; a process killed while using a pool leaves nothing behind; pages
 * are charged to the memory cgroup of the task that touches them.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

#define PAGE	4096ULL
#define MAX_MEM	(1024 * 1024ULL)

static int make_pool(int *fd, char **base, struct wasmpool_layout *l)
{
	struct wasmpool_configure c = {
		.max_memory_bytes = MAX_MEM,
		.reservation_bytes = 2 * MAX_MEM,
		.guard_bytes = MAX_MEM,
		.num_slots = 16,
		.keep_resident_bytes = 64 * 1024,
	};
	int ret;

	*fd = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	ret = wp_configure(*fd, &c);
	if (ret)
		return ret;
	*l = c.layout;
	*base = mmap(NULL, l->total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	return *base == MAP_FAILED ? -errno : 0;
}

/* What a process that does not own the pool gets from it. */
static int stranger_checks(int fd, char *slot)
{
	struct wasmpool_info info = { .size = sizeof(info) };
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;
	siginfo_t si;
	void *p;

	if (wp_alloc(fd, PAGE, &a) != -EPERM)
		return 1;
	if (wp_grow(fd, 0, PAGE) != -EPERM || wp_reset(fd, 0, 0) != -EPERM ||
	    wp_free(fd, 0) != -EPERM || wp_stats(fd, &st) != -EPERM)
		return 2;
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED || errno != EPERM)
		return 3;
	/* the handshake is not about a pool: it works */
	if (wp_ioctl(fd, WASMPOOL_IOC_INFO, &info))
		return 4;
	/* nothing is mapped at the owner's address here */
	if (slot && (wp_probe(slot, 0, &si) != SIGSEGV || si.si_code != SEGV_MAPERR))
		return 5;
	return 0;
}

TEST(fork_child_gets_no_mapping_and_eperm)
{
	struct wasmpool_slot_alloc a;
	struct wasmpool_layout l;
	struct wasmpool_stats st;
	char *base, *s;
	int fd, status;
	pid_t pid;

	if (access(WP_TEST_DEVICE, F_OK) && !getenv("WASMPOOL_REQUIRE_DEVICE"))
		SKIP(return, "no %s", WP_TEST_DEVICE);
	ASSERT_EQ(0, make_pool(&fd, &base, &l));
	ASSERT_EQ(0, wp_alloc(fd, 4 * PAGE, &a));
	s = base + a.offset;
	memset(s, 0x3c, 4 * PAGE);
	/* DONTCOPY cannot be undone: the child must get no copy */
	EXPECT_EQ(-1, madvise(base, l.total_bytes, MADV_DOFORK));
	EXPECT_EQ(EINVAL, errno);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(stranger_checks(fd, s));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* the parent's pool is untouched */
	EXPECT_EQ(0x3c, s[4 * PAGE - 1]);
	ASSERT_EQ(0, wp_stats(fd, &st));
	EXPECT_EQ(1, st.slots_in_use);
	EXPECT_EQ(4 * PAGE, st.resident_bytes);
	munmap(base, l.total_bytes);
	close(fd);
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'f';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* The receiver is a fresh process (exec'd? no: forked before the pool). */
TEST(fd_passed_over_unix_socket_eperm)
{
	struct wasmpool_layout l;
	int sv[2], fd, status;
	char *base;
	pid_t pid;

	if (access(WP_TEST_DEVICE, F_OK) && !getenv("WASMPOOL_REQUIRE_DEVICE"))
		SKIP(return, "no %s", WP_TEST_DEVICE);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	/* fork first: the child never shares the pool's address space */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int got;

		close(sv[0]);
		got = recv_fd(sv[1]);
		if (got < 0)
			_exit(10);
		_exit(stranger_checks(got, NULL));
	}
	close(sv[1]);
	ASSERT_EQ(0, make_pool(&fd, &base, &l));
	ASSERT_EQ(0, send_fd(sv[0], fd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* and a file configured by nobody yet becomes the configurer's */
	munmap(base, l.total_bytes);
	close(fd);
	close(sv[0]);
}

/* A process killed at a random moment while using a pool leaks nothing. */
TEST(killed_mid_use_leaves_nothing)
{
	long long pools0 = wp_sysfs_read("pools");
	long long resident0 = wp_sysfs_read("resident_bytes");
	long long slots0 = wp_sysfs_read("slots_in_use");
	int round;

	if (pools0 < 0)
		SKIP(return, "no wasmpool sysfs statistics (module not loaded?)");

	for (round = 0; round < 8; round++) {
		int status;
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct wasmpool_layout l;
			char *base;
			int fd;

			if (make_pool(&fd, &base, &l))
				_exit(1);
			wp_tenant_forever(fd, base, MAX_MEM, 16, 16, round);
		}
		usleep(20000 + round * 15000);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status)) TH_LOG("the child ended early: %#x", status);
		EXPECT_EQ(pools0, wp_sysfs_wait("pools", pools0));
		EXPECT_EQ(resident0, wp_sysfs_wait("resident_bytes", resident0));
		EXPECT_EQ(slots0, wp_sysfs_wait("slots_in_use", slots0));
	}
}

/* Pages go to the memory cgroup of the task that touches them. */
TEST(pages_charged_to_faulting_cgroup)
{
	const char *cg = "/sys/fs/cgroup/wasmpool-test", *why;
	char path[256], buf[64];
	int pipefd[2], status;
	long long r[3];
	pid_t pid;

	if (access(WP_TEST_DEVICE, F_OK) && !getenv("WASMPOOL_REQUIRE_DEVICE"))
		SKIP(return, "no %s", WP_TEST_DEVICE);
	why = wp_test_memory_cgroup(cg);
	if (why)
		SKIP(return, "%s", why);

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct wasmpool_slot_alloc a;
		struct wasmpool_layout l;
		long long v[3] = { -1, -1, -1 };
		char *base;
		int pool;

		if (wp_test_cgroup_write(cg, "cgroup.procs", "0"))
			_exit(1);
		snprintf(path, sizeof(path), "%s/memory.current", cg);
#define CURRENT(i) do {							\
			int f = open(path, O_RDONLY);				\
			int n = f < 0 ? -1 : read(f, buf, sizeof(buf) - 1);	\
			if (n > 0) { buf[n] = 0; v[i] = atoll(buf); }		\
			if (f >= 0) close(f);					\
		} while (0)
		if (make_pool(&pool, &base, &l) || wp_alloc(pool, MAX_MEM, &a))
			_exit(2);
		CURRENT(0);
		memset(base + a.offset, 1, MAX_MEM);	/* 256 pages */
		CURRENT(1);
		wp_free(pool, a.slot);
		CURRENT(2);
		if (write(pipefd[1], v, sizeof(v)) != sizeof(v))
			_exit(3);
		_exit(0);
#undef CURRENT
	}
	close(pipefd[1]);
	ASSERT_EQ(sizeof(r), read(pipefd[0], r, sizeof(r)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	TH_LOG("memory.current: %lld before, %lld after touching 1 MiB, %lld after free",
	       r[0], r[1], r[2]);
	EXPECT_LE(r[0] + (long long)MAX_MEM, r[1]);
	/*
	 * The 16 kept pages stay charged until the pool goes away; the 240
	 * others must be uncharged. Slack: 64 KiB, and one charge batch
	 * (MEMCG_CHARGE_BATCH, 64 pages) that a CPU's stock of the memory
	 * cgroup may hold precharged - memory.current counts it: seen once
	 * under TCG, 256 KiB above the usual figure after the task moved CPUs.
	 */
	EXPECT_LE(r[2], r[0] + 64 * 1024 + 64 * 1024 + 256 * 1024);
	close(pipefd[0]);
	rmdir(cg);
}

/*
 * A cgroup whose memory.max is too small for what its task touches: the
 * task is OOM-killed by its memory cgroup (the fault's allocation is
 * charged there and fails), the kernel warns about nothing, and the module
 * is left consistent: the pool goes away with the task, nothing stays
 * resident.
 */
TEST(memory_max_too_small_oom_kills_cleanly)
{
	const char *cg = "/sys/fs/cgroup/wasmpool-memmax", *why;
	long long pools0 = wp_sysfs_read("pools");
	long long resident0 = wp_sysfs_read("resident_bytes");
	int status;
	pid_t pid;

	if (pools0 < 0)
		SKIP(return, "no wasmpool sysfs statistics (module not loaded?)");
	why = wp_test_memory_cgroup(cg);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, wp_test_cgroup_write(cg, "memory.max", "4194304"));	/* 4 MiB */
	wp_test_cgroup_write(cg, "memory.swap.max", "0");	/* absent without swap */

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct wasmpool_slot_alloc a;
		struct wasmpool_layout l;
		char *base;
		int pool;

		if (wp_test_cgroup_write(cg, "cgroup.procs", "0"))
			_exit(1);
		if (make_pool(&pool, &base, &l))
			_exit(2);
		/* 16 slots of 1 MiB: far more than 4 MiB */
		for (int i = 0; i < 16; i++) {
			if (wp_alloc(pool, MAX_MEM, &a))
				_exit(3);
			memset(base + a.offset, 1, MAX_MEM);
		}
		_exit(4);	/* not reached: the cgroup is too small */
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && (WTERMSIG(status) == SIGKILL ||
					    WTERMSIG(status) == SIGBUS))
		TH_LOG("status %#x", status);
	EXPECT_EQ(pools0, wp_sysfs_wait("pools", pools0));
	EXPECT_EQ(resident0, wp_sysfs_wait("resident_bytes", resident0));
	rmdir(cg);
}

TEST_HARNESS_MAIN
