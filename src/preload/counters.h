/* counters.h: the per-thread counters of the hooked calls (counters.c), and each
 * thread's state: its slot and its guard.
 *
 * Counting takes no lock and no atomic read-modify-write: only the owning thread
 * writes a slot; readers (the summary, hmo_stats, the trace's samples) load it. */
#ifndef HMO_PRELOAD_COUNTERS_H
#define HMO_PRELOAD_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/hist.h"
#include "../common/names.h"
#include "../common/trace.h"
#include "base.h"

#pragma GCC visibility push(hidden)

/* Whether a hook is one of the copies (memcpy, memmove, memset and their _chk forms). */
bool hmo_fn_is_copy(int fn);

/* One thread's counters. Calls are the sum of the histogram. */
struct hmo_fn_stats {
	uint64_t bytes;
	uint64_t large_calls;  /* calls of at least HMO_THRESHOLD bytes */
	uint64_t large_bytes;
	uint64_t large_ns;     /* copies only: time in the large calls that were timed, */
	uint64_t timed_bytes;  /* and their bytes (a thread's first call is not timed) */
	uint64_t hist[HMO_HIST_BUCKETS];
};

/* The large copies of every copy function together (hmo_fn_is_copy), from the sum
 * of the slots (hmo_counters_sum): what the summary and HMO_METRICS report. */
struct hmo_large_copies {
	uint64_t calls, bytes, timed_bytes, ns;
};
void hmo_large_copies(const struct hmo_fn_stats tot[FN_COUNT], struct hmo_large_copies *out);

struct hmo_tbuf;

/* Latency of the calls timed by sampling (HMO_SAMPLE, while tracing). */
struct hmo_fn_lat {
	uint64_t samples;
	uint64_t hist[HMO_HIST_BUCKETS];	/* by log2 of the duration in ns */
};

struct hmo_slot {
	uint32_t state;        /* SLOT_FREE or SLOT_USED, changed with CAS */
	uint32_t ever;         /* set once a thread has used it: only those are zeroed at fork */
	uint32_t tid;          /* the thread that holds it, or last held it */
	struct hmo_tbuf *tb;   /* its trace buffer (tracer.c), mapped on first use */
	/* Calls until the next timed one; far beyond reach when not sampling. Only the
	 * owning thread touches it. */
	uint64_t sample_left;
	struct hmo_fn_stats fn[FN_COUNT];
	struct hmo_fn_lat lat[FN_COUNT];
	/* The frame pool's counts of this thread (pool.c), kept here so that threads
	 * cycling frames share no counter; not reset at fork, as the pool is not. */
	struct hmo_pool_counts {
		uint64_t allocs, reallocs, reused, reused_bytes, served_bytes, frees, freed_bytes;
	} pool;
};

/* Each thread's state. Initial-exec TLS: reading it never calls malloc.
 * `slot` is NULL until the thread's first counted call, while the thread is inside
 * hmo (the guard), and once it is exiting; all three take the slow path. */
struct hmo_tls {
	struct hmo_slot *slot;
	struct hmo_slot *saved; /* slot while the guard is held */
	int guard;
	int exiting;
};
extern __thread struct hmo_tls hmo_tls __attribute__((tls_model("initial-exec")));

/* hmo's own work: while the guard is held, the hooks this thread reaches pass
 * straight through, uncounted. Nests. */
static inline void hmo_guard_enter(void)
{
	if (hmo_tls.guard++ == 0) {
		hmo_tls.saved = hmo_tls.slot;
		hmo_tls.slot = NULL;
	}
}

static inline void hmo_guard_leave(void)
{
	if (--hmo_tls.guard == 0)
		hmo_tls.slot = hmo_tls.saved;
}

/* Relaxed loads and stores: well-defined for the readers, and plain moves. */
#define HMO_ADD(field, v) \
	__atomic_store_n(&(field), __atomic_load_n(&(field), __ATOMIC_RELAXED) + (v), __ATOMIC_RELAXED)

/* HMO_THRESHOLD: what counts as large. UINT64_MAX until hmo is initialised. */
extern uint64_t hmo_large_threshold;

static inline void hmo_count(struct hmo_slot *s, enum hmo_fn fn, uint64_t n)
{
	struct hmo_fn_stats *f = &s->fn[fn];

	HMO_ADD(f->bytes, n);
	HMO_ADD(f->hist[hmo_hist_bucket(n)], 1);
	if (HMO_UNLIKELY(n >= hmo_large_threshold)) {
		HMO_ADD(f->large_calls, 1);
		HMO_ADD(f->large_bytes, n);
	}
}

/* A call whose size is unknown (free): counted in bucket 0, no bytes. */
static inline void hmo_count_call(struct hmo_slot *s, enum hmo_fn fn)
{
	HMO_ADD(s->fn[fn].hist[0], 1);
}

/* The slow path of counting: claims the thread's slot, or counts an exiting
 * thread's call into a shared slot. Does nothing under the guard or before hmo is
 * initialised (init.h's hmo_count_or_init initialises it first). */
void hmo_count_slow(enum hmo_fn fn, uint64_t n, bool sized);

/* HMO_SAMPLE while tracing, else UINT64_MAX: what a slot's countdown restarts from
 * (set by the trace writer). */
extern uint64_t hmo_sample_every;

/* Whether the call being made is one to time. */
static inline bool hmo_sample_now(struct hmo_slot *s)
{
	return HMO_UNLIKELY(--s->sample_left == 0);
}

/* Slots. thread_exit (may be NULL) runs first when a thread that has a slot exits. */
void hmo_counters_init(void (*thread_exit)(struct hmo_slot *));
struct hmo_slot *hmo_slot_claim(void);
/* The sum over every slot. */
void hmo_counters_sum(struct hmo_fn_stats out[FN_COUNT]);
/* Calls fn for every slot a thread has used. */
void hmo_counters_each(void (*fn)(struct hmo_slot *, void *), void *arg);
/* In a forked child: counts start again from zero, other threads' slots are free. */
void hmo_counters_child(void);

#pragma GCC visibility pop

#endif
