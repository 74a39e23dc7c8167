/* The floor for any LD_PRELOAD interposer: malloc and free that only forward to
 * the next definition, counting nothing. scripts/bench measures it beside hmo, so
 * the table shows what interposition itself costs and what hmo's counting adds. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

static void *(*next_malloc)(size_t);
static void (*next_free)(void *);

/* Called lazily too: another preloaded library's constructor may allocate first. */
__attribute__((constructor)) static void fwd_init(void)
{
	*(void **)&next_malloc = dlsym(RTLD_NEXT, "malloc");
	*(void **)&next_free = dlsym(RTLD_NEXT, "free");
}

void *malloc(size_t n);
void free(void *p);

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
