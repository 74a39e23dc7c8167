/* copy.c: the memcpy, memmove and memset hooks, with their _chk forms.
 *
 * libavcodec, libx264 and SVT-AV1 are built with _FORTIFY_SOURCE and call
 * __memcpy_chk and friends, so those are counted too. A hook never allocates. Before
 * the next definitions are known (or if one is missing) the copy is done here by a
 * plain loop; libhmo is compiled with -fno-builtin -fno-tree-loop-distribute-patterns
 * so that the compiler cannot turn that loop back into a call to memcpy. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

void *hmo_raw_memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if (d < s) {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	} else {
		for (size_t i = n; i-- > 0;)
			d[i] = s[i];
	}
	return dst;
}

void *hmo_raw_memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	for (size_t i = 0; i < n; i++)
		d[i] = (unsigned char)c;
	return dst;
}

void *hmo_raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

int hmo_raw_munmap(void *addr, size_t len)
{
	return (int)syscall(SYS_munmap, addr, len);
}

/* glibc's fortified entry points; no public header declares them. */
void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memset_chk(void *dst, int c, size_t n, size_t dstlen);

/* The same failure glibc's __chk_fail gives: a message and SIGABRT. */
static void __attribute__((noreturn)) chk_fail(void)
{
	static const char msg[] = "*** buffer overflow detected ***: terminated\n";
	ssize_t r = write(2, msg, sizeof msg - 1);
	(void)r;
	abort();
}

/* Counts a copy; returns false when the caller must not use hmo_real (not known yet). */
static inline bool count(enum hmo_fn fn, size_t n)
{
	struct hmo_slot *s = hmo_tls.slot;

	if (HMO_LIKELY(s != NULL)) {
		hmo_count(s, fn, n);
		return true;
	}
	/* No init from a copy: the first malloc or the constructor does it. Copies made
	 * before then are not counted, and hmo_real is only read once it is complete. */
	if (hmo_ready()) {
		hmo_count_slow(fn, n, true);
		return true;
	}
	return false;
}

HMO_EXPORT void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	if (HMO_LIKELY(count(FN_MEMCPY, n)))
		return hmo_real.memcpy(dst, src, n);
	return hmo_raw_memmove(dst, src, n);
}

HMO_EXPORT void *memmove(void *dst, const void *src, size_t n)
{
	if (HMO_LIKELY(count(FN_MEMMOVE, n)))
		return hmo_real.memmove(dst, src, n);
	return hmo_raw_memmove(dst, src, n);
}

HMO_EXPORT void *memset(void *dst, int c, size_t n)
{
	if (HMO_LIKELY(count(FN_MEMSET, n)))
		return hmo_real.memset(dst, c, n);
	return hmo_raw_memset(dst, c, n);
}

HMO_EXPORT void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (HMO_LIKELY(count(FN_MEMCPY_CHK, n) && hmo_real.memcpy_chk))
		return hmo_real.memcpy_chk(dst, src, n, dstlen);
	if (dstlen < n)
		chk_fail();
	return hmo_raw_memmove(dst, src, n);
}

HMO_EXPORT void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (HMO_LIKELY(count(FN_MEMMOVE_CHK, n) && hmo_real.memmove_chk))
		return hmo_real.memmove_chk(dst, src, n, dstlen);
	if (dstlen < n)
		chk_fail();
	return hmo_raw_memmove(dst, src, n);
}

HMO_EXPORT void *__memset_chk(void *dst, int c, size_t n, size_t dstlen)
{
	if (HMO_LIKELY(count(FN_MEMSET_CHK, n) && hmo_real.memset_chk))
		return hmo_real.memset_chk(dst, c, n, dstlen);
	if (dstlen < n)
		chk_fail();
	return hmo_raw_memset(dst, c, n);
}
