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
#include <linux/pkeys.h>

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
		if (!mm_pkey_is_allocated(mm, pkey))
			n++;
	mmap_read_unlock(mm);

	return n;
}
