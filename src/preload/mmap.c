/* mmap.c: mmap, mmap64, munmap and mremap.
 *
 * glibc's own mmaps (malloc's large blocks) call an internal alias and never reach
 * these hooks; jemalloc, mimalloc, the dynamic loader's callers and the program do.
 * Regions hmo did not make are only forwarded: MAP_FIXED, file mappings, PROT_NONE
 * reservations and partial unmaps reach the kernel exactly as asked. Before the next
 * definitions are known the hooks make the system call themselves. */
#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

static bool count(enum hmo_fn fn, size_t n)
{
	struct hmo_slot *s = hmo_tls.slot;

	if (HMO_LIKELY(s != NULL)) {
		hmo_count(s, fn, n);
		return true;
	}
	if (!hmo_tls.guard && !hmo_ready())
		hmo_init();
	if (!hmo_ready())
		return false;
	hmo_count_slow(fn, n, true);
	return true;
}

HMO_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (HMO_LIKELY(count(FN_MMAP, len)))
		return hmo_real.mmap(addr, len, prot, flags, fd, off);
	return hmo_raw_mmap(addr, len, prot, flags, fd, off);
}

HMO_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (HMO_LIKELY(count(FN_MMAP64, len)))
		return (hmo_real.mmap64 ? hmo_real.mmap64 : hmo_real.mmap)(addr, len, prot, flags, fd, off);
	return hmo_raw_mmap(addr, len, prot, flags, fd, off);
}

HMO_EXPORT int munmap(void *addr, size_t len)
{
	if (HMO_LIKELY(count(FN_MUNMAP, len)))
		return hmo_real.munmap(addr, len);
	return hmo_raw_munmap(addr, len);
}

HMO_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *new_addr = NULL;

	/* The fifth argument exists only with MREMAP_FIXED (or MREMAP_DONTUNMAP's
	 * companion use of it); reading it otherwise would read garbage. */
	if (flags & MREMAP_FIXED) {
		va_list ap;
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	if (HMO_LIKELY(count(FN_MREMAP, new_len)))
		return hmo_real.mremap(old, old_len, new_len, flags, new_addr);
	return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
}
