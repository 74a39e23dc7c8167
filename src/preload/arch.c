/* arch.c: the CPU's instructions that need more than a line (see arch.h): the
 * cache-line flush of hmo_flush, and the non-temporal copies of hmo_copy_stream,
 * chosen once from what the CPU supports. */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "arch.h"

/* Writes back and evicts the cache lines of [addr, addr+len) (hmo_flush). */
bool arch_flush_lines(const void *addr, size_t len)
{
#if defined(__x86_64__)
	static int opt = -1;	/* CLFLUSHOPT: cpuid leaf 7, EBX bit 23; a race only asks twice */
	if (__atomic_load_n(&opt, __ATOMIC_RELAXED) < 0) {
		unsigned a, b, c, d;
		__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
		__atomic_store_n(&opt, (int)((b >> 23) & 1), __ATOMIC_RELAXED);
	}
	bool use_opt = __atomic_load_n(&opt, __ATOMIC_RELAXED) == 1;
	const char *p = (const char *)((uintptr_t)addr & ~(uintptr_t)63), *end = (const char *)addr + len;
	for (; p < end; p += 64) {
		if (use_opt)
			__asm__ volatile("clflushopt %0" : : "m"(*p) : "memory");
		else
			__asm__ volatile("clflush %0" : : "m"(*p) : "memory");
	}
	__asm__ volatile("sfence" ::: "memory");
	return true;
#else
	(void)addr;
	(void)len;
	return false;
#endif
}

#if defined(__x86_64__)
/* Each copies whole blocks of its width and returns the bytes copied. */
__attribute__((target("avx512f"))) static size_t nt_avx512(char *d, const char *s, size_t n)
{
	size_t done = 0;

	for (; n - done >= 256; done += 256) {
		const char *p = s + done;
		__m512i a = _mm512_loadu_si512((const void *)p), b = _mm512_loadu_si512((const void *)(p + 64));
		__m512i c = _mm512_loadu_si512((const void *)(p + 128)), e = _mm512_loadu_si512((const void *)(p + 192));
		_mm512_stream_si512((void *)(d + done), a);
		_mm512_stream_si512((void *)(d + done + 64), b);
		_mm512_stream_si512((void *)(d + done + 128), c);
		_mm512_stream_si512((void *)(d + done + 192), e);
	}
	return done;
}

__attribute__((target("avx2"))) static size_t nt_avx2(char *d, const char *s, size_t n)
{
	size_t done = 0;

	for (; n - done >= 128; done += 128) {
		const char *p = s + done;
		__m256i a = _mm256_loadu_si256((const __m256i *)p), b = _mm256_loadu_si256((const __m256i *)(p + 32));
		__m256i c = _mm256_loadu_si256((const __m256i *)(p + 64)), e = _mm256_loadu_si256((const __m256i *)(p + 96));
		_mm256_stream_si256((__m256i *)(d + done), a);
		_mm256_stream_si256((__m256i *)(d + done + 32), b);
		_mm256_stream_si256((__m256i *)(d + done + 64), c);
		_mm256_stream_si256((__m256i *)(d + done + 96), e);
	}
	return done;
}

static size_t nt_sse2(char *d, const char *s, size_t n)
{
	size_t done = 0;

	for (; n - done >= 64; done += 64) {
		const char *p = s + done;
		__m128i a = _mm_loadu_si128((const __m128i *)p), b = _mm_loadu_si128((const __m128i *)(p + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(p + 32)), e = _mm_loadu_si128((const __m128i *)(p + 48));
		_mm_stream_si128((__m128i *)(d + done), a);
		_mm_stream_si128((__m128i *)(d + done + 16), b);
		_mm_stream_si128((__m128i *)(d + done + 32), c);
		_mm_stream_si128((__m128i *)(d + done + 48), e);
	}
	return done;
}

static size_t (*nt_copy)(char *, const char *, size_t);

static void pick(void)
{
	__builtin_cpu_init();
	nt_copy = __builtin_cpu_supports("avx512f") ? nt_avx512 : __builtin_cpu_supports("avx2") ? nt_avx2 : nt_sse2;
}

size_t arch_stream_copy(char *dst, const char *src, size_t n)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, pick);
	return nt_copy(dst, src, n);
}

void arch_store_fence(void)
{
	_mm_sfence();
}
#else
size_t arch_stream_copy(char *dst, const char *src, size_t n)
{
	(void)dst;
	(void)src;
	(void)n;
	return 0;
}

void arch_store_fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
#endif
