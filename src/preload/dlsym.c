/* dlsym.c: hmo's dlsym, for programs that dlopen libcuda and look its functions up
 * by name (FFmpeg's NVENC/NVDEC path does).
 *
 * glibc's dlsym looks at its return address: dlsym(RTLD_NEXT, ...) means "the next
 * object after the caller's". A C wrapper that called the real dlsym would make
 * every RTLD_NEXT lookup relative to libhmo, breaking other interposers (and
 * libraries that use RTLD_NEXT themselves). So dlsym is a small trampoline: it asks
 * hmo_dlsym_route where to go, and jumps there with the caller's return address
 * still on the stack. Every lookup but those of driver names that hmo wraps goes to
 * the real dlsym as if hmo were not there; those go to hmo_dlsym_wrap, which looks
 * the name up and hands out hmo's wrapper.
 *
 * The real dlsym is real.c's. */
#include <dlfcn.h>

#include "arch.h"
#include "cuda/cuda.h"
#include "real.h"

/* A driver name hmo wraps, from a handle (not RTLD_NEXT, whose meaning depends on
 * the caller): the real lookup, then the wrapper. */
void *hmo_dlsym_wrap(void *handle, const char *name);
void *hmo_dlsym_wrap(void *handle, const char *name)
{
	return hmo_cu_dlsym(handle, name, hmo_real_dlsym(handle, name));
}

/* Where dlsym jumps: hmo_dlsym_wrap or the real dlsym. Never NULL: without a real
 * dlsym (which cannot happen in a dynamically linked program) the lookup fails in
 * a function that returns NULL. */
static void *no_dlsym(void *handle, const char *name)
{
	(void)handle;
	(void)name;
	return NULL;
}

void *hmo_dlsym_route(void *handle, const char *name);
void *hmo_dlsym_route(void *handle, const char *name)
{
	if (name && handle != RTLD_NEXT && hmo_cu_wraps(name))
		return (void *)hmo_dlsym_wrap;
	void *r = hmo_real_dlsym_fn();
	return r ? r : (void *)no_dlsym;
}

/* dlsym itself (arch.h): asks hmo_dlsym_route, then jumps. */
#ifdef ARCH_DLSYM_TRAMPOLINE
ARCH_DLSYM_TRAMPOLINE(hmo_dlsym_route)
#endif
