// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which free slot an allocation gets: the free lists of the stripes and
 * the affinity index. Locking is described in pool.h: everything here runs
 * under wp_pool.lock.
 *
 * A free slot is cold (no page kept resident: never used, or nothing was
 * kept) or warm (kept pages resident, zeroed; with warm reuse still
 * mapped; or it holds a memory image, whose pages it may still map).
 * Each stripe keeps its cold slots on a stack and its warm ones on a list
 * in the order they were freed. A warm slot whose last tenant
 * gave an affinity key (the runtime's module id) is also in the pool's
 * affinity hash, by key and stripe.
 *
 * An allocation with a key takes a warm slot last used with that key (a
 * hit: same module, same size, its pages already there), else a cold
 * slot (so as not to evict another module's warm slot), else the least
 * recently freed warm slot. One without a key takes the most recently
 * freed warm slot (its pages are the likeliest cached), else a cold one.
 * This is the policy of Wasmtime's ModuleAffinityIndexAllocator. An
 * allocation with a memory image and no key of its own is keyed by the
 * image (WP_KEY_IMAGE, the image id): a key of another kind never
 * matches, whatever its value.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <linux/hash.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/slab.h>

#include "pool.h"

/* The affinity hash: a bucket per 4 slots, 2 to 64 Ki buckets. */
#define WP_AFFINITY_MAX_BITS	16

/**
 * wp_freelist_alloc() - allocate the affinity hash
 * @pool: a new pool
 * @num_slots: the slots it will have
 *
 * Context: process context, before the pool is published.
 * Return: 0 or -ENOMEM.
 */
int wp_freelist_alloc(struct wp_pool *pool, u64 num_slots)
{
	/* hash_64() needs at least one bit: with 0 it would shift by 64. */
	int bits = clamp_t(int, order_base_2(num_slots) - 2, 1, WP_AFFINITY_MAX_BITS);

	pool->affinity_bits = bits;
	pool->affinity = kvcalloc(1U << bits, sizeof(*pool->affinity),
				  GFP_KERNEL_ACCOUNT);
	return pool->affinity ? 0 : -ENOMEM;
}

/**
 * wp_freelist_init() - every slot cold and free, the lowest first
 * @pool: a pool whose layout is set
 *
 * Context: process context, before the pool is published.
 */
void wp_freelist_init(struct wp_pool *pool)
{
	const struct wp_layout *l = &pool->layout;
	u32 i;

	for (i = 0; i < l->num_stripes; i++) {
		pool->stripes[i].cold = WP_NO_SLOT;
		INIT_LIST_HEAD(&pool->stripes[i].warm);
	}
	/* Push in reverse, so that the lowest slots come out first. */
	for (i = l->num_slots; i-- > 0; ) {
		struct wp_stripe *st = &pool->stripes[i % l->num_stripes];

		INIT_LIST_HEAD(&pool->slots[i].lru);
		INIT_HLIST_NODE(&pool->slots[i].hnode);
		pool->slots[i].next_cold = st->cold;
		st->cold = i;
		st->free_count++;
	}
}

/* Free what wp_freelist_alloc() allocated. */
void wp_freelist_destroy(struct wp_pool *pool)
{
	kvfree(pool->affinity);
}

static struct hlist_head *wp_freelist_bucket(struct wp_pool *pool, u64 key,
					     u32 stripe)
{
	return &pool->affinity[hash_64(key + stripe * GOLDEN_RATIO_64,
				       pool->affinity_bits)];
}

/* Take warm slot @idx off its lists. */
static u32 wp_freelist_unlink_warm(struct wp_pool *pool, u32 idx)
{
	struct wp_slot *slot = &pool->slots[idx];

	list_del_init(&slot->lru);
	if (!hlist_unhashed(&slot->hnode))
		hlist_del_init(&slot->hnode);
	return idx;
}

static u32 wp_freelist_take_hit(struct wp_pool *pool, u32 stripe, u8 kind,
				u64 key)
{
	struct wp_slot *slot;

	hlist_for_each_entry(slot, wp_freelist_bucket(pool, key, stripe), hnode) {
		u32 idx = slot - pool->slots;

		if (slot->affinity == key && slot->keyed == kind &&
		    idx % pool->layout.num_stripes == stripe)
			return wp_freelist_unlink_warm(pool, idx);
	}
	return WP_NO_SLOT;
}

static u32 wp_freelist_take_cold(struct wp_pool *pool, u32 stripe)
{
	struct wp_stripe *st = &pool->stripes[stripe];
	u32 idx = st->cold;

	if (idx != WP_NO_SLOT)
		st->cold = pool->slots[idx].next_cold;
	return idx;
}

/* The least (@oldest) or most recently freed warm slot of @stripe. */
static u32 wp_freelist_take_warm(struct wp_pool *pool, u32 stripe, bool oldest)
{
	struct list_head *warm = &pool->stripes[stripe].warm;
	struct wp_slot *slot;

	if (list_empty(warm))
		return WP_NO_SLOT;
	slot = oldest ? list_first_entry(warm, struct wp_slot, lru) :
			list_last_entry(warm, struct wp_slot, lru);
	return wp_freelist_unlink_warm(pool, slot - pool->slots);
}

enum wp_take { WP_TAKE_HIT, WP_TAKE_COLD, WP_TAKE_OLDEST, WP_TAKE_NEWEST };

static const u8 wp_take_keyed[] = { WP_TAKE_HIT, WP_TAKE_COLD, WP_TAKE_OLDEST };
static const u8 wp_take_plain[] = { WP_TAKE_NEWEST, WP_TAKE_COLD };

static u32 wp_freelist_take_one(struct wp_pool *pool, u8 how, u32 stripe,
				u8 kind, u64 key)
{
	switch (how) {
	case WP_TAKE_HIT:
		return wp_freelist_take_hit(pool, stripe, kind, key);
	case WP_TAKE_COLD:
		return wp_freelist_take_cold(pool, stripe);
	default:
		return wp_freelist_take_warm(pool, stripe, how == WP_TAKE_OLDEST);
	}
}

/**
 * wp_freelist_take() - take a free slot as the policy says
 * @pool: the pool
 * @stripe: the stripe to take from, or WP_ANY_STRIPE
 * @keyed: the &enum wp_key_kind of @key (WP_KEY_NONE: no key)
 * @key: the key
 * @reuse: out: &enum wasmpool_slot_reuse of the slot taken
 *
 * With WP_ANY_STRIPE each step of the policy looks at every stripe, from
 * the one after the last allocation's on, so allocations spread over them.
 *
 * Context: wp_pool.lock held.
 * Return: the slot, or WP_NO_SLOT when none is free.
 */
u32 wp_freelist_take(struct wp_pool *pool, u32 stripe, u8 keyed, u64 key,
		     u32 *reuse)
{
	const u8 *order = keyed ? wp_take_keyed : wp_take_plain;
	u32 steps = keyed ? ARRAY_SIZE(wp_take_keyed) : ARRAY_SIZE(wp_take_plain);
	u32 n = pool->layout.num_stripes;
	u32 first = stripe == WP_ANY_STRIPE ? pool->next_stripe : stripe;
	u32 tries = stripe == WP_ANY_STRIPE ? n : 1;
	u32 step, i, idx = WP_NO_SLOT;
	struct wp_slot *slot;

	lockdep_assert_held(&pool->lock);
	for (step = 0; step < steps && idx == WP_NO_SLOT; step++)
		for (i = 0; i < tries && idx == WP_NO_SLOT; i++)
			idx = wp_freelist_take_one(pool, order[step],
						   (first + i) % n, keyed, key);
	if (idx == WP_NO_SLOT)
		return WP_NO_SLOT;

	pool->stripes[idx % n].free_count--;
	if (stripe == WP_ANY_STRIPE)
		pool->next_stripe = (idx % n + 1) % n;
	slot = &pool->slots[idx];
	if (!wp_slot_warm(pool, idx))
		*reuse = WASMPOOL_SLOT_COLD;
	else if (keyed && slot->keyed == keyed && slot->affinity == key)
		*reuse = WASMPOOL_SLOT_WARM_HIT;
	else
		*reuse = WASMPOOL_SLOT_WARM;
	return idx;
}

/**
 * wp_freelist_put() - a slot becomes free
 * @pool: the pool
 * @idx: the slot, reset; its @keyed and @affinity say who used it last
 *
 * Context: wp_pool.lock held; the slot's lock held for write.
 */
void wp_freelist_put(struct wp_pool *pool, u32 idx)
{
	struct wp_slot *slot = &pool->slots[idx];
	u32 stripe = idx % pool->layout.num_stripes;
	struct wp_stripe *st = &pool->stripes[stripe];

	lockdep_assert_held(&pool->lock);
	st->free_count++;
	if (!wp_slot_warm(pool, idx)) {
		slot->next_cold = st->cold;
		st->cold = idx;
		return;
	}
	list_add_tail(&slot->lru, &st->warm);
	if (slot->keyed)
		hlist_add_head(&slot->hnode,
			       wp_freelist_bucket(pool, slot->affinity, stripe));
}

/**
 * wp_freelist_remove() - take a given warm free slot off the free lists
 * @pool: the pool
 * @idx: a free slot, warm
 *
 * For the release of an image, which empties the warm free slots holding
 * it; wp_freelist_put() gives the slot back.
 *
 * Context: wp_pool.lock held.
 */
void wp_freelist_remove(struct wp_pool *pool, u32 idx)
{
	lockdep_assert_held(&pool->lock);
	wp_freelist_unlink_warm(pool, idx);
	pool->stripes[idx % pool->layout.num_stripes].free_count--;
}
