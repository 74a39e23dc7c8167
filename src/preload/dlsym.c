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
 * The real dlsym is found with dlvsym (not interposed): GLIBC_2.34, where glibc 2.34
 * moved it into libc, or GLIBC_2.2.5 before. */
#include <dlfcn.h>

#include "cuda/cuda.h"
#include "internal.h"

static void *(*real_dlsym)(void *, const char *);

static void *find_real(void)
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
	void *(*r)(void *, const char *) = find_real();

	return r ? r(handle, name) : NULL;
}

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
	void *r = find_real();
	return r ? r : (void *)no_dlsym;
}

#if defined(__x86_64__)
/* dlsym(handle, name): keeps the arguments, asks the route, and jumps. The stack is
 * 16-byte aligned at the call (8 on entry, two pushes, 8 more). */
__asm__(".text\n"
	".globl dlsym\n"
	".type dlsym, @function\n"
	"dlsym:\n"
	"\t.cfi_startproc\n"
	"\tendbr64\n"
	"\tpushq %rdi\n"
	"\t.cfi_adjust_cfa_offset 8\n"
	"\tpushq %rsi\n"
	"\t.cfi_adjust_cfa_offset 8\n"
	"\tsubq $8, %rsp\n"
	"\t.cfi_adjust_cfa_offset 8\n"
	"\tcall hmo_dlsym_route\n"
	"\taddq $8, %rsp\n"
	"\t.cfi_adjust_cfa_offset -8\n"
	"\tpopq %rsi\n"
	"\t.cfi_adjust_cfa_offset -8\n"
	"\tpopq %rdi\n"
	"\t.cfi_adjust_cfa_offset -8\n"
	"\tjmp *%rax\n"
	"\t.cfi_endproc\n"
	".size dlsym, .-dlsym\n");
#endif
