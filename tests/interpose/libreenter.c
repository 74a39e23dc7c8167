/* A whole malloc of its own, built on mmap, memcpy and memset called through the
 * PLT, as jemalloc and mimalloc are. Preloaded after libhmo it is hmo's "next"
 * allocator, so every hmo hook re-enters hmo's mmap and copy hooks, and hmo's own
 * dlsym lookups run while this library has not allocated anything yet. A bump
 * allocator: free does nothing, which is all a test needs. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define REGION (8ull << 30)
#define HDR 64

static char *region;
static size_t used;

void *malloc(size_t n);
void *calloc(size_t a, size_t b);
void *realloc(void *p, size_t n);
void *reallocarray(void *p, size_t a, size_t b);
void free(void *p);
void *memalign(size_t align, size_t n);
void *aligned_alloc(size_t align, size_t n);
int posix_memalign(void **out, size_t align, size_t n);
void *valloc(size_t n);
void *pvalloc(size_t n);
size_t malloc_usable_size(void *p);

static void *bump(size_t n, size_t align)
{
	char *base = __atomic_load_n(&region, __ATOMIC_ACQUIRE);
	size_t old, start, end;

	if (!base) {
		char *r = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		char *expect = NULL;
		if (r == MAP_FAILED) {
			errno = ENOMEM;
			return NULL;
		}
		if (!__atomic_compare_exchange_n(&region, &expect, r, 0, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			munmap(r, REGION);
		base = __atomic_load_n(&region, __ATOMIC_ACQUIRE);
	}
	if (align < HDR)
		align = HDR;
	if (n > REGION / 2 || (align & (align - 1))) {
		errno = align & (align - 1) ? EINVAL : ENOMEM;
		return NULL;
	}
	old = __atomic_load_n(&used, __ATOMIC_RELAXED);
	do {
		start = (old + HDR + align - 1) & ~(align - 1);
		end = start + ((n + 15) & ~(size_t)15);
		if (end > REGION) {
			errno = ENOMEM;
			return NULL;
		}
	} while (!__atomic_compare_exchange_n(&used, &old, end, 0, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	*(size_t *)(base + start - sizeof(size_t)) = n;
	return base + start;
}

void *malloc(size_t n) { return bump(n, 16); }
void free(void *p) { (void)p; }
size_t malloc_usable_size(void *p) { return p ? *(size_t *)((char *)p - sizeof(size_t)) : 0; }
void *memalign(size_t align, size_t n) { return bump(n, align); }
void *aligned_alloc(size_t align, size_t n) { return bump(n, align); }
void *valloc(size_t n) { return bump(n, 4096); }
void *pvalloc(size_t n) { return bump((n + 4095) & ~(size_t)4095, 4096); }

void *calloc(size_t a, size_t b)
{
	size_t n;
	void *p;

	if (__builtin_mul_overflow(a, b, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	p = bump(n, 16);
	if (p)
		memset(p, 0, n);
	return p;
}

void *realloc(void *p, size_t n)
{
	void *q;

	if (!p)
		return malloc(n);
	if (n == 0)
		return NULL;
	q = malloc(n);
	if (q) {
		size_t old = malloc_usable_size(p);
		memcpy(q, p, old < n ? old : n);
	}
	return q;
}

void *reallocarray(void *p, size_t a, size_t b)
{
	size_t n;

	if (__builtin_mul_overflow(a, b, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	int saved = errno;
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	p = bump(n, align);
	if (!p) {
		errno = saved;
		return ENOMEM;
	}
	*out = p;
	return 0;
}
