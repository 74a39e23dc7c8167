/* pool.h: the frame pool, for allocations of at least HMO_THRESHOLD bytes.
 *
 * Frames come from jemalloc arenas whose extent hooks carve memory out of one
 * address range that hmo reserves on first use, backed by hugetlb pages where some
 * are reserved and free, else by transparent huge pages or 4 KiB pages, whichever
 * fresh memory costs less on this machine (fresh.h). jemalloc recycles, splits and
 * merges; hmo decides backing, caps and release. A pointer belongs to the pool when it lies in that range, which
 * is checked in O(1) without reading anything in front of it; after the pool gave
 * part of the range back (pool_give_back, under RLIMIT_AS), only in the parts it
 * kept. */
#ifndef HMO_PRELOAD_POOL_H
#define HMO_PRELOAD_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../common/trace.h"

#pragma GCC visibility push(hidden)

/* The reserved range: [hmo_pool_base, hmo_pool_base + hmo_pool_size). Zero until
 * the pool exists, so that nothing is owned before. */
extern uintptr_t hmo_pool_base;
extern size_t hmo_pool_size;
/* Requests at or above this go to the pool: HMO_THRESHOLD, or SIZE_MAX with
 * HMO_POOL=off (unless tracing, which wants to see them). */
extern size_t hmo_pool_threshold;

/* Set once the pool gave the unused part of its range back (pool_give_back): from
 * then on only the parts it kept are its own, and the holes may hold anybody's
 * mappings. */
extern bool hmo_pool_partial;
bool pool_owns_kept(const void *p);
bool pool_overlaps_kept(const void *p, size_t len);

/* The size is published last (release) and read first (acquire): a thread that sees
 * it also sees the base, so no window exists in which low addresses look owned. */
static inline bool hmo_pool_in_range(const void *p)
{
	size_t size = __atomic_load_n(&hmo_pool_size, __ATOMIC_ACQUIRE);

	return (uintptr_t)p - __atomic_load_n(&hmo_pool_base, __ATOMIC_RELAXED) < size;
}

/* Exact: in the range, and in a part the pool kept. The hooks' fast paths test
 * hmo_pool_in_range only, and their slow paths this. */
static inline bool hmo_pool_owns(const void *p)
{
	if (!hmo_pool_in_range(p))
		return false;
	return !__atomic_load_n(&hmo_pool_partial, __ATOMIC_ACQUIRE) || pool_owns_kept(p);
}

/* Set while giving back could help the program's own allocator: RLIMIT_AS is set,
 * and the reservation is still whole. The hooks check for a NULL only then. */
extern bool hmo_pool_may_give_back;

/* Whether [p, p+len) touches the pool's memory at all. */
static inline bool hmo_pool_overlaps(const void *p, size_t len)
{
	size_t size = __atomic_load_n(&hmo_pool_size, __ATOMIC_ACQUIRE);
	uintptr_t base = __atomic_load_n(&hmo_pool_base, __ATOMIC_RELAXED), a = (uintptr_t)p;

	if (!(size && a < base + size && a + len > base && a + len >= a))
		return false;
	return !__atomic_load_n(&hmo_pool_partial, __ATOMIC_ACQUIRE) || pool_overlaps_kept(p, len);
}

/* The pool's memory as address ranges, lowest first: the reserved range, or the
 * parts kept after pool_give_back. Returns how many (at most `max`). */
int pool_ranges(uintptr_t lo[], uintptr_t hi[], int max);
/* Under RLIMIT_AS, when the program's own allocator or mmap ran out of address
 * space for `need` bytes (0: the limit was lowered): the part of the reserved range
 * no frame ever used goes back to the kernel, and the pool serves from what it has
 * mapped. Only where that makes room for `need`. True when the caller should try
 * again. */
bool pool_give_back(size_t need);
/* The process changed its RLIMIT_AS or RLIMIT_DATA (setrlimit, prlimit): the pool
 * reads them again before its next frame. */
void pool_rlimits_changed(void);


/* What serving a block did, for the caller's trace event: outcome and backing
 * (trace.h's enum hmo_outcome and enum hmo_backing) and the node of its set (-1
 * with one set). */
struct pool_last {
	uint8_t outcome, backing;
	int8_t node;
};

/* A block of `size` bytes aligned to `align` (a power of two, or 0), zeroed when
 * `zero`. NULL when the pool cannot serve it (not set up, range exhausted): the
 * caller then forwards to the next allocator and the pool counts a fallback.
 * `last` (may be NULL) says how it was served, or HMO_OUT_FALLBACK. */
void *pool_alloc(size_t size, size_t align, bool zero, struct pool_last *last);
/* The same, from the backings `want` allows: hmo_alloc's backing flags. */
enum pool_want { POOL_ANY, POOL_HUGETLB_ONLY, POOL_NO_HUGETLB };
void *pool_alloc_from(size_t size, size_t align, bool zero, enum pool_want want, struct pool_last *last);
/* pool_free and pool_realloc abort with one hmo: line when p is not a live block
 * (double free, a pointer inside a block, a block realloc moved); pool_check_live
 * makes the same check for `fn` before a caller reads the block. */
void pool_free(void *p);
void pool_check_live(const char *fn, const void *p);
/* Gives [p, p+len), a block hmo_alloc bound to a node, its backing's placement back
 * (HMO_NUMA's plan, or first touch), so that the memory is not bound when the pool
 * hands it out again, and the kernel can merge the mapping again. */
void pool_restore_placement(void *p, size_t len);
size_t pool_usable_size(const void *p);
/* realloc of a pool block to `size` (at least the threshold), in place where
 * jemalloc can. NULL with the block untouched on failure. */
void *pool_realloc(void *p, size_t size, struct pool_last *last);
/* fn hears of the pool's choice of pages, once, when the pool starts (hmo_init
 * passes the trace writer's hmo_trace_pool: the pool knows nothing of the trace). */
void pool_on_pages_chosen(void (*fn)(const struct hmo_rec_pool *));

struct pool_stats {
	uint64_t allocs, reused, fallbacks;
	uint64_t frees, live_blocks;		/* frames given back, and those not yet */
	uint64_t served_bytes, freed_bytes;	/* usable bytes of the frames served, and given back */
	uint64_t extents, extent_bytes, hugetlb_bytes, thp_bytes, small_page_bytes, hugetlb_refused;
	uint64_t live_bytes, peak_live_bytes, reused_bytes, purged_bytes, cap_purges;
	uint64_t pressure_purges, trim_purges;	/* released near the memory limit, on malloc_trim */
	uint64_t mem_limit;	/* the cgroup's memory limit, 0 without one below RAM */
	uint64_t given_back_bytes;	/* address space returned under RLIMIT_AS */
	/* the pages chosen for fresh frames and the evidence (fresh.h); why is 0 until
	 * the pool starts */
	struct hmo_rec_pool pages;
	uint64_t rlimit_refusals;	/* frames refused as glibc would be under RLIMIT_AS/DATA */
	uint64_t placed_bytes, place_failures;
	int numa_mpol;		/* the mbind policy of HMO_NUMA, 0 for first touch */
	uint64_t numa_mask;
	int nsets;		/* sets of arenas: one per node under local placement */
	size_t hugetlb_page;	/* 0 when hugetlb pages are not used */
};
void pool_get_stats(struct pool_stats *out);
/* Whether a frame-sized mapping of the program's own should get huge-page advice
 * (HMO_MMAP=advise): when the pool's pages for fresh frames are THP, as
 * HMO_HUGEPAGES=auto chooses them (fresh.h) or an explicit value says. */
bool pool_advise_thp(void);
/* Free memory the pool holds resident for reuse (jemalloc's dirty pages). */
uint64_t pool_cached_bytes(void);

/* Where the pool's memory is resident now, by NUMA node, from move_pages on pages
 * sampled evenly over every extent mapped so far (at most 1024 per backing): each
 * resident sample stands for its share of the bytes. `bytes` has 64 entries.
 * Returns the number of samples taken; 0 when the pool never started. Uses no
 * malloc: it runs in the exit summary. */
int pool_residency(uint64_t bytes[64]);
/* The backing of a pool block (trace.h's enum hmo_backing). */
int pool_backing_of(const void *p);

/* Sets hmo_pool_threshold from the options; the pool itself starts on first use. */
void pool_configure(void);
/* Reads the cgroup's memory limit, before the options (HMO_POOL_MAX's percentage is
 * of it): returns the memory the process may use, the limit or physical memory. */
uint64_t pool_read_limits(void);
/* malloc_trim: every cached frame goes back to the kernel now. True if any did. */
bool pool_trim(void);
/* In a forked child: the decay thread is the parent's; a new one starts on demand. */
void pool_atfork_child(void);

#pragma GCC visibility pop

#endif
