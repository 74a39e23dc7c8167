/* The floor for any LD_PRELOAD interposer: malloc, free and memcpy that only
 * forward to the next definition, counting nothing. scripts/bench measures it beside hmo, so
 * the table shows what interposition itself costs and what hmo's counting adds. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

static void *(*next_malloc)(size_t);
static void (*next_free)(void *);
static void *(*next_memcpy)(void *, const void *, size_t);

/* Called lazily too: another preloaded library's constructor may allocate first. */
__attribute__((constructor)) static void fwd_init(void)
{
	*(void **)&next_malloc = dlsym(RTLD_NEXT, "malloc");
	*(void **)&next_free = dlsym(RTLD_NEXT, "free");
	*(void **)&next_memcpy = dlsym(RTLD_NEXT, "memcpy");
}

void *malloc(size_t n);
void free(void *p);
void *memcpy(void *dst, const void *src, size_t n);

void *malloc(size_t n)
{
	if (__builtin_expect(!next_malloc, 0))
		fwd_init();
	return next_malloc(n);
}

void free(void *p)
{
	if (__builtin_expect(!next_free, 0))
		fwd_init();
	next_free(p);
}

void *memcpy(void *dst, const void *src, size_t n)
{
	if (__builtin_expect(!next_memcpy, 0)) {
		char *d = dst;
		const char *s = src;
		while (n--)
			*d++ = *s++;
		return dst;
	}
	return next_memcpy(dst, src, n);
}
