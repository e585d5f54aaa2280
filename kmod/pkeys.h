/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _WASMPOOL_PKEYS_H
#define _WASMPOOL_PKEYS_H

#include <linux/types.h>

struct mm_struct;

unsigned int wp_pkeys_total(void);
unsigned int wp_pkeys_free(struct mm_struct *mm);

#endif /* _WASMPOOL_PKEYS_H */
