/* mmap.c: mmap, mmap64, munmap and mremap.
 *
 * glibc's own mmaps (malloc's large blocks) call an internal alias and never reach
 * these hooks; jemalloc, mimalloc, the dynamic loader's callers and the program do.
 * Regions hmo did not make are only forwarded: MAP_FIXED, file mappings, PROT_NONE
 * reservations and partial unmaps reach the kernel exactly as asked. The frame pool's
 * range is the exception: a program that unmaps pool memory (a bug, but one glibc
 * survives when it unmaps its own mmapped chunk) gets its pages released instead, and
 * mremap or MAP_FIXED onto pool memory is refused, so the pool is never corrupted.
 * Before the next definitions are known the hooks make the system call themselves. */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mmap.h"
#include "base.h"
#include "counters.h"
#include "init.h"
#include "process.h"
#include "real.h"
#include "tracer.h"
#include "os.h"
#include "pool.h"

uint64_t hmo_mmap_advised;
uint64_t hmo_pool_intrusions;

/* Whether a call from the program (not hmo's or jemalloc's own, under the guard)
 * reaches into the pool's range: counted, and the caller then protects the pool. */
static bool intrudes(const void *addr, size_t len)
{
	if (HMO_LIKELY(!hmo_pool_overlaps(addr, len)) || hmo_tls.guard)
		return false;
	__atomic_fetch_add(&hmo_pool_intrusions, 1, __ATOMIC_RELAXED);
	return true;
}

/* munmap over pool memory: the part outside the range is unmapped, the part inside
 * has its pages released (it reads as zeros) and stays mapped for the pool. */
static int munmap_around_pool(void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr, end = a + ((len + 4095) & ~(size_t)4095), cur = a;
	uintptr_t lo[16], hi[16];
	int n = pool_ranges(lo, hi, 16), rc = 0, err = 0;

	if (a & 4095) {
		errno = EINVAL;
		return -1;
	}
	/* The pool's memory (one range, or the parts kept after pool_give_back) between
	 * what is really unmapped. */
	for (int r = 0; r < n && cur < end; r++) {
		if (hi[r] <= cur || lo[r] >= end)
			continue;
		if (cur < lo[r] && hmo_real.munmap((void *)cur, lo[r] - cur) != 0)
			rc = -1;
		uintptr_t s = cur > lo[r] ? cur : lo[r], e = end < hi[r] ? end : hi[r];
		if ((err = os_purge((void *)s, e - s)) != 0)
			rc = -1;
		cur = e;
	}
	if (cur < end && hmo_real.munmap((void *)cur, end - cur) != 0)
		rc = -1;
	if (err)
		errno = err;
	return rc;
}

/* The program's allocator, when it is a library of its own (jemalloc, mimalloc,
 * tcmalloc preloaded or linked): [lo, hi) of its loaded segments. Its heap reaches
 * mmap through these hooks, and advising it onto huge pages would give the program
 * what jemalloc's thp:always gives (here 4.9 -> 18.9 MB of RSS for a small-block
 * churn), which nobody asked for. When malloc is glibc's, this is libc's own range
 * (its mmaps for large blocks and thread stacks are left alone as well); 0 and 0
 * when malloc lives in the executable, which cannot be told apart from the
 * program. */
static uintptr_t alloc_lo, alloc_hi;

static int find_allocator(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t a = (uintptr_t)arg, lo = UINTPTR_MAX, hi = 0;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
		lo = s < lo ? s : lo;
		hi = e > hi ? e : hi;
	}
	if (a < lo || a >= hi)
		return 0;
	if (info->dlpi_name && info->dlpi_name[0]) {	/* not the executable */
		alloc_lo = lo;
		alloc_hi = hi;
	}
	return 1;
}

void hmo_mmap_init(void)
{
	if (hmo_real.malloc)
		dl_iterate_phdr(find_allocator, (void *)(uintptr_t)hmo_real.malloc);
}

/* HMO_MMAP=advise: a frame-sized anonymous private mapping that the program made
 * itself (not at a fixed place, not explicit hugetlb, not hmo's or its allocator's
 * own, which run under the guard, nor the program's allocator's) gets the pool's
 * huge-page advice, where the pool's frames are on THP: where fresh huge pages are
 * dear, the program's own fresh mappings would pay the same. File mappings are never
 * touched: the x264 CLI maps its input one frame per mmap. */
static void *advise(void *p, size_t len, int flags, const void *caller)
{
	const int want = MAP_PRIVATE | MAP_ANONYMOUS;

	if (p != MAP_FAILED && (flags & (want | MAP_FIXED | MAP_HUGETLB | MAP_SHARED)) == want &&
	    len >= hmo_pool_threshold && hmo_opt.pool && hmo_opt.mmap_mode == HMO_MMAP_ADVISE && !hmo_tls.guard &&
	    !((uintptr_t)caller >= alloc_lo && (uintptr_t)caller < alloc_hi) && pool_advise_thp()) {
		int saved_errno = errno;
		if (os_advise_thp(p, len) == 0)
			__atomic_fetch_add(&hmo_mmap_advised, 1, __ATOMIC_RELAXED);
		errno = saved_errno;
	}
	return p;
}

/* HMO_TRACE: every mmap-family call of the program's is an event. */
static __attribute__((noinline, cold)) void trace_map(enum hmo_fn fn, uint64_t t0, size_t len,
						      const void *addr, const void *old, bool failed)
{
	if (!hmo_tls.guard)
		hmo_trace_event(fn, t0, len, addr, old, failed ? HMO_OUT_FAILED : HMO_OUT_NONE,
				HMO_BACK_NONE, -1);
}

/* MAP_FIXED (which replaces what is there) onto pool memory is refused. */
static bool fixed_into_pool(void *addr, size_t len, int flags)
{
	if (!(flags & MAP_FIXED) || !intrudes(addr, len))
		return false;
	errno = EINVAL;
	return true;
}

HMO_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (HMO_LIKELY(hmo_counted(FN_MMAP, len, true))) {
		if (HMO_UNLIKELY(fixed_into_pool(addr, len, flags)))
			return MAP_FAILED;
		uint64_t t0 = hmo_trace_t0();
		void *p = hmo_real.mmap(addr, len, prot, flags, fd, off);
		if (HMO_UNLIKELY(p == MAP_FAILED) && errno == ENOMEM && !hmo_tls.guard && pool_give_back(len))
			p = hmo_real.mmap(addr, len, prot, flags, fd, off);
		p = advise(p, len, flags, __builtin_return_address(0));
		if (HMO_UNLIKELY(hmo_tracing))
			trace_map(FN_MMAP, t0, len, p, NULL, p == MAP_FAILED);
		return p;
	}
	return os_raw_mmap(addr, len, prot, flags, fd, off);
}

HMO_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (HMO_LIKELY(hmo_counted(FN_MMAP64, len, true))) {
		if (HMO_UNLIKELY(fixed_into_pool(addr, len, flags)))
			return MAP_FAILED;
		uint64_t t0 = hmo_trace_t0();
		void *(*real)(void *, size_t, int, int, int, off_t) = hmo_real.mmap64 ? hmo_real.mmap64 : hmo_real.mmap;
		void *p = real(addr, len, prot, flags, fd, off);
		if (HMO_UNLIKELY(p == MAP_FAILED) && errno == ENOMEM && !hmo_tls.guard && pool_give_back(len))
			p = real(addr, len, prot, flags, fd, off);
		p = advise(p, len, flags, __builtin_return_address(0));
		if (HMO_UNLIKELY(hmo_tracing))
			trace_map(FN_MMAP64, t0, len, p, NULL, p == MAP_FAILED);
		return p;
	}
	return os_raw_mmap(addr, len, prot, flags, fd, off);
}

HMO_EXPORT int munmap(void *addr, size_t len)
{
	if (HMO_LIKELY(hmo_counted(FN_MUNMAP, len, true))) {
		uint64_t t0 = hmo_trace_t0();
		int rc = HMO_UNLIKELY(intrudes(addr, len)) ? munmap_around_pool(addr, len)
							   : hmo_real.munmap(addr, len);
		if (HMO_UNLIKELY(hmo_tracing))
			trace_map(FN_MUNMAP, t0, len, addr, NULL, rc != 0);
		return rc;
	}
	return os_raw_munmap(addr, len);
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
	if (HMO_LIKELY(hmo_counted(FN_MREMAP, new_len, true))) {
		/* Moving, growing or shrinking pool memory, or moving onto it: refused. */
		if (HMO_UNLIKELY(intrudes(old, old_len ? old_len : 1) ||
				 ((flags & MREMAP_FIXED) && intrudes(new_addr, new_len)))) {
			errno = EINVAL;
			return MAP_FAILED;
		}
		uint64_t t0 = hmo_trace_t0();
		void *p = hmo_real.mremap(old, old_len, new_len, flags, new_addr);
		if (HMO_UNLIKELY(hmo_tracing))
			trace_map(FN_MREMAP, t0, new_len, p, old, p == MAP_FAILED);
		return p;
	}
	return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
}
