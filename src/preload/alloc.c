/* alloc.c: the malloc family.
 *
 * Each hook counts the call in the thread's slot and forwards to the next definition.
 * The hot path is one TLS load, a few relaxed adds and a tail call. Everything else
 * (first call of a thread, hmo not yet initialised, hmo's own calls under the guard,
 * an exiting thread) goes through slow_route, from cold functions kept out of line
 * so that the hot path keeps its arguments in registers.
 *
 * Pointers are classified only by address: a block of the bootstrap arena is
 * recognised by its range, and any other pointer goes to the next free untouched. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

#define COLD __attribute__((noinline, cold))

/* What the slow path of an allocation hook decides. */
enum route { ROUTE_REAL, ROUTE_BOOTSTRAP };

/* Slow path shared by every hook: counts where it can, and says whether hmo_real can
 * be used yet. Under the guard (hmo's own calls) nothing is counted. */
static COLD enum route slow_route(enum hmo_fn fn, uint64_t n, bool sized)
{
	if (!hmo_tls.guard && !hmo_ready())
		hmo_init();
	/* dlsym inside init, or another thread's init in progress. Waiting for that
	 * thread could deadlock (it may need the loader lock this thread holds), so the
	 * request is served from the bootstrap arena instead. */
	if (!hmo_ready())
		return ROUTE_BOOTSTRAP;
	hmo_count_slow(fn, n, sized);
	return ROUTE_REAL;
}

/* Counts a call and says whether hmo_real can be used: the whole of the entry
 * points that are not hot enough for a path of their own. */
static inline bool counted(enum hmo_fn fn, uint64_t n, bool sized)
{
	struct hmo_slot *s = hmo_tls.slot;

	if (HMO_LIKELY(s != NULL)) {
		if (sized)
			hmo_count(s, fn, n);
		else
			hmo_count_call(s, fn);
		return true;
	}
	return slow_route(fn, n, sized) == ROUTE_REAL;
}

static bool mul_overflows(size_t a, size_t b, size_t *out)
{
	return __builtin_mul_overflow(a, b, out);
}

static COLD void *malloc_slow(size_t n)
{
	if (slow_route(FN_MALLOC, n, true) == ROUTE_REAL)
		return hmo_real.malloc(n);
	return hmo_bootstrap_alloc(n, 16);
}

HMO_EXPORT void *malloc(size_t n)
{
	struct hmo_slot *s = hmo_tls.slot;

	if (HMO_UNLIKELY(!s))
		return malloc_slow(n);
	hmo_count(s, FN_MALLOC, n);
	return hmo_real.malloc(n);
}

HMO_EXPORT void *calloc(size_t nmemb, size_t size)
{
	size_t n;

	/* Count the product, as the request's size; an overflowing one is counted as the
	 * largest size and still handed to the next calloc for its errno. */
	if (mul_overflows(nmemb, size, &n))
		n = SIZE_MAX;
	struct hmo_slot *s = hmo_tls.slot;
	if (HMO_LIKELY(s != NULL)) {
		hmo_count(s, FN_CALLOC, n);
		return hmo_real.calloc(nmemb, size);
	}
	if (slow_route(FN_CALLOC, n, true) == ROUTE_REAL)
		return hmo_real.calloc(nmemb, size);
	if (n == SIZE_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	return hmo_bootstrap_alloc(n, 16);	/* arena memory is zero */
}

/* realloc of a bootstrap block: move it to the next allocator (or a new bootstrap
 * block while that is not known), leaving the old block where it is. */
static void *realloc_from_bootstrap(void *p, size_t n, bool real)
{
	size_t old = hmo_bootstrap_usable(p);
	void *q;

	if (n == 0 && real)
		return NULL;	/* glibc frees and returns NULL; a bootstrap block needs no free */
	q = real ? hmo_real.malloc(n) : hmo_bootstrap_alloc(n, 16);
	if (q)
		hmo_raw_memmove(q, p, old < n ? old : n);
	return q;
}

static COLD void *realloc_slow(void *p, size_t n)
{
	bool real = slow_route(FN_REALLOC, n, true) == ROUTE_REAL;

	if (hmo_bootstrap_owns(p))
		return realloc_from_bootstrap(p, n, real);
	if (real)
		return hmo_real.realloc(p, n);
	if (p == NULL)
		return hmo_bootstrap_alloc(n, 16);
	/* A block of the next allocator before hmo knows its realloc: cannot happen,
	 * since hmo resolves realloc before anything is handed out through it. */
	errno = ENOMEM;
	return NULL;
}

HMO_EXPORT void *realloc(void *p, size_t n)
{
	struct hmo_slot *s = hmo_tls.slot;

	if (HMO_UNLIKELY(!s || hmo_bootstrap_owns(p)))
		return realloc_slow(p, n);
	hmo_count(s, FN_REALLOC, n);
	return hmo_real.realloc(p, n);
}

HMO_EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t n;

	if (mul_overflows(nmemb, size, &n))
		n = SIZE_MAX;
	struct hmo_slot *s = hmo_tls.slot;
	bool real = true;
	if (HMO_LIKELY(s != NULL))
		hmo_count(s, FN_REALLOCARRAY, n);
	else
		real = slow_route(FN_REALLOCARRAY, n, true) == ROUTE_REAL;
	if (n == SIZE_MAX && !real) {
		errno = ENOMEM;
		return NULL;
	}
	if (HMO_UNLIKELY(hmo_bootstrap_owns(p))) {
		if (n == SIZE_MAX) {
			errno = ENOMEM;
			return NULL;
		}
		return realloc_from_bootstrap(p, n, real);
	}
	if (HMO_LIKELY(real)) {
		if (hmo_real.reallocarray)
			return hmo_real.reallocarray(p, nmemb, size);
		if (n == SIZE_MAX) {
			errno = ENOMEM;
			return NULL;
		}
		return hmo_real.realloc(p, n);
	}
	return p ? NULL : hmo_bootstrap_alloc(n, 16);
}

static COLD void free_slow(void *p)
{
	if (hmo_bootstrap_owns(p))
		return;
	if (slow_route(FN_FREE, 0, false) == ROUTE_REAL)
		hmo_real.free(p);
	/* else: only bootstrap blocks exist yet, and p is not one (it is NULL) */
}

HMO_EXPORT void free(void *p)
{
	struct hmo_slot *s = hmo_tls.slot;

	if (HMO_UNLIKELY(!s || hmo_bootstrap_owns(p)))
		return free_slow(p);
	hmo_count_call(s, FN_FREE);
	hmo_real.free(p);
}

#if defined(HAVE_FREE_SIZED)
HMO_EXPORT void free_sized(void *p, size_t n)
{
	if (HMO_UNLIKELY(hmo_bootstrap_owns(p)))
		return;
	if (counted(FN_FREE_SIZED, n, true)) {
		if (hmo_real.free_sized)
			hmo_real.free_sized(p, n);
		else
			hmo_real.free(p);
	}
}
#endif

#if defined(HAVE_FREE_ALIGNED_SIZED)
HMO_EXPORT void free_aligned_sized(void *p, size_t align, size_t n)
{
	if (HMO_UNLIKELY(hmo_bootstrap_owns(p)))
		return;
	if (counted(FN_FREE_ALIGNED_SIZED, n, true)) {
		if (hmo_real.free_aligned_sized)
			hmo_real.free_aligned_sized(p, align, n);
		else
			hmo_real.free(p);
	}
}
#endif

HMO_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	if (counted(FN_POSIX_MEMALIGN, n, true))
		return hmo_real.posix_memalign(out, align, n);
	if (align % sizeof(void *) != 0 || (align & (align - 1)) != 0)
		return EINVAL;
	int saved = errno;
	void *p = hmo_bootstrap_alloc(n, align);
	errno = saved;	/* posix_memalign reports through its result, not errno */
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

HMO_EXPORT void *aligned_alloc(size_t align, size_t n)
{
	if (counted(FN_ALIGNED_ALLOC, n, true))
		return hmo_real.aligned_alloc(align, n);
	return hmo_bootstrap_alloc(n, align);
}

HMO_EXPORT void *memalign(size_t align, size_t n)
{
	if (counted(FN_MEMALIGN, n, true))
		return hmo_real.memalign(align, n);
	return hmo_bootstrap_alloc(n, align);
}

HMO_EXPORT void *valloc(size_t n)
{
	if (counted(FN_VALLOC, n, true))
		return hmo_real.valloc(n);
	return hmo_bootstrap_alloc(n, 4096);
}

HMO_EXPORT void *pvalloc(size_t n)
{
	if (counted(FN_PVALLOC, n, true)) {
		if (hmo_real.pvalloc)
			return hmo_real.pvalloc(n);
		/* glibc >= 2.39 keeps pvalloc only for old binaries: do what it did. */
		size_t page = (size_t)sysconf(_SC_PAGESIZE), r;
		if (__builtin_add_overflow(n, page - 1, &r)) {
			errno = ENOMEM;
			return NULL;
		}
		r &= ~(page - 1);
		return hmo_real.memalign(page, r ? r : page);
	}
	return hmo_bootstrap_alloc((n + 4095) & ~(size_t)4095, 4096);
}

HMO_EXPORT size_t malloc_usable_size(void *p)
{
	if (HMO_UNLIKELY(hmo_bootstrap_owns(p)))
		return hmo_bootstrap_usable(p);
	if (counted(FN_MALLOC_USABLE_SIZE, 0, false))
		return hmo_real.malloc_usable_size(p);
	return 0;
}
