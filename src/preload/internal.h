/* internal.h: what the files of libhmo.so share.
 *
 * Rules for everything under src/preload: no malloc, no stdio
 * and no dlsym on a hook's hot path; hmo's own work runs under the thread's guard so
 * that the calls it makes pass straight through; errno is left as libc leaves it. */
#ifndef HMO_PRELOAD_INTERNAL_H
#define HMO_PRELOAD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Everything declared from here on is internal to libhmo.so: hidden, so that the
 * hooks reach it directly rather than through the GOT. */
#pragma GCC visibility push(hidden)

#include "../common/fmt.h"
#include "../common/hist.h"
#include "../common/names.h"
#include "../common/options.h"
#include "../common/trace.h"

#define HMO_EXPORT __attribute__((visibility("default")))
#define HMO_LIKELY(x) __builtin_expect(!!(x), 1)
#define HMO_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- the functions hmo counts (stats.c) ---------------------------------- */

/* Whether a function's byte column means anything (free does not know its size). */
extern const bool hmo_fn_has_bytes[FN_COUNT];

/* One thread's counters. Calls are the sum of the histogram. */
struct hmo_fn_stats {
	uint64_t bytes;
	uint64_t large_calls;  /* calls of at least HMO_THRESHOLD bytes */
	uint64_t large_bytes;
	uint64_t large_ns;     /* copies only: time in the large calls that were timed, */
	uint64_t timed_bytes;  /* and their bytes (a thread's first call is not timed) */
	uint64_t hist[HMO_HIST_BUCKETS];
};

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
	struct hmo_tbuf *tb;   /* its trace buffer (trace.c), mapped on first use */
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

/* Counting with no locks and no atomic read-modify-write: only the owning thread
 * writes a slot; the exit summary reads it. Relaxed loads and stores make that
 * well-defined and compile to plain moves. */
#define HMO_ADD(field, v) \
	__atomic_store_n(&(field), __atomic_load_n(&(field), __ATOMIC_RELAXED) + (v), __ATOMIC_RELAXED)

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

/* The slow path of counting: claims the thread's slot (initialising hmo first if
 * needed), or counts an exiting thread's call into a shared slot. Does nothing
 * under the guard. */
void hmo_count_slow(enum hmo_fn fn, uint64_t n, bool sized);

/* The slow path of a hook that may start hmo: initialises hmo if nothing has (and
 * this is not hmo's own call), counts where it can, and says whether hmo_real can
 * be used yet. false: dlsym inside init, or another thread's init in progress;
 * waiting for that thread could deadlock (it may need the loader lock this thread
 * holds), so the caller serves the request without hmo_real. */
bool hmo_count_or_init(enum hmo_fn fn, uint64_t n, bool sized);

/* Counts a call and says whether hmo_real can be used: the hot path of the hooks
 * that have no path of their own. */
static inline bool hmo_counted(enum hmo_fn fn, uint64_t n, bool sized)
{
	struct hmo_slot *s = hmo_tls.slot;

	if (__builtin_expect(s != NULL, 1)) {
		if (sized)
			hmo_count(s, fn, n);
		else
			hmo_count_call(s, fn);
		return true;
	}
	return hmo_count_or_init(fn, n, sized);
}

/* Slots (stats.c). */
struct hmo_slot *hmo_slot_claim(void);
void hmo_stats_sum(struct hmo_fn_stats out[FN_COUNT]);
void hmo_stats_reset_child(void);
void hmo_stats_init(void);
/* Writes the exit summary once per process, where HMO_STATS asks for it. Uses no
 * malloc and no stdio: it is called from destructors and from _exit. */
void hmo_summary_emit(void);
/* Calls fn for every slot a thread has used. */
void hmo_stats_each(void (*fn)(struct hmo_slot *, void *), void *arg);
/* Expands %p, %e, %t and %% of an HMO_STATS or HMO_TRACE path into b. */
void hmo_expand_path(struct fmt_buf *b, const char *pat);

/* ---- the trace (trace.c) -------------------------------------------------- */

/* Whether events are recorded, and the size from which copies are (UINT64_MAX when
 * not tracing, so the copy hooks need one compare). */
extern bool hmo_tracing;
extern uint64_t hmo_trace_copy_min;
/* The size from which a copy is timed: the smaller of HMO_THRESHOLD (large copies,
 * for their bandwidth) and hmo_trace_copy_min. UINT64_MAX until hmo is initialised.
 * hmo_copy_timing() sets it again after either changes. */
extern uint64_t hmo_copy_timed_min;
void hmo_copy_timing(void);
/* Whether a hook is one of the copies (memcpy, memmove, memset and their _chk forms). */
bool hmo_fn_is_copy(int fn);
/* hmo.h's copies (copyeng.c): calls, bytes, and the time spent copying. */
void hmo_copyeng_stats(uint64_t *calls, uint64_t *bytes, uint64_t *ns);
/* From the constructor: opens the trace file when HMO_TRACE asks for one. */
void hmo_trace_init(void);
/* The loaded objects, again: at start and after each dlopen. */
void hmo_trace_modules(void);
/* Handlers for the crash signals the program left at their default. */
void hmo_trace_signals(void);
/* One large allocation, pool free or mmap-family call that started at t0 and has
 * just returned; outcome, backing and node as in trace.h. */
void hmo_trace_event(enum hmo_fn fn, uint64_t t0, uint64_t size, const void *addr, const void *old,
		     unsigned outcome, unsigned backing, int node);
void hmo_trace_copy(enum hmo_fn fn, uint64_t t0, uint64_t size, const void *dst, const void *src);
/* A CUDA driver call (enum hmo_cu_op), with HMO_CUDA_* flags and its CUresult. */
void hmo_trace_cuda(unsigned op, uint64_t t0, uint64_t size, uint64_t ptr, unsigned flags, int result);
void hmo_trace_thread_exit(struct hmo_slot *s);
/* The frame pool's choice of pages (trace.h's HMO_REC_POOL), once when it starts. */
void hmo_trace_pool(const struct hmo_rec_pool *r);
void hmo_trace_child(void);
/* how: enum hmo_end_how. */
void hmo_trace_finish(unsigned how, int status);
/* Before exec: the buffered records out, without an end record (exec.c). */
void hmo_trace_flush(void);
/* Looks up the next exec functions (called by hmo_real_resolve, under the guard). */
void hmo_exec_resolve(void);

/* HMO_SAMPLE while tracing, else UINT64_MAX: what a slot's countdown restarts from. */
extern uint64_t hmo_sample_every;
/* Records the duration of a timed call that started at t0, and restarts the
 * countdown. */
void hmo_lat_note(struct hmo_slot *s, enum hmo_fn fn, uint64_t t0);

/* Whether the call being made is one to time. */
static inline bool hmo_sample_now(struct hmo_slot *s)
{
	return HMO_UNLIKELY(--s->sample_left == 0);
}

uint64_t hmo_now_ns(void);
static inline uint64_t hmo_trace_t0(void)
{
	return HMO_UNLIKELY(hmo_tracing) ? hmo_now_ns() : 0;
}

/* Program mmaps that got huge-page advice (mmap.c, HMO_MMAP). */
extern uint64_t hmo_mmap_advised;
/* Finds the program's allocator's object, whose mappings are not advised. hmo_init. */
void hmo_mmap_init(void);

/* ---- guard -------------------------------------------------------------- */

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

/* ---- the next definitions (real.c) -------------------------------------- */

struct hmo_real {
	void *(*malloc)(size_t);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*reallocarray)(void *, size_t, size_t);
	void (*free)(void *);
	void (*free_sized)(void *, size_t);
	void (*free_aligned_sized)(void *, size_t, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
	int (*malloc_trim)(size_t);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	void *(*mmap64)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	void *(*mremap)(void *, size_t, size_t, int, ...);
	void *(*memcpy)(void *, const void *, size_t);
	void *(*memmove)(void *, const void *, size_t);
	void *(*memset)(void *, int, size_t);
	void *(*memcpy_chk)(void *, const void *, size_t, size_t);
	void *(*memmove_chk)(void *, const void *, size_t, size_t);
	void *(*memset_chk)(void *, int, size_t, size_t);
	void (*exit_)(int) __attribute__((noreturn));
	void (*Exit_)(int) __attribute__((noreturn));
};
extern struct hmo_real hmo_real;

/* Resolves every field of hmo_real with dlsym(RTLD_NEXT). Called under the guard;
 * allocations made meanwhile come from the bootstrap arena. */
void hmo_real_resolve(void);

/* ---- initialisation (init.c) -------------------------------------------- */

/* 0: not started, 1: in progress, 2: done. */
extern int hmo_init_state;
extern struct hmo_options hmo_opt;
extern pid_t hmo_pid;
extern uint64_t hmo_start_ns;

static inline bool hmo_ready(void)
{
	return __atomic_load_n(&hmo_init_state, __ATOMIC_ACQUIRE) == 2;
}

/* Initialises hmo once: resolves the next definitions, reads the options, registers
 * the fork and thread-exit handlers. Safe to call from any hook; a call made while
 * another is in progress returns at once with hmo not ready. */
void hmo_init(void);

/* One "hmo: ..." line on stderr, with write(2). */
void hmo_warn(const char *line);
/* Whether another copy of libhmo in the process has the state (instance.h): then
 * this one is passive. Called by hmo_init. */
bool hmo_instance_attach(void);
uint64_t hmo_now_ns(void);

/* ---- bootstrap arena (bootstrap.c) -------------------------------------- */

/* Memory for the allocations made before the next malloc is known (dlsym may call
 * calloc). A bump allocator over a static array: never reused, never returned to libc.
 * hmo_bootstrap_alloc returns NULL with errno ENOMEM when full, and zeroed memory. */
void *hmo_bootstrap_alloc(size_t size, size_t align);
size_t hmo_bootstrap_usable(const void *p);
extern char hmo_bootstrap_mem[];
#define HMO_BOOTSTRAP_SIZE (256 * 1024)

static inline bool hmo_bootstrap_owns(const void *p)
{
	return (uintptr_t)p - (uintptr_t)hmo_bootstrap_mem < HMO_BOOTSTRAP_SIZE;
}

/* ---- raw helpers (copy.c), compiled so they never become calls to memcpy -- */

void *hmo_raw_memmove(void *dst, const void *src, size_t n);
void *hmo_raw_memset(void *dst, int c, size_t n);
void *hmo_raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int hmo_raw_munmap(void *addr, size_t len);
/* Points the _chk fields of hmo_real that the C library lacks at hmo's own
 * checked copies, so the hooks' fast paths need no NULL test. */
void hmo_copy_fill_missing(void);

#pragma GCC visibility pop

#endif
