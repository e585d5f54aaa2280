// SPDX-License-Identifier: GPL-2.0-only
/*
 * Protection keys: what the CPU and kernel offer, and what a process holds.
 *
 * wasmpool uses the kernel's own key allocator (mm_pkey_alloc() and friends),
 * so keys a pool takes are keys pkey_alloc() will not hand out, and the other
 * way round.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pkeys.h>
#include <linux/sched/mm.h>

#include "compat.h"
#include "pkeys.h"

/**
 * wp_pkeys_total() - number of protection keys the hardware provides
 *
 * Context: any.
 * Return: the number of keys including the default key 0, or 0 when the CPU
 * lacks protection keys or the kernel has not enabled them.
 */
unsigned int wp_pkeys_total(void)
{
	int max = arch_max_pkey();

	return max > 1 ? max : 0;
}

/**
 * wp_pkeys_free() - number of keys @mm could still allocate
 * @mm: the address space, or NULL for none
 *
 * Context: process context; takes mmap_lock for reading.
 * Return: the number of keys not allocated in @mm, 0 without protection keys.
 */
unsigned int wp_pkeys_free(struct mm_struct *mm)
{
	unsigned int total = wp_pkeys_total();
	unsigned int n = 0;
	int pkey;

	if (!total || !mm)
		return 0;
	mmap_read_lock(mm);
	for (pkey = 1; pkey < total; pkey++)
		if (wp_pkey_available(mm, pkey))
			n++;
	mmap_read_unlock(mm);
	return n;
}

/**
 * wp_pkeys_alloc_upto_locked() - take up to @max keys in @mm
 * @mm: the address space
 * @max: the most keys to take
 * @keys: filled with the keys taken
 *
 * Takes keys as pkey_alloc() would, until @max or until none is left. The
 * keys' rights in PKRU are left as they are: the kernel cannot set another
 * thread's PKRU (a key never used starts denied by the default PKRU).
 *
 * Context: mmap_lock of @mm held for write.
 * Return: the number of keys taken.
 */
unsigned int wp_pkeys_alloc_upto_locked(struct mm_struct *mm, unsigned int max,
					u8 *keys)
{
	unsigned int n;
	int pkey;

	wp_mmap_assert_write_locked(mm);
	for (n = 0; n < max; n++) {
		pkey = mm_pkey_alloc(mm);
		if (pkey <= 0)
			break;
		keys[n] = pkey;
	}
	return n;
}

/**
 * wp_pkeys_release() - give a pool's keys back to its address space
 * @mm: the address space, pinned with mmgrab()
 * @n: how many keys
 * @keys: the keys
 *
 * Nothing to do when the address space is already gone (the pool's file is
 * released by an exiting process).
 *
 * Context: process context; takes mmap_lock of @mm for write.
 */
void wp_pkeys_release(struct mm_struct *mm, unsigned int n, const u8 *keys)
{
	unsigned int i;

	if (!n || !mmget_not_zero(mm))
		return;
	mmap_write_lock(mm);
	for (i = 0; i < n; i++)
		mm_pkey_free(mm, keys[i]);
	mmap_write_unlock(mm);
	mmput(mm);
}
