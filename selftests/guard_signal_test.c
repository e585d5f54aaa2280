// SPDX-License-Identifier: GPL-2.0-only
/*
 * guard_signal_test: what a guard fault looks like to userspace. A user
 * access of a thread that catches SIGSEGV gets what a PROT_NONE guard
 * gives - SEGV_ACCERR, the exact address, and the same signal context
 * (x86: cr2, err, trapno) as a PROT_NONE page of the same process - in the
 * thread that faulted; a handler that makes the address accessible and
 * returns has the access retried. The kernel's own copies get EFAULT. A
 * thread that does not catch SIGSEGV (default action, ignored, blocked)
 * dies of it, never hangs.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

#define PAGE		4096ULL
#define MAX_MEM		(256 * 1024ULL)
#define SLOTS		4

/* What the handler saw of the last fault. */
static struct {
	sigjmp_buf env;
	siginfo_t si;
	long long err, trapno, cr2;
	pid_t tid;
	int count;
	int fd;			/* grow_handler: the pool */
	uint32_t slot;
	uint64_t grow_to;
} seen;

static void save(const siginfo_t *si, const void *uc_)
{
	const ucontext_t *uc = uc_;

	seen.si = *si;
	seen.tid = (pid_t)syscall(SYS_gettid);
	seen.count++;
#if defined(__x86_64__)
	seen.err = uc->uc_mcontext.gregs[REG_ERR];
	seen.trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	seen.cr2 = uc->uc_mcontext.gregs[REG_CR2];
#else
	(void)uc;
	seen.err = seen.trapno = seen.cr2 = -1;
#endif
}

static void jump_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	save(si, uc);
	siglongjmp(seen.env, 1);
}

/* Makes the slot accessible up to seen.grow_to and returns: a lazy grow. */
static void grow_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	save(si, uc);
	if (wp_grow(seen.fd, seen.slot, seen.grow_to))
		_exit(3);
}

static void catch_with(void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
}

static void uncatch(void)
{
	signal(SIGSEGV, SIG_DFL);
}

/* Access @p; 0 if it worked, else the signal the handler saw. */
static int touch(volatile char *p, int write)
{
	memset(&seen.si, 0, sizeof(seen.si));
	catch_with(jump_handler);
	if (sigsetjmp(seen.env, 1) == 0) {
		if (write)
			*p = 1;
		else
			(void)*p;
		uncatch();
		return 0;
	}
	uncatch();
	return seen.si.si_signo;
}

FIXTURE(guard) {
	int fd;
	char *base;
	struct wasmpool_layout l;
	uint32_t slot;
	char *mem;
	char *prot_none;	/* a PROT_NONE page: the reference */
};

FIXTURE_SETUP(guard)
{
	struct wasmpool_configure c = wp_test_config(0, MAX_MEM, SLOTS, 0);
	struct wasmpool_slot_alloc a;

	self->prot_none = MAP_FAILED;
	WP_TEST_OPEN_POOL(self, c);
	ASSERT_EQ(0, wp_alloc(self->fd, PAGE, &a));
	self->slot = a.slot;
	self->mem = (char *)(uintptr_t)a.address;
	self->prot_none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->prot_none);
}

FIXTURE_TEARDOWN(guard)
{
	if (self->prot_none != MAP_FAILED)
		munmap(self->prot_none, PAGE);
	if (self->base != MAP_FAILED)
		munmap(self->base, self->l.total_bytes);
	close(self->fd);
}

/*
 * Every kind of guard: above the accessible size, above max memory, the
 * slab's guards, a free slot; reads and writes, unaligned addresses.
 */
TEST_F(guard, accerr_with_the_exact_address)
{
	uint32_t other = (self->slot + 1) % SLOTS;	/* not allocated */
	char *where[] = {
		self->mem + PAGE + 17,
		self->mem + MAX_MEM - 1,
		self->mem + MAX_MEM + 4093,
		self->base + self->l.total_bytes - 3,
		self->base + self->l.pre_slab_guard_bytes + other * self->l.slot_bytes + 1234,
		/* the guard before the slab, if the layout has one */
		self->l.pre_slab_guard_bytes ? self->base + 5 : self->mem + PAGE,
	};
	unsigned int i, w;

	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		for (w = 0; w < 2; w++) {
			EXPECT_EQ(SIGSEGV, touch(where[i], w)) TH_LOG("%p write %u", where[i], w);
			EXPECT_EQ(SEGV_ACCERR, seen.si.si_code) TH_LOG("%p write %u", where[i], w);
			EXPECT_EQ((void *)where[i], seen.si.si_addr);
		}
	}
}

/* The same signal context as a fault on a PROT_NONE page. */
TEST_F(guard, context_as_prot_none)
{
	long long err[2], trapno, cr2;
	unsigned int w;

#if !defined(__x86_64__)
	SKIP(return, "the signal context is checked on x86-64 only");
#endif
	for (w = 0; w < 2; w++) {
		ASSERT_EQ(SIGSEGV, touch(self->prot_none + 100, w));
		EXPECT_EQ(SEGV_ACCERR, seen.si.si_code);
		err[w] = seen.err;
		trapno = seen.trapno;
		ASSERT_EQ(SIGSEGV, touch(self->mem + PAGE + 100, w));
		EXPECT_EQ(err[w], seen.err) TH_LOG("write %u", w);
		EXPECT_EQ(trapno, seen.trapno);
		cr2 = seen.cr2;
		EXPECT_EQ((long long)(uintptr_t)(self->mem + PAGE + 100), cr2);
	}
	EXPECT_NE(err[0], err[1]);	/* the write bit tells them apart */
}

/* The kernel's copies of a guard get EFAULT, no signal. */
TEST_F(guard, kernel_copies_get_efault)
{
	int p[2];

	ASSERT_EQ(0, pipe(p));
	seen.count = 0;
	catch_with(jump_handler);
	EXPECT_EQ(-1, write(p[1], self->mem + PAGE, 16));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(1, write(p[1], "x", 1));
	EXPECT_EQ(-1, read(p[0], self->mem + MAX_MEM, 1));
	EXPECT_EQ(EFAULT, errno);
	uncatch();
	EXPECT_EQ(0, seen.count);
	close(p[0]);
	close(p[1]);
}

/* A handler that grows the slot and returns: the access is retried and
 * succeeds, one signal. */
TEST_F(guard, handler_return_retries_the_access)
{
	volatile char *p = self->mem + 3 * PAGE + 7;

	seen.count = 0;
	seen.fd = self->fd;
	seen.slot = self->slot;
	seen.grow_to = 4 * PAGE;
	catch_with(grow_handler);
	*p = 42;
	uncatch();
	EXPECT_EQ(1, seen.count);
	EXPECT_EQ(SEGV_ACCERR, seen.si.si_code);
	EXPECT_EQ((void *)p, seen.si.si_addr);
	EXPECT_EQ(42, *p);
}

static void *fault_in_thread(void *arg)
{
	touch(arg, 1);
	return (void *)(intptr_t)syscall(SYS_gettid);
}

/* The signal goes to the thread that faulted, not to the process. */
TEST_F(guard, signal_to_the_faulting_thread)
{
	pthread_t t;
	void *tid;

	seen.tid = 0;
	ASSERT_EQ(0, pthread_create(&t, NULL, fault_in_thread, self->mem + MAX_MEM));
	ASSERT_EQ(0, pthread_join(t, &tid));
	EXPECT_EQ((pid_t)(intptr_t)tid, seen.tid);
	EXPECT_EQ(SEGV_ACCERR, seen.si.si_code);
}

/*
 * A child that touches a guard with SIGSEGV at the default action, ignored
 * or blocked (@how 0, 1, 2): it dies of SIGSEGV (a hang would be a livelock
 * of faults). The pool is not inherited (VM_DONTCOPY): the child makes its
 * own; @pool 0 touches a PROT_NONE page instead, the reference.
 */
static int child_fate(int pool, int how)
{
	struct rlimit no_core = { 0, 0 };
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct wasmpool_configure c = wp_test_config(0, MAX_MEM, 1, 0);
		struct wasmpool_slot_alloc a;
		char *p, *base;
		sigset_t set;
		int fd;

		setrlimit(RLIMIT_CORE, &no_core);
		alarm(10);
		if (pool) {
			fd = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
			if (fd < 0 || wp_configure(fd, &c))
				_exit(2);
			base = wp_test_map(fd, &c.layout);
			if (base == MAP_FAILED || wp_alloc(fd, PAGE, &a))
				_exit(2);
			p = (char *)(uintptr_t)a.address + PAGE;
		} else {
			p = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				_exit(2);
		}
		if (how == 1)
			signal(SIGSEGV, SIG_IGN);
		if (how == 2) {
			catch_with(jump_handler);
			sigemptyset(&set);
			sigaddset(&set, SIGSEGV);
			sigprocmask(SIG_BLOCK, &set, NULL);
		}
		*(volatile char *)p = 1;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 1000 + WEXITSTATUS(status);
}

TEST(uncaught_default_ignored_blocked_die)
{
	int how;

	for (how = 0; how < 3; how++) {
		EXPECT_EQ(SIGSEGV, child_fate(1, how)) TH_LOG("pool, how %d", how);
		EXPECT_EQ(SIGSEGV, child_fate(0, how)) TH_LOG("PROT_NONE, how %d", how);
	}
}

TEST_HARNESS_MAIN
