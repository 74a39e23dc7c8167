/* real.c: the next definition of every function hmo interposes.
 *
 * Looked up once with dlsym(RTLD_NEXT), so that hmo forwards to whatever the program
 * would have called without it: glibc, or another preloaded allocator. A function
 * the C library lacks (free_sized before glibc 2.41) stays NULL and its hook falls
 * back to the nearest equivalent. */
#include <dlfcn.h>
#include <stddef.h>

#include "real.h"

struct hmo_real hmo_real;

#define RESOLVE(field, name) \
	(*(void **)&hmo_real.field = dlsym(RTLD_NEXT, name))

void hmo_real_resolve(void)
{
	RESOLVE(malloc, "malloc");
	RESOLVE(calloc, "calloc");
	RESOLVE(realloc, "realloc");
	RESOLVE(reallocarray, "reallocarray");
	RESOLVE(free, "free");
	RESOLVE(posix_memalign, "posix_memalign");
	RESOLVE(aligned_alloc, "aligned_alloc");
	RESOLVE(memalign, "memalign");
	RESOLVE(valloc, "valloc");
	RESOLVE(pvalloc, "pvalloc");
	RESOLVE(malloc_usable_size, "malloc_usable_size");
	RESOLVE(malloc_trim, "malloc_trim");
#ifdef HAVE_FREE_SIZED
	RESOLVE(free_sized, "free_sized");
#endif
#ifdef HAVE_FREE_ALIGNED_SIZED
	RESOLVE(free_aligned_sized, "free_aligned_sized");
#endif
	RESOLVE(mmap, "mmap");
	RESOLVE(mmap64, "mmap64");
	RESOLVE(munmap, "munmap");
	RESOLVE(mremap, "mremap");
	RESOLVE(memcpy, "memcpy");
	RESOLVE(memmove, "memmove");
	RESOLVE(memset, "memset");
	RESOLVE(memcpy_chk, "__memcpy_chk");
	RESOLVE(memmove_chk, "__memmove_chk");
	RESOLVE(memset_chk, "__memset_chk");
	RESOLVE(exit_, "_exit");
	RESOLVE(Exit_, "_Exit");
	/* A failed lookup leaves an error for the program's next dlerror(): clear it. */
	(void)dlerror();
}

/* The loader's own functions, for hmo's use (nothing patched, traced or checked),
 * looked up on first use. */
static void *(*real_dlopen)(const char *, int);
static int (*real_dlclose)(void *);
static void *(*real_dlsym)(void *, const char *);

void *hmo_real_dlopen(const char *file, int flags)
{
	if (!real_dlopen)
		*(void **)&real_dlopen = dlsym(RTLD_NEXT, "dlopen");
	return real_dlopen ? real_dlopen(file, flags) : NULL;
}

int hmo_real_dlclose(void *h)
{
	if (!real_dlclose)
		*(void **)&real_dlclose = dlsym(RTLD_NEXT, "dlclose");
	return real_dlclose ? real_dlclose(h) : -1;
}

/* hmo's dlsym is a trampoline (dlsym.c), so the real one cannot be found by asking
 * dlsym: it is found with dlvsym (not interposed), GLIBC_2.34, where glibc 2.34
 * moved it into libc, or GLIBC_2.2.5 before. */
void *hmo_real_dlsym_fn(void)
{
	void *r = __atomic_load_n(&real_dlsym, __ATOMIC_ACQUIRE);

	if (r)
		return r;
	r = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
	if (!r)
		r = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
	__atomic_store_n(&real_dlsym, r, __ATOMIC_RELEASE);
	return r;
}

void *hmo_real_dlsym(void *handle, const char *name)
{
	void *(*r)(void *, const char *) = hmo_real_dlsym_fn();

	return r ? r(handle, name) : NULL;
}
