/* copy.c: the memcpy, memmove and memset hooks, with their _chk forms.
 *
 * libavcodec, libx264 and SVT-AV1 are built with _FORTIFY_SOURCE and call
 * __memcpy_chk and friends, so those are counted too. A hook never allocates. Before
 * the next definitions are known (or if one is missing) the copy is made by os.c's
 * byte loops, which the compiler cannot turn back into a call to memcpy. */
#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "base.h"
#include "counters.h"
#include "os.h"
#include "process.h"
#include "real.h"
#include "tracer.h"

/* glibc's fortified entry points; no public header declares them. */
void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memset_chk(void *dst, int c, size_t n, size_t dstlen);

/* The same failure glibc's __chk_fail gives: a message and SIGABRT. */
static void __attribute__((noreturn)) chk_fail(void)
{
	static const char msg[] = "*** buffer overflow detected ***: terminated\n";
	os_write_all(2, msg, sizeof msg - 1);
	abort();
}

/* The slow path of every copy hook: hmo's own calls (the guard), a thread's first
 * call, or hmo not initialised yet. No init from a copy: the first malloc or the
 * constructor does it, and copies made before then are done here and not counted.
 * Kept out of line so the hooks' fast paths end in a plain tail call. */
static __attribute__((noinline, cold)) void *copy_slow(enum hmo_fn fn, void *dst, const void *src,
							int c, size_t n, size_t dstlen)
{
	bool real = hmo_ready();

	if (real)
		hmo_count_slow(fn, n, true);
	switch (fn) {
	case FN_MEMCPY:
		return real ? hmo_real.memcpy(dst, src, n) : os_memmove(dst, src, n);
	case FN_MEMMOVE:
		return real ? hmo_real.memmove(dst, src, n) : os_memmove(dst, src, n);
	case FN_MEMSET:
		return real ? hmo_real.memset(dst, c, n) : os_memset(dst, c, n);
	case FN_MEMCPY_CHK:
		if (real)
			return hmo_real.memcpy_chk(dst, src, n, dstlen);
		break;
	case FN_MEMMOVE_CHK:
		if (real)
			return hmo_real.memmove_chk(dst, src, n, dstlen);
		break;
	case FN_MEMSET_CHK:
		if (real)
			return hmo_real.memset_chk(dst, c, n, dstlen);
		break;
	default:
		break;
	}
	if (dstlen < n)
		chk_fail();
	return fn == FN_MEMSET_CHK ? os_memset(dst, c, n) : os_memmove(dst, src, n);
}

/* Stand-ins for a C library without the _chk forms: the check, then the plain copy
 * (they are counted by the hook that calls them, like glibc's). */
static void *chk_memcpy(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (dstlen < n)
		chk_fail();
	return hmo_real.memcpy(dst, src, n);
}

static void *chk_memmove(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (dstlen < n)
		chk_fail();
	return hmo_real.memmove(dst, src, n);
}

static void *chk_memset(void *dst, int c, size_t n, size_t dstlen)
{
	if (dstlen < n)
		chk_fail();
	return hmo_real.memset(dst, c, n);
}

void hmo_copy_fill_missing(void)
{
	if (!hmo_real.memcpy_chk)
		hmo_real.memcpy_chk = chk_memcpy;
	if (!hmo_real.memmove_chk)
		hmo_real.memmove_chk = chk_memmove;
	if (!hmo_real.memset_chk)
		hmo_real.memset_chk = chk_memset;
}

/* The next definition of a copy function, for the traced and timed paths. */
static void *copy_call(enum hmo_fn fn, void *dst, const void *src, int c, size_t n, size_t dstlen)
{
	switch (fn) {
	case FN_MEMCPY: return hmo_real.memcpy(dst, src, n);
	case FN_MEMMOVE: return hmo_real.memmove(dst, src, n);
	case FN_MEMSET: return hmo_real.memset(dst, c, n);
	case FN_MEMCPY_CHK: return hmo_real.memcpy_chk(dst, src, n, dstlen);
	case FN_MEMMOVE_CHK: return hmo_real.memmove_chk(dst, src, n, dstlen);
	default: return hmo_real.memset_chk(dst, c, n, dstlen);
	}
}

/* A large copy (HMO_THRESHOLD), timed for the bandwidth in the summary and hmo_stats,
 * or one of at least HMO_TRACE_COPY_MIN while tracing, timed and recorded. Two clock
 * reads (tens of ns) against a copy of a mebibyte or more (tens of us). */
static __attribute__((noinline, cold)) void *copy_large(struct hmo_slot *s, enum hmo_fn fn, void *dst,
							const void *src, int c, size_t n, size_t dstlen)
{
	uint64_t t0 = os_now_ns();
	void *r = copy_call(fn, dst, src, c, n, dstlen);

	if (n >= hmo_large_threshold) {
		HMO_ADD(s->fn[fn].large_ns, os_now_ns() - t0);
		HMO_ADD(s->fn[fn].timed_bytes, n);
	}
	if (n >= hmo_trace_copy_min)
		hmo_trace_copy(fn, t0, n, dst, src);
	return r;
}

/* HMO_SAMPLE: a smaller copy, timed for its latency. */
static __attribute__((noinline, cold)) void *copy_timed(struct hmo_slot *s, enum hmo_fn fn, void *dst,
							const void *src, int c, size_t n, size_t dstlen)
{
	uint64_t t0 = os_now_ns();
	void *r = copy_call(fn, dst, src, c, n, dstlen);

	hmo_lat_note(s, fn, t0);
	return r;
}

#define HOOK(fn, call, slow_args, src, c, dstlen)                      \
	struct hmo_slot *s = hmo_tls.slot;                             \
	if (HMO_UNLIKELY(!s))                                          \
		return copy_slow slow_args;                            \
	hmo_count(s, fn, n);                                           \
	if (HMO_UNLIKELY(n >= hmo_copy_timed_min))                     \
		return copy_large(s, fn, dst, src, c, n, dstlen);      \
	if (hmo_sample_now(s))                                         \
		return copy_timed(s, fn, dst, src, c, n, dstlen);      \
	return call

HMO_EXPORT void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	HOOK(FN_MEMCPY, hmo_real.memcpy(dst, src, n), (FN_MEMCPY, dst, src, 0, n, SIZE_MAX), src, 0, SIZE_MAX);
}

HMO_EXPORT void *memmove(void *dst, const void *src, size_t n)
{
	HOOK(FN_MEMMOVE, hmo_real.memmove(dst, src, n), (FN_MEMMOVE, dst, src, 0, n, SIZE_MAX), src, 0, SIZE_MAX);
}

HMO_EXPORT void *memset(void *dst, int c, size_t n)
{
	HOOK(FN_MEMSET, hmo_real.memset(dst, c, n), (FN_MEMSET, dst, NULL, c, n, SIZE_MAX), NULL, c, SIZE_MAX);
}

/* With a slot, hmo is initialised and hmo_real has every _chk form: glibc's, or
 * the stand-ins below where the C library lacks one. */
HMO_EXPORT void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	HOOK(FN_MEMCPY_CHK, hmo_real.memcpy_chk(dst, src, n, dstlen),
	     (FN_MEMCPY_CHK, dst, src, 0, n, dstlen), src, 0, dstlen);
}

HMO_EXPORT void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	HOOK(FN_MEMMOVE_CHK, hmo_real.memmove_chk(dst, src, n, dstlen),
	     (FN_MEMMOVE_CHK, dst, src, 0, n, dstlen), src, 0, dstlen);
}

HMO_EXPORT void *__memset_chk(void *dst, int c, size_t n, size_t dstlen)
{
	HOOK(FN_MEMSET_CHK, hmo_real.memset_chk(dst, c, n, dstlen),
	     (FN_MEMSET_CHK, dst, NULL, c, n, dstlen), NULL, c, dstlen);
}
