// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory images: a module's initial memory, copied into the kernel once
 * (WASMPOOL_IOC_IMAGE_CREATE) and read by any number of slots without a
 * copy, as Wasmtime's memory_init_cow maps a memfd MAP_PRIVATE over its
 * slots.
 *
 * An image is an array of pages allocated __GFP_ACCOUNT by its creator
 * (charged to its memory cgroup), filled from the creator's memory or from
 * a file, and never written again: copying at creation makes it immutable
 * whatever happens to its source. Its pages count once in the owner's RSS
 * (RssShmem, as the pool's own pages do) from creation to free.
 *
 * The pages are mapped into slots read-only with special PTEs by the fault
 * path (pages.c), so, like every pool page, they cannot be pinned; a write
 * gives the slot a copy of its own (pages.c; pfn_mkwrite in mmap.c). Since
 * no PTE holds a reference, an image's pages must outlive every PTE that
 * maps them: the pool's table holds a reference to the image until it is
 * released, and every slot whose wp_slot.image it is holds one, which it
 * drops only after zapping every PTE of the slot (wp_image_slot_drop()).
 * A slot keeps its image while free (warm, its pages possibly mapped, the
 * image its affinity key) and lets go when it gets another image or none,
 * when it is freed after the image's release, or, if it was free then,
 * at the release itself (wp_image_evict()). The pool drops all of them
 * when it ends, with no mapping left.
 *
 * Locking (see pool.h): the table is an xarray whose own lock also guards
 * the id counter; slot fields under the slot's lock; free lists under
 * wp_pool.lock, taken inside the slot's lock.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wasmpool.h>
#include <linux/xarray.h>

#include "compat.h"
#include "image.h"
#include "pages.h"
#include "pool.h"
#include "sysfs.h"

/**
 * wp_image_pool_init() - an empty table of images
 * @pool: a new pool
 *
 * Reads the admin limit max_image_bytes_per_pool, as the other limits are
 * read, once at configure.
 *
 * Context: process context, before the pool is published.
 */
void wp_image_pool_init(struct wp_pool *pool)
{
	xa_init(&pool->images);
	pool->image_next = 1;
	pool->max_image_pages =
		READ_ONCE(wp_limits.max_image_bytes_per_pool) >> PAGE_SHIFT;
}

/* Reserve @nr pages of the pool's image limit: -EDQUOT beyond it. */
static int wp_image_charge(struct wp_pool *pool, u64 nr)
{
	u64 max = pool->max_image_pages;

	if (atomic64_add_return(nr, &pool->image_pages) <= max || !max)
		return 0;
	atomic64_sub(nr, &pool->image_pages);
	atomic64_inc(&wp_global.limit_hits);
	pr_info_ratelimited("%s[%d]: an image of %llu bytes exceeds the limit max_image_bytes_per_pool=%llu (/sys/class/misc/wasmpool/max_image_bytes_per_pool)\n",
			    current->comm, task_pid_nr(current), nr << PAGE_SHIFT,
			    max << PAGE_SHIFT);
	return -EDQUOT;
}

/* Free the first @n pages of @img and the image; uncharge all of it. */
static void wp_image_free_pages(struct wp_image *img, pgoff_t n)
{
	struct wp_pool *pool = img->pool;
	pgoff_t i;

	for (i = 0; i < n; i++) {
		put_page(img->pages[i]);
		if (!(i % 512))
			cond_resched();
	}
	atomic64_sub(img->nr_pages, &pool->image_pages);
	kvfree(img->pages);
	kfree(img);
}

/* The last reference went: no PTE maps the image any more. */
static void wp_image_release_ref(struct kref *ref)
{
	struct wp_image *img = container_of(ref, struct wp_image, ref);
	struct wp_pool *pool = img->pool;

	wp_mm_rss_add(pool->mm, -(long)img->nr_pages);
	atomic64_dec(&pool->images_alive);
	atomic64_dec(&wp_global.images);
	atomic64_sub(img->nr_pages, &wp_global.image_pages);
	wp_image_free_pages(img, img->nr_pages);
}

/**
 * wp_image_put() - drop a reference to an image
 * @img: the image, or NULL
 *
 * Context: process context; no PTE may map the image for this reference
 * any more.
 */
void wp_image_put(struct wp_image *img)
{
	if (img)
		kref_put(&img->ref, wp_image_release_ref);
}

/* Fill page @i of @img from the caller's memory at @uaddr. */
static int wp_image_fill_user(struct page *page, u64 uaddr)
{
	void *kaddr = kmap_local_page(page);
	unsigned long left;

	left = copy_from_user(kaddr, u64_to_user_ptr(uaddr), PAGE_SIZE);
	kunmap_local(kaddr);
	return left ? -EFAULT : 0;
}

/* Fill @page from @file at *@pos; a file that ends before is -EINVAL. */
static int wp_image_fill_file(struct page *page, struct file *file, loff_t *pos)
{
	void *kaddr = kmap_local_page(page);
	size_t done = 0;
	ssize_t n = 0;

	while (done < PAGE_SIZE) {
		n = kernel_read(file, kaddr + done, PAGE_SIZE - done, pos);
		if (n <= 0)
			break;
		done += n;
	}
	kunmap_local(kaddr);
	if (n < 0)
		return n;
	return done < PAGE_SIZE ? -EINVAL : 0;
}

/*
 * The file of WASMPOOL_IMAGE_FROM_FD: open for reading (else EBADF, as
 * read(2) says) and regular (a memfd is; a pipe or a device, such as a
 * pool, is not).
 */
static int wp_image_file(s32 fd, struct file **out)
{
	struct file *file = fget(fd);

	if (!file)
		return -EBADF;
	if (!(file->f_mode & FMODE_READ)) {
		fput(file);
		return -EBADF;
	}
	if (!S_ISREG(file_inode(file)->i_mode)) {
		fput(file);
		return -EINVAL;
	}
	*out = file;
	return 0;
}

/* The request's fields, as far as they can be checked without acting. */
static int wp_image_check(struct wp_pool *pool,
			  const struct wasmpool_image_create *cmd)
{
	bool from_fd = cmd->flags & WASMPOOL_IMAGE_FROM_FD;
	u64 end;

	if (cmd->flags & ~WASMPOOL_IMAGE_FROM_FD || cmd->__reserved ||
	    cmd->__reserved2)
		return -EOPNOTSUPP;
	if (from_fd ? cmd->user_addr : cmd->fd || cmd->fd_offset)
		return -EOPNOTSUPP;
	if (!cmd->length || !PAGE_ALIGNED(cmd->length) ||
	    cmd->length > pool->layout.max_memory_bytes)
		return -EINVAL;
	if (!from_fd)
		return 0;
	if (!PAGE_ALIGNED(cmd->fd_offset))
		return -EINVAL;
	if (check_add_overflow(cmd->fd_offset, cmd->length, &end) ||
	    end > LLONG_MAX)
		return -EOVERFLOW;
	return 0;
}

/*
 * The array of the slots' images, allocated with the pool's first image
 * (a pool without images pays nothing per slot) and counted in its
 * bookkeeping.
 */
static int wp_image_slot_array(struct wp_pool *pool)
{
	size_t bytes = array_size(pool->layout.num_slots, sizeof(*pool->slot_images));
	struct wp_image **arr;

	/* Pairs with the smp_store_release() below. */
	if (smp_load_acquire(&pool->slot_images))
		return 0;
	arr = kvzalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (!arr)
		return -ENOMEM;
	xa_lock(&pool->images);
	if (!pool->slot_images) {
		/* Pairs with smp_load_acquire() in wp_slot_image(). */
		smp_store_release(&pool->slot_images, arr);
		WRITE_ONCE(pool->metadata_bytes, pool->metadata_bytes + bytes);
		arr = NULL;
	}
	xa_unlock(&pool->images);
	kvfree(arr);
	return 0;
}

/* Give @img an id and put it in the table. */
static int wp_image_insert(struct wp_pool *pool, struct wp_image *img)
{
	int ret;

	xa_lock(&pool->images);
	if (pool->image_ids_wrapped) {
		ret = -ENOSPC;
	} else {
		/* Taken before the insert, which may drop the lock. */
		img->id = pool->image_next;
		if (img->id == U32_MAX)
			pool->image_ids_wrapped = true;
		else
			pool->image_next++;
		ret = __xa_insert(&pool->images, img->id, img, GFP_KERNEL_ACCOUNT);
	}
	xa_unlock(&pool->images);
	return ret;
}

/**
 * wp_image_create() - carry out WASMPOOL_IOC_IMAGE_CREATE
 * @pool: the pool
 * @cmd: the request; its image id is filled on success
 *
 * Charges the limit first, then allocates and fills the pages one at a
 * time (a fatal signal stops it), then publishes the image in the table.
 *
 * Context: process context, the pool's owner; no lock held (the copy may
 * fault, into the pool itself too).
 * Return: 0 or -errno as documented for WASMPOOL_IOC_IMAGE_CREATE.
 */
int wp_image_create(struct wp_pool *pool, struct wasmpool_image_create *cmd)
{
	bool from_fd = cmd->flags & WASMPOOL_IMAGE_FROM_FD;
	struct file *file = NULL;
	loff_t pos = cmd->fd_offset;
	struct wp_image *img;
	pgoff_t nr, i = 0;
	int ret;

	ret = wp_image_check(pool, cmd);
	if (ret)
		return ret;
	if (from_fd) {
		ret = wp_image_file(cmd->fd, &file);
		if (ret)
			return ret;
	}
	nr = cmd->length >> PAGE_SHIFT;
	ret = wp_image_slot_array(pool) ?: wp_image_charge(pool, nr);
	if (ret)
		goto put_file;

	ret = -ENOMEM;
	img = kzalloc(sizeof(*img), GFP_KERNEL_ACCOUNT);
	if (!img)
		goto uncharge;
	img->pages = kvcalloc(nr, sizeof(*img->pages), GFP_KERNEL_ACCOUNT);
	if (!img->pages)
		goto free_img;
	kref_init(&img->ref);
	img->pool = pool;
	img->nr_pages = nr;

	for (i = 0; i < nr; i++) {
		struct page *page = alloc_page(GFP_HIGHUSER | __GFP_ACCOUNT);

		if (!page) {
			ret = -ENOMEM;
			goto free_pages;
		}
		img->pages[i] = page;
		ret = from_fd ? wp_image_fill_file(page, file, &pos) :
				wp_image_fill_user(page, cmd->user_addr +
						   ((u64)i << PAGE_SHIFT));
		if (ret) {
			i++;
			goto free_pages;
		}
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			i++;
			goto free_pages;
		}
		cond_resched();
	}

	ret = wp_image_insert(pool, img);
	if (ret)
		goto free_pages;
	wp_mm_rss_add(pool->mm, nr);
	atomic64_inc(&pool->images_alive);
	atomic64_inc(&wp_global.images);
	atomic64_add(nr, &wp_global.image_pages);
	cmd->image = img->id;
	if (file)
		fput(file);
	return 0;

free_pages:
	/* wp_image_free_pages() uncharges the whole image. */
	wp_image_free_pages(img, i);
	goto put_file;
free_img:
	kfree(img);
uncharge:
	atomic64_sub(nr, &pool->image_pages);
put_file:
	if (file)
		fput(file);
	return ret;
}

/* Why @id names no image: never given out (EINVAL) or released (ENOENT). */
static int wp_image_missing(struct wp_pool *pool, u32 id)
{
	lockdep_assert_held(&pool->images.xa_lock);
	if (!id || (!pool->image_ids_wrapped && id >= pool->image_next))
		return -EINVAL;
	return -ENOENT;
}

/**
 * wp_image_get() - look an image up by id and take a reference
 * @pool: the pool
 * @id: the id
 * @out: the image, with a reference for the caller
 *
 * Context: any process context.
 * Return: 0, -EINVAL for an id never given out, -ENOENT for one released.
 */
int wp_image_get(struct wp_pool *pool, u32 id, struct wp_image **out)
{
	struct wp_image *img;
	int ret = 0;

	xa_lock(&pool->images);
	img = xa_load(&pool->images, id);
	if (img)
		kref_get(&img->ref);	/* the table's reference is there */
	else
		ret = wp_image_missing(pool, id);
	xa_unlock(&pool->images);
	*out = img;
	return ret;
}

/**
 * wp_image_slot_drop() - empty a slot of everything it maps and holds
 * @pool: the pool
 * @idx: the slot
 *
 * Unmaps whatever PTEs the slot may have (its own pages, zero-page and
 * image PTEs), frees its own pages and drops its image: for a slot that
 * changes image, or lets go of a released one.
 *
 * Context: process context; the slot's lock held for write; the slot is
 * not on a free list.
 */
void wp_image_slot_drop(struct wp_pool *pool, u32 idx)
{
	struct wp_slot *slot = &pool->slots[idx];
	pgoff_t first = wp_slot_offset(pool, idx) >> PAGE_SHIFT;
	struct wp_image *img = wp_slot_image(pool, idx);
	pgoff_t end = slot->pages_end;

	lockdep_assert_held_write(&slot->lock);
	if (slot->zero_mapped)
		end = max_t(pgoff_t, end, slot->mapped_end >> PAGE_SHIFT);
	if (slot->image_mapped && img)
		end = max(end, img->nr_pages);
	if (atomic_read(&slot->resident) || slot->zero_mapped || slot->image_mapped)
		wp_pages_unmap(pool, first, first + end);
	wp_pages_release(pool, idx);
	slot->zero_mapped = false;
	slot->image_mapped = false;
	slot->mapped_end = 0;
	if (img)
		WRITE_ONCE(pool->slot_images[idx], NULL);
	wp_image_put(img);
}

/**
 * wp_image_slot_set() - give an emptied slot its image
 * @pool: the pool
 * @idx: the slot, without an image
 * @img: in: the image (a reference the slot takes over) or NULL; out: NULL
 *
 * Context: the slot's lock held for write.
 */
void wp_image_slot_set(struct wp_pool *pool, u32 idx, struct wp_image **img)
{
	lockdep_assert_held_write(&pool->slots[idx].lock);
	if (!*img)
		return;
	/* An image exists: so does the array (wp_image_create()). */
	WARN_ON_ONCE(pool->slot_images[idx]);
	WRITE_ONCE(pool->slot_images[idx], *img);
	*img = NULL;
}

/*
 * The image was released: empty the free slots that still hold it (warm,
 * so on a warm list), so that its memory goes as soon as the slots in use
 * let go. A slot freed meanwhile sees the release itself: its free runs
 * under its lock, which this takes after the release was marked.
 */
static void wp_image_evict(struct wp_pool *pool, struct wp_image *img)
{
	u32 i;

	for (i = 0; i < pool->layout.num_slots; i++) {
		struct wp_slot *slot = &pool->slots[i];
		bool evict;

		if (wp_slot_image(pool, i) != img)
			continue;
		down_write(&slot->lock);
		spin_lock(&pool->lock);
		evict = slot->state == WP_SLOT_FREE && wp_slot_image(pool, i) == img;
		if (evict)
			wp_freelist_remove(pool, i);
		spin_unlock(&pool->lock);
		if (evict) {
			wp_image_slot_drop(pool, i);
			spin_lock(&pool->lock);
			wp_freelist_put(pool, i);
			spin_unlock(&pool->lock);
		}
		up_write(&slot->lock);
		cond_resched();
	}
}

/**
 * wp_image_release() - carry out WASMPOOL_IOC_IMAGE_RELEASE
 * @pool: the pool
 * @id: the image's id
 *
 * Context: process context, the pool's owner.
 * Return: 0, -EINVAL for an id never given out, -ENOENT for one released.
 */
int wp_image_release(struct wp_pool *pool, u32 id)
{
	struct wp_image *img;
	int ret = 0;

	xa_lock(&pool->images);
	img = __xa_erase(&pool->images, id);
	if (!img)
		ret = wp_image_missing(pool, id);
	xa_unlock(&pool->images);
	if (ret)
		return ret;
	WRITE_ONCE(img->released, true);
	wp_image_evict(pool, img);
	wp_image_put(img);
	return 0;
}

/**
 * wp_image_pool_destroy() - drop every image of an ending pool
 * @pool: the pool; no mapping of it is left, no command runs
 *
 * The slots' references first, then the table's.
 *
 * Context: process context (file release).
 */
void wp_image_pool_destroy(struct wp_pool *pool)
{
	struct wp_image *img;
	unsigned long id;
	u32 i;

	for (i = 0; pool->slot_images && i < pool->layout.num_slots; i++) {
		wp_image_put(pool->slot_images[i]);
		pool->slot_images[i] = NULL;
	}
	xa_for_each(&pool->images, id, img) {
		xa_erase(&pool->images, id);
		wp_image_put(img);
		cond_resched();
	}
	xa_destroy(&pool->images);
	kvfree(pool->slot_images);
}
