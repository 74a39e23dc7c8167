/* real.c: the next definition of every function hmo interposes.
 *
 * Looked up once with dlsym(RTLD_NEXT), so that hmo forwards to whatever the program
 * would have called without it: glibc, or another preloaded allocator. A function
 * the C library lacks (free_sized before glibc 2.41) stays NULL and its hook falls
 * back to the nearest equivalent. */
#include <dlfcn.h>

#include "internal.h"

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
	hmo_copy_fill_missing();
	hmo_exec_resolve();
	/* A failed lookup leaves an error for the program's next dlerror(): clear it. */
	(void)dlerror();
}
