/* alloc.c: the malloc family.
 *
 * Each hook counts the call in the thread's slot and forwards to the next definition.
 * The hot path is one TLS load, a few relaxed adds and a tail call. Everything else
 * (first call of a thread, hmo not yet initialised, hmo's own calls under the guard,
 * an exiting thread) goes through alloc_slow_*.
 *
 * Pointers are classified only by address: a block of the bootstrap arena is
 * recognised by its range, and any other pointer goes to the next free untouched. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

/* What the slow path of an allocation hook decides. */
enum route { ROUTE_REAL, ROUTE_BOOTSTRAP };

/* Slow path shared by every hook: counts where it can, and says whether hmo_real can
 * be used yet. Under the guard (hmo's own calls) nothing is counted. */
static enum route slow_route(enum hmo_fn fn, uint64_t n, bool sized)
{
	if (!hmo_tls.guard && !hmo_ready())
		hmo_init();
	if (!hmo_ready())
		return ROUTE_BOOTSTRAP;	/* dlsym inside init, or another thread's init */
	hmo_count_slow(fn, n, sized);
	return ROUTE_REAL;
}

#define FAST(fn, n)                                    \
	struct hmo_slot *s_ = hmo_tls.slot;            \
	bool fast_ = HMO_LIKELY(s_ != NULL);           \
	if (fast_)                                     \
		hmo_count(s_, fn, n)

#define FAST_CALL(fn)                                  \
	struct hmo_slot *s_ = hmo_tls.slot;            \
	bool fast_ = HMO_LIKELY(s_ != NULL);           \
	if (fast_)                                     \
		hmo_count_call(s_, fn)

static bool mul_overflows(size_t a, size_t b, size_t *out)
{
	return __builtin_mul_overflow(a, b, out);
}

HMO_EXPORT void *malloc(size_t n)
{
	FAST(FN_MALLOC, n);
	if (fast_ || slow_route(FN_MALLOC, n, true) == ROUTE_REAL)
		return hmo_real.malloc(n);
	return hmo_bootstrap_alloc(n, 16);
}

HMO_EXPORT void *calloc(size_t nmemb, size_t size)
{
	size_t n;

	/* Count the product, as the request's size; an overflowing one is counted as the
	 * largest size and still handed to the next calloc for its errno. */
	if (mul_overflows(nmemb, size, &n))
		n = SIZE_MAX;
	FAST(FN_CALLOC, n);
	if (fast_ || slow_route(FN_CALLOC, n, true) == ROUTE_REAL)
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

HMO_EXPORT void *realloc(void *p, size_t n)
{
	FAST(FN_REALLOC, n);
	bool real = fast_ || slow_route(FN_REALLOC, n, true) == ROUTE_REAL;
	if (HMO_UNLIKELY(hmo_bootstrap_owns(p)))
		return realloc_from_bootstrap(p, n, real);
	if (HMO_LIKELY(real))
		return hmo_real.realloc(p, n);
	if (p == NULL)
		return hmo_bootstrap_alloc(n, 16);
	/* A libc block before hmo knows libc's realloc: cannot happen, hmo resolves
	 * realloc before anything it allocates is handed out. */
	errno = ENOMEM;
	return NULL;
}

HMO_EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t n;

	if (mul_overflows(nmemb, size, &n))
		n = SIZE_MAX;
	FAST(FN_REALLOCARRAY, n);
	bool real = fast_ || slow_route(FN_REALLOCARRAY, n, true) == ROUTE_REAL;
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

HMO_EXPORT void free(void *p)
{
	if (HMO_UNLIKELY(hmo_bootstrap_owns(p)))
		return;
	FAST_CALL(FN_FREE);
	if (fast_ || slow_route(FN_FREE, 0, false) == ROUTE_REAL)
		hmo_real.free(p);
	/* else: only bootstrap blocks exist yet, and p is not one (NULL) */
}

#if defined(HAVE_FREE_SIZED)
HMO_EXPORT void free_sized(void *p, size_t n)
{
	if (HMO_UNLIKELY(hmo_bootstrap_owns(p)))
		return;
	FAST(FN_FREE_SIZED, n);
	if (fast_ || slow_route(FN_FREE_SIZED, n, true) == ROUTE_REAL) {
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
	FAST(FN_FREE_ALIGNED_SIZED, n);
	if (fast_ || slow_route(FN_FREE_ALIGNED_SIZED, n, true) == ROUTE_REAL) {
		if (hmo_real.free_aligned_sized)
			hmo_real.free_aligned_sized(p, align, n);
		else
			hmo_real.free(p);
	}
}
#endif

HMO_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	FAST(FN_POSIX_MEMALIGN, n);
	if (fast_ || slow_route(FN_POSIX_MEMALIGN, n, true) == ROUTE_REAL)
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
	FAST(FN_ALIGNED_ALLOC, n);
	if (fast_ || slow_route(FN_ALIGNED_ALLOC, n, true) == ROUTE_REAL)
		return hmo_real.aligned_alloc(align, n);
	return hmo_bootstrap_alloc(n, align);
}

HMO_EXPORT void *memalign(size_t align, size_t n)
{
	FAST(FN_MEMALIGN, n);
	if (fast_ || slow_route(FN_MEMALIGN, n, true) == ROUTE_REAL)
		return hmo_real.memalign(align, n);
	return hmo_bootstrap_alloc(n, align);
}

HMO_EXPORT void *valloc(size_t n)
{
	FAST(FN_VALLOC, n);
	if (fast_ || slow_route(FN_VALLOC, n, true) == ROUTE_REAL)
		return hmo_real.valloc(n);
	return hmo_bootstrap_alloc(n, 4096);
}

HMO_EXPORT void *pvalloc(size_t n)
{
	FAST(FN_PVALLOC, n);
	if (fast_ || slow_route(FN_PVALLOC, n, true) == ROUTE_REAL) {
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
	FAST_CALL(FN_MALLOC_USABLE_SIZE);
	if (fast_ || slow_route(FN_MALLOC_USABLE_SIZE, 0, false) == ROUTE_REAL)
		return hmo_real.malloc_usable_size(p);
	return 0;
}
