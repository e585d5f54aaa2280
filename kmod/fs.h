/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _WASMPOOL_FS_H
#define _WASMPOOL_FS_H

struct inode;

int wp_fs_init(void);
void wp_fs_exit(void);
struct inode *wp_fs_new_inode(void);

#endif /* _WASMPOOL_FS_H */
