/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memory images of a pool (WASMPOOL_IOC_IMAGE_CREATE): immutable arrays of
 * pages that slots read through read-only special PTEs and copy on their
 * first write (see image.c; the PTEs are pages.c's).
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef _WASMPOOL_IMAGE_H
#define _WASMPOOL_IMAGE_H

#include <linux/highmem.h>
#include <linux/kref.h>
#include <linux/mm_types.h>
#include <linux/types.h>

#include "pool.h"

struct wasmpool_image_create;

/**
 * struct wp_image - a memory image
 * @ref: the pool's table holds one reference until the image is released,
 *	every slot whose wp_slot.image it is holds one; the last put frees
 *	the pages, which no PTE maps any more by then
 * @pool: the pool (an image never outlives it: the pool drops every
 *	reference before it goes)
 * @id: the image's id in the pool (immutable)
 * @released: taken out of the pool's table; written once, read with
 *	READ_ONCE() by frees (a slot lets go of a released image)
 * @nr_pages: its length in pages (immutable)
 * @pages: its pages, filled once at creation and never written again
 */
struct wp_image {
	struct kref ref;
	struct wp_pool *pool;
	u32 id;
	bool released;
	pgoff_t nr_pages;
	struct page **pages;
};

void wp_image_pool_init(struct wp_pool *pool);
void wp_image_pool_destroy(struct wp_pool *pool);
int wp_image_create(struct wp_pool *pool, struct wasmpool_image_create *cmd);
int wp_image_release(struct wp_pool *pool, u32 id);
int wp_image_get(struct wp_pool *pool, u32 id, struct wp_image **out);
void wp_image_put(struct wp_image *img);
void wp_image_slot_set(struct wp_pool *pool, u32 idx, struct wp_image **img);
void wp_image_slot_drop(struct wp_pool *pool, u32 idx);

/* The image's length in bytes. */
static inline u64 wp_image_bytes(const struct wp_image *img)
{
	return (u64)img->nr_pages << PAGE_SHIFT;
}

/*
 * The image page slot @idx reads at page @rel of the slot, or NULL above
 * its image or without one. Context: the slot's lock held.
 */
static inline struct page *wp_image_page(const struct wp_pool *pool, u32 idx,
					 pgoff_t rel)
{
	const struct wp_image *img = wp_slot_image(pool, idx);

	return img && rel < img->nr_pages ? img->pages[rel] : NULL;
}

/*
 * Give a kept page at @rel of slot @idx what a new tenant must find there:
 * the image's bytes below its length, zeroes above.
 */
static inline void wp_image_restore_page(const struct wp_pool *pool, u32 idx,
					 pgoff_t rel, struct page *page)
{
	struct page *src = wp_image_page(pool, idx, rel);

	if (src)
		copy_highpage(page, src);
	else
		clear_highpage(page);
}

#endif /* _WASMPOOL_IMAGE_H */
