/* Every allocation entry point returns what glibc returns,
 * with glibc's errno, alignment and sizes. entry.sh runs this with and without hmo. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Read at run time, so the compiler cannot refuse the huge requests. */
static volatile size_t huge = SIZE_MAX;

int main(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p, *q;
	int r;

	/* malloc(0) gives a unique, freeable pointer. */
	p = malloc(0);
	CHECK(p != NULL);
	free(p);

	/* Failed allocations: NULL with ENOMEM. */
	errno = 0;
	CHECK(malloc(huge) == NULL && errno == ENOMEM);
	errno = 0;
	CHECK(calloc(huge / 2, 4) == NULL && errno == ENOMEM);
	errno = 0;
	CHECK(calloc(4, huge / 2) == NULL && errno == ENOMEM);
	errno = 0;
	CHECK(reallocarray(NULL, huge / 2, 4) == NULL && errno == ENOMEM);
	p = malloc(16);
	errno = 0;
	CHECK(realloc(p, huge) == NULL && errno == ENOMEM);
	free(p);	/* a failed realloc leaves the block */

	/* Successful calls leave errno alone. */
	errno = 4242;
	p = malloc(100);
	q = calloc(10, 10);
	CHECK(p && q && errno == 4242);
	free(q);

	/* realloc: NULL behaves as malloc, contents kept when growing and shrinking. */
	q = realloc(NULL, 64);
	CHECK(q != NULL);
	memset(q, 0x5a, 64);
	q = realloc(q, 1 << 20);
	CHECK(q != NULL && ((unsigned char *)q)[63] == 0x5a && ((unsigned char *)q)[0] == 0x5a);
	q = realloc(q, 8);
	CHECK(q != NULL && ((unsigned char *)q)[7] == 0x5a);
	/* realloc(p, 0) frees p and returns NULL (glibc). */
	errno = 4242;
	CHECK(realloc(q, 0) == NULL);
	q = reallocarray(NULL, 10, 10);
	CHECK(q != NULL && malloc_usable_size(q) >= 100);
	free(q);

	/* posix_memalign reports through its result and never touches errno. */
	errno = 4242;
	r = posix_memalign(&q, 3, 16);
	CHECK(r == EINVAL && errno == 4242);
	r = posix_memalign(&q, 0, 16);
	CHECK(r == EINVAL && errno == 4242);
	r = posix_memalign(&q, sizeof(void *) * 3, 16);
	CHECK(r == EINVAL && errno == 4242);
	r = posix_memalign(&q, 64, huge - 100);
	CHECK(r == ENOMEM);	/* glibc sets errno here too: not checked */
	errno = 4242;
	q = NULL;
	r = posix_memalign(&q, 64, 1000);
	CHECK(r == 0 && q && (uintptr_t)q % 64 == 0 && errno == 4242);
	free(q);

	/* The alignments frames ask for, up to x264's 2 MiB. */
	for (size_t a = 8; a <= (2u << 20); a <<= 1) {
		q = aligned_alloc(a, 3 * a);
		CHECK(q && (uintptr_t)q % a == 0 && malloc_usable_size(q) >= 3 * a);
		free(q);
		q = memalign(a, 3 << 20);
		CHECK(q && (uintptr_t)q % a == 0 && malloc_usable_size(q) >= (3u << 20));
		free(q);
		CHECK(posix_memalign(&q, a, 5000) == 0 && (uintptr_t)q % a == 0);
		free(q);
	}

	q = valloc(100);
	CHECK(q && (uintptr_t)q % page == 0 && malloc_usable_size(q) >= 100);
	free(q);
	q = pvalloc(100);
	CHECK(q && (uintptr_t)q % page == 0 && malloc_usable_size(q) >= page);
	free(q);

	/* Usable size at least the request, across small, medium and mmap'd blocks. */
	CHECK(malloc_usable_size(NULL) == 0);
	for (size_t n = 1; n < (64u << 20); n = n * 3 + 1) {
		q = malloc(n);
		CHECK(q && malloc_usable_size(q) >= n);
		free(q);
	}

	/* free keeps errno, for heap and mmap'd blocks, and free(NULL) does nothing. */
	q = malloc(32);
	errno = EAGAIN;
	free(q);
	CHECK(errno == EAGAIN);
	q = malloc(64u << 20);
	errno = EAGAIN;
	free(q);
	CHECK(errno == EAGAIN);
	free(NULL);
	CHECK(errno == EAGAIN);

	/* calloc of a recycled block is zero, small and large. */
	for (size_t n = 16; n <= (8u << 20); n *= 4) {
		for (int i = 0; i < 3; i++) {
			unsigned char *d = malloc(n);
			CHECK(d != NULL);
			memset(d, 0xff, n);
			free(d);
			unsigned char *z = calloc(1, n);
			CHECK(z && all_zero(z, n));
			free(z);
		}
	}
	free(p);
	return check_done("t_entry");
}
