/* alloc.c: the malloc family.
 *
 * Each hook counts the call in the thread's slot, then either serves a frame (a
 * request of at least HMO_THRESHOLD bytes) from the frame pool or forwards to the
 * next definition. The hot path is one TLS load, a few relaxed adds, a compare and
 * a tail call. Everything else (first call of a thread, hmo not yet initialised,
 * hmo's own calls under the guard, an exiting thread) goes through hmo_count_or_init, from
 * cold functions kept out of line so the hot path keeps its arguments in registers.
 *
 * Pointers are classified only by address: the bootstrap arena and the pool's range
 * (the parts it kept, once it gave some back) are hmo's; any other pointer goes to
 * the next free, realloc or malloc_usable_size untouched. */
#include <errno.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <unistd.h>

#include "base.h"
#include "bootstrap.h"
#include "counters.h"
#include "init.h"
#include "os.h"
#include "process.h"
#include "real.h"
#include "tracer.h"
#include "pool.h"

#define COLD __attribute__((noinline, cold))

/* Whether a request goes to the pool. Never under the guard: what jemalloc or hmo
 * itself allocates goes to the next allocator. */
static inline bool is_frame(size_t n)
{
	return HMO_UNLIKELY(n >= hmo_pool_threshold) && !hmo_tls.guard;
}

/* For the fast paths: the range only. After pool_give_back a block of the next
 * allocator's may lie in the range's holes; it takes the slow path, where
 * is_ours decides. */
static inline bool maybe_ours(const void *p)
{
	return HMO_UNLIKELY(hmo_bootstrap_owns(p) || hmo_pool_in_range(p));
}

static inline bool is_ours(const void *p)
{
	return hmo_bootstrap_owns(p) || hmo_pool_owns(p);
}

/* A frame from the pool, or from the next allocator when the pool cannot serve
 * (the pool counts that fallback). */
static COLD void *frame_alloc(size_t n, size_t align, bool zero, struct pool_last *last)
{
	void *p = pool_alloc(n, align, zero, last);

	if (p)
		return p;
	for (int tries = 0;; tries++) {
		if (zero)
			p = hmo_real.calloc(1, n);
		else
			p = align > 16 ? hmo_real.memalign(align, n) : hmo_real.malloc(n);
		if (p || tries || !pool_give_back(n))
			return p;
	}
}

/* The next allocator ran out: under RLIMIT_AS, the pool's unused address space may
 * be what it lacks. True when some was given back, and the call is worth a retry. */
static COLD bool out_of_memory(size_t n)
{
	int saved_errno = errno;
	bool again = n && n != SIZE_MAX && pool_give_back(n);

	errno = saved_errno;
	return again;
}

static COLD void *malloc_retry(size_t n)
{
	void *p = hmo_real.malloc(n);

	if (!p && out_of_memory(n))
		p = hmo_real.malloc(n);
	return p;
}

static COLD void *realloc_retry(void *p, size_t n)
{
	void *q = hmo_real.realloc(p, n);

	if (!q && __atomic_load_n(&hmo_pool_may_give_back, __ATOMIC_RELAXED) && out_of_memory(n))
		q = hmo_real.realloc(p, n);
	return q;
}

/* ---- tracing (HMO_TRACE): cold, out of line -------------------------------- */

/* last: what the pool said of p, when the pool served it. */
static COLD void trace_block(enum hmo_fn fn, uint64_t t0, size_t n, const void *p, const void *old,
			     const struct pool_last *last)
{
	struct pool_last l = { HMO_OUT_NONE, HMO_BACK_NONE, -1 };

	if (hmo_tls.guard)
		return;
	if (!p)
		l.outcome = n ? HMO_OUT_FAILED : HMO_OUT_NONE;	/* realloc(p, 0) frees */
	else if (hmo_pool_owns(p) && last)
		l = *last;
	else if (hmo_opt.pool && n >= hmo_pool_threshold)
		l.outcome = HMO_OUT_FALLBACK;
	hmo_trace_event(fn, t0, n, p, old, l.outcome, l.backing, l.node);
}

/* A frame for fn, with its trace event. With HMO_POOL=off the pool is skipped; the
 * frame is only routed here so that tracing sees it. */
static COLD void *frame_alloc_fn(enum hmo_fn fn, size_t n, size_t align, bool zero)
{
	uint64_t t0 = hmo_trace_t0();
	struct pool_last last = { HMO_OUT_NONE, HMO_BACK_NONE, -1 };
	void *p;

	if (HMO_LIKELY(hmo_opt.pool))
		p = frame_alloc(n, align, zero, &last);
	else if (zero)
		p = hmo_real.calloc(1, n);
	else
		p = align > 16 ? hmo_real.memalign(align, n) : hmo_real.malloc(n);
	if (HMO_UNLIKELY(hmo_tracing))
		trace_block(fn, t0, n, p, NULL, &last);
	return p;
}

/* A pool block going back, with its trace event. */
static COLD void pool_free_fn(enum hmo_fn fn, void *p)
{
	uint64_t t0 = hmo_trace_t0();
	size_t n = 0;

	if (HMO_UNLIKELY(hmo_tracing)) {
		pool_check_live("free", p);
		n = pool_usable_size(p);
	}
	pool_free(p);
	if (HMO_UNLIKELY(hmo_tracing) && !hmo_tls.guard)
		hmo_trace_event(fn, t0, n, p, NULL, HMO_OUT_NONE, HMO_BACK_NONE, -1);
}

static bool valid_align(size_t a)
{
	return a && (a & (a - 1)) == 0;
}

static COLD void *malloc_slow(size_t n)
{
	if (!hmo_count_or_init(FN_MALLOC, n, true))
		return hmo_bootstrap_alloc(n, 16);
	return is_frame(n) ? frame_alloc_fn(FN_MALLOC, n, 0, false) : hmo_real.malloc(n);
}

/* Calls timed for their latency (HMO_SAMPLE while tracing): one in many. */
static COLD void *malloc_timed(struct hmo_slot *s, size_t n)
{
	uint64_t t0 = os_now_ns();
	void *p = hmo_real.malloc(n);

	hmo_lat_note(s, FN_MALLOC, t0);
	return p;
}

static COLD void free_timed(struct hmo_slot *s, void *p)
{
	uint64_t t0 = os_now_ns();

	hmo_real.free(p);
	hmo_lat_note(s, FN_FREE, t0);
}

static COLD void *realloc_timed(struct hmo_slot *s, void *p, size_t n)
{
	uint64_t t0 = os_now_ns();
	void *q = hmo_real.realloc(p, n);

	hmo_lat_note(s, FN_REALLOC, t0);
	return q;
}

static COLD void *calloc_timed(struct hmo_slot *s, size_t nmemb, size_t size)
{
	uint64_t t0 = os_now_ns();
	void *p = hmo_real.calloc(nmemb, size);

	hmo_lat_note(s, FN_CALLOC, t0);
	return p;
}

HMO_EXPORT void *malloc(size_t n)
{
	struct hmo_slot *s = hmo_tls.slot;

	if (HMO_UNLIKELY(!s))
		return malloc_slow(n);
	hmo_count(s, FN_MALLOC, n);
	if (HMO_UNLIKELY(n >= hmo_pool_threshold))
		return frame_alloc_fn(FN_MALLOC, n, 0, false);
	if (hmo_sample_now(s))
		return malloc_timed(s, n);
	if (HMO_UNLIKELY(__atomic_load_n(&hmo_pool_may_give_back, __ATOMIC_RELAXED)))
		return malloc_retry(n);
	return hmo_real.malloc(n);
}

HMO_EXPORT void *calloc(size_t nmemb, size_t size)
{
	size_t n;

	/* Count the product, as the request's size; an overflowing one is counted as the
	 * largest size and still handed to the next calloc for its errno. */
	bool overflow = __builtin_mul_overflow(nmemb, size, &n);
	if (overflow)
		n = SIZE_MAX;
	if (!hmo_counted(FN_CALLOC, n, true)) {
		if (overflow) {
			errno = ENOMEM;
			return NULL;
		}
		return hmo_bootstrap_alloc(n, 16);	/* arena memory is zero */
	}
	if (!overflow && is_frame(n))
		return frame_alloc_fn(FN_CALLOC, n, 0, true);
	struct hmo_slot *s = hmo_tls.slot;
	if (s && hmo_sample_now(s))
		return calloc_timed(s, nmemb, size);
	void *p = hmo_real.calloc(nmemb, size);
	if (HMO_UNLIKELY(!p && __atomic_load_n(&hmo_pool_may_give_back, __ATOMIC_RELAXED)) && out_of_memory(n))
		p = hmo_real.calloc(nmemb, size);
	return p;
}

/* realloc of a block hmo owns, or across the threshold. Keeps glibc's rules:
 * realloc(p, 0) frees p and returns NULL; a failed realloc leaves p as it was. */
/* A new block of n bytes from wherever it belongs now. */
static void *new_block(size_t n, bool real, struct pool_last *last)
{
	if (!real)
		return hmo_bootstrap_alloc(n, 16);
	return is_frame(n) && hmo_opt.pool ? frame_alloc(n, 0, false, last) : hmo_real.malloc(n);
}

static void *realloc_move(void *p, size_t n, bool real, struct pool_last *last)
{
	size_t old;
	void *q;

	if (p == NULL)
		return new_block(n, real, last);
	if (hmo_pool_owns(p)) {
		if (n == 0) {
			pool_free(p);
			return NULL;
		}
		if (is_frame(n) && (q = pool_realloc(p, n, last)) != NULL)
			return q;	/* grown or shrunk inside the pool, in place where it could */
		pool_check_live("realloc", p);
		old = pool_usable_size(p);
	} else if (hmo_bootstrap_owns(p)) {
		if (n == 0 && real)
			return NULL;	/* a bootstrap block needs no free */
		old = hmo_bootstrap_usable(p);
	} else {
		/* the next allocator's block growing into a frame */
		old = hmo_real.malloc_usable_size(p);
	}
	q = new_block(n, real, last);
	if (!q)
		return NULL;
	os_memmove(q, p, old < n ? old : n);
	if (hmo_pool_owns(p))
		pool_free(p);
	else if (!hmo_bootstrap_owns(p))
		hmo_real.free(p);
	return q;
}

/* realloc_move for fn, with its trace event (only once hmo_real is known). */
static COLD void *realloc_move_fn(enum hmo_fn fn, void *p, size_t n, bool real)
{
	uint64_t t0 = hmo_trace_t0();
	struct pool_last last = { HMO_OUT_NONE, HMO_BACK_NONE, -1 };
	void *q = realloc_move(p, n, real, &last);

	if (HMO_UNLIKELY(hmo_tracing) && real)
		trace_block(fn, t0, n, q, p, &last);
	return q;
}

static COLD void *realloc_slow(void *p, size_t n)
{
	bool real = hmo_count_or_init(FN_REALLOC, n, true);

	if (!real && p && !is_ours(p)) {
		/* The next allocator's block before hmo knows its realloc: cannot happen,
		 * since nothing is handed out through it before then. Refuse, never guess. */
		errno = ENOMEM;
		return NULL;
	}
	if (real && !hmo_opt.pool && !is_ours(p)) {
		/* Routed here only for the trace. */
		uint64_t t0 = hmo_trace_t0();
		void *q = hmo_real.realloc(p, n);
		if (HMO_UNLIKELY(hmo_tracing) && (q || n))
			trace_block(FN_REALLOC, t0, n, q, p, NULL);
		return q;
	}
	if (is_ours(p) || !real || is_frame(n))
		return realloc_move_fn(FN_REALLOC, p, n, real);
	return realloc_retry(p, n);
}

HMO_EXPORT void *realloc(void *p, size_t n)
{
	struct hmo_slot *s = hmo_tls.slot;

	if (HMO_UNLIKELY(!s || maybe_ours(p) || n >= hmo_pool_threshold))
		return realloc_slow(p, n);
	hmo_count(s, FN_REALLOC, n);
	if (hmo_sample_now(s))
		return realloc_timed(s, p, n);
	if (HMO_UNLIKELY(__atomic_load_n(&hmo_pool_may_give_back, __ATOMIC_RELAXED)))
		return realloc_retry(p, n);
	return hmo_real.realloc(p, n);
}

HMO_EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t n;
	bool overflow = __builtin_mul_overflow(nmemb, size, &n);
	bool real = hmo_counted(FN_REALLOCARRAY, overflow ? SIZE_MAX : n, true);

	if (overflow) {
		errno = ENOMEM;
		return NULL;
	}
	if (!real || is_ours(p) || (is_frame(n) && hmo_opt.pool))
		return realloc_move_fn(FN_REALLOCARRAY, p, n, real);
	return hmo_real.reallocarray ? hmo_real.reallocarray(p, nmemb, size) : hmo_real.realloc(p, n);
}

static COLD void free_slow(void *p)
{
	if (hmo_bootstrap_owns(p))
		return;
	if (!hmo_count_or_init(FN_FREE, 0, false))
		return;	/* only bootstrap blocks exist yet, and p is not one (it is NULL) */
	if (hmo_pool_owns(p))
		pool_free_fn(FN_FREE, p);
	else
		hmo_real.free(p);
}

HMO_EXPORT void free(void *p)
{
	struct hmo_slot *s = hmo_tls.slot;

	if (HMO_UNLIKELY(!s || maybe_ours(p)))
		return free_slow(p);
	hmo_count_call(s, FN_FREE);
	if (hmo_sample_now(s))
		return free_timed(s, p);
	hmo_real.free(p);
}

#if defined(HAVE_FREE_SIZED)
HMO_EXPORT void free_sized(void *p, size_t n)
{
	if (hmo_bootstrap_owns(p) || !hmo_counted(FN_FREE_SIZED, n, true))
		return;
	if (hmo_pool_owns(p))
		pool_free_fn(FN_FREE_SIZED, p);
	else if (hmo_real.free_sized)
		hmo_real.free_sized(p, n);
	else
		hmo_real.free(p);
}
#endif

#if defined(HAVE_FREE_ALIGNED_SIZED)
HMO_EXPORT void free_aligned_sized(void *p, size_t align, size_t n)
{
	if (hmo_bootstrap_owns(p) || !hmo_counted(FN_FREE_ALIGNED_SIZED, n, true))
		return;
	if (hmo_pool_owns(p))
		pool_free_fn(FN_FREE_ALIGNED_SIZED, p);
	else if (hmo_real.free_aligned_sized)
		hmo_real.free_aligned_sized(p, align, n);
	else
		hmo_real.free(p);
}
#endif

HMO_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	bool ok = align % sizeof(void *) == 0 && valid_align(align);

	if (hmo_counted(FN_POSIX_MEMALIGN, n, true)) {
		if (ok && is_frame(n)) {
			int saved = errno;
			void *p = frame_alloc_fn(FN_POSIX_MEMALIGN, n, align, false);
			errno = saved;	/* reported through the result, not errno */
			if (!p)
				return ENOMEM;
			*out = p;
			return 0;
		}
		return hmo_real.posix_memalign(out, align, n);
	}
	if (!ok)
		return EINVAL;
	int saved = errno;
	void *p = hmo_bootstrap_alloc(n, align);
	errno = saved;
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

HMO_EXPORT void *aligned_alloc(size_t align, size_t n)
{
	if (!hmo_counted(FN_ALIGNED_ALLOC, n, true))
		return hmo_bootstrap_alloc(n, align);
	if (valid_align(align) && is_frame(n))
		return frame_alloc_fn(FN_ALIGNED_ALLOC, n, align, false);
	return hmo_real.aligned_alloc(align, n);
}

HMO_EXPORT void *memalign(size_t align, size_t n)
{
	if (!hmo_counted(FN_MEMALIGN, n, true))
		return hmo_bootstrap_alloc(n, align);
	if (valid_align(align) && is_frame(n))
		return frame_alloc_fn(FN_MEMALIGN, n, align, false);
	return hmo_real.memalign(align, n);
}

HMO_EXPORT void *valloc(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (!hmo_counted(FN_VALLOC, n, true))
		return hmo_bootstrap_alloc(n, 4096);
	if (is_frame(n))
		return frame_alloc_fn(FN_VALLOC, n, page, false);
	return hmo_real.valloc(n);
}

HMO_EXPORT void *pvalloc(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), r;

	if (!hmo_counted(FN_PVALLOC, n, true))
		return hmo_bootstrap_alloc((n + 4095) & ~(size_t)4095, 4096);
	if (__builtin_add_overflow(n, page - 1, &r)) {
		errno = ENOMEM;
		return NULL;
	}
	r &= ~(page - 1);
	if (is_frame(r))
		return frame_alloc_fn(FN_PVALLOC, r, page, false);
	if (hmo_real.pvalloc)
		return hmo_real.pvalloc(n);
	/* glibc >= 2.39 keeps pvalloc only for old binaries: do what it did. */
	return hmo_real.memalign(page, r ? r : page);
}

HMO_EXPORT size_t malloc_usable_size(void *p)
{
	if (HMO_UNLIKELY(hmo_bootstrap_owns(p)))
		return hmo_bootstrap_usable(p);
	if (!hmo_counted(FN_MALLOC_USABLE_SIZE, 0, false))
		return 0;
	if (hmo_pool_owns(p))
		return pool_usable_size(p);
	return hmo_real.malloc_usable_size(p);
}

/* Releases the pool's cached frames too: a program that trims expects its free
 * memory back now, not after HMO_POOL_DECAY. Not counted: no trace call exists for it. */
HMO_EXPORT int malloc_trim(size_t pad)
{
	int released;

	if (!hmo_ready()) {
		hmo_init();
		if (!hmo_ready())
			return 0;
	}
	released = pool_trim();
	if (hmo_real.malloc_trim)
		released |= hmo_real.malloc_trim(pad);
	return released;
}

/* ---- resource limits: the pool enforces RLIMIT_AS and RLIMIT_DATA as the kernel
 * would for glibc (pool.c), from values it reads again when they change here. The
 * calls are made as glibc makes them, with prlimit64. */

static int set_limit(pid_t pid, int resource, const void *new, void *old)
{
	long rc = syscall(SYS_prlimit64, pid, resource, new, old);

	if (new && (pid == 0 || pid == getpid())) {
		pool_rlimits_changed();
		/* A limit lowered below what the reservation takes would fail the stack's
		 * growth, threads and dlopen, which never reach hmo's hooks: the unused
		 * reservation goes back now. */
		if (rc == 0 && resource == RLIMIT_AS)
			(void)pool_give_back(0);
	}
	return (int)rc;
}

HMO_EXPORT int setrlimit(__rlimit_resource_t resource, const struct rlimit *rl)
{
	return set_limit(0, (int)resource, rl, NULL);
}

HMO_EXPORT int setrlimit64(__rlimit_resource_t resource, const struct rlimit64 *rl)
{
	return set_limit(0, (int)resource, rl, NULL);
}

HMO_EXPORT int prlimit(pid_t pid, __rlimit_resource_t resource, const struct rlimit *new, struct rlimit *old)
{
	return set_limit(pid, (int)resource, new, old);
}

HMO_EXPORT int prlimit64(pid_t pid, __rlimit_resource_t resource, const struct rlimit64 *new,
			 struct rlimit64 *old)
{
	return set_limit(pid, (int)resource, new, old);
}
