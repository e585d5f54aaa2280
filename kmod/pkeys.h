/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _WASMPOOL_PKEYS_H
#define _WASMPOOL_PKEYS_H

#include <linux/types.h>

struct mm_struct;

unsigned int wp_pkeys_total(void);
unsigned int wp_pkeys_free(struct mm_struct *mm);
unsigned int wp_pkeys_alloc_upto_locked(struct mm_struct *mm, unsigned int max,
					u8 *keys);
void wp_pkeys_release(struct mm_struct *mm, unsigned int n, const u8 *keys);

#endif /* _WASMPOOL_PKEYS_H */
