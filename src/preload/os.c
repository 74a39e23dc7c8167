/* os.c: hmo's platform layer (see os.h): the clock, stderr, the raw memory
 * primitives, small files and /proc, and the kernel under the frame pool. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "os.h"

/* ---- the clock and stderr ------------------------------------------------- */

uint64_t os_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int os_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? errno : ENOSPC;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void os_warn(const char *line)
{
	size_t n = strlen(line);
	char nl = '\n';
	ssize_t r;

	r = write(2, line, n);
	r = write(2, &nl, 1);
	(void)r;
}

/* ---- memory without the C library ------------------------------------------
 * libhmo is compiled with -fno-builtin -fno-tree-loop-distribute-patterns, so these
 * loops stay loops: they never become calls to the memcpy or memset hmo hooks. */

void *os_memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if (d < s) {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	} else {
		for (size_t i = n; i-- > 0;)
			d[i] = s[i];
	}
	return dst;
}

void *os_memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	for (size_t i = 0; i < n; i++)
		d[i] = (unsigned char)c;
	return dst;
}

void *os_raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

int os_raw_munmap(void *addr, size_t len)
{
	return (int)syscall(SYS_munmap, addr, len);
}

/* ---- small files and /proc ------------------------------------------------- */

ssize_t os_read_small(const char *path, char *buf, size_t cap)
{
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0, r = 0;

	if (fd < 0)
		return -1;
	/* /proc files may come in more than one read. */
	while ((size_t)n < cap - 1 && (r = (ssize_t)syscall(SYS_read, fd, buf + n, cap - 1 - (size_t)n)) > 0)
		n += r;
	syscall(SYS_close, fd);
	if (n == 0 && r < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

uint64_t os_read_u64(const char *path)
{
	char buf[64];
	uint64_t v = 0;

	if (os_read_small(path, buf, sizeof buf) <= 0 || buf[0] < '0' || buf[0] > '9')
		return UINT64_MAX;	/* unreadable, or "max" */
	for (char *p = buf; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	return v;
}

/* Field `idx` (1-based; the field after the command name's closing parenthesis is
 * 3) of /proc/self/stat. */
static uint64_t stat_field(const char *s, int idx)
{
	const char *p = strrchr(s, ')');
	int f = 2;
	uint64_t v = 0;

	if (!p)
		return 0;
	for (p++; *p && f < idx; p++)
		if (*p == ' ')
			f++;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (uint64_t)(*p++ - '0');
	return v;
}

void os_proc_figures(struct os_figures *f)
{
	char buf[4096];

	*f = (struct os_figures){ 0 };
	if (os_read_small("/proc/self/stat", buf, sizeof buf) > 0) {
		f->minflt = stat_field(buf, 10);
		f->majflt = stat_field(buf, 12);
		f->rss = stat_field(buf, 24) * (uint64_t)sysconf(_SC_PAGESIZE);
	}
	if (os_read_small("/proc/self/smaps_rollup", buf, sizeof buf) > 0) {
		const char *p = strstr(buf, "AnonHugePages:");
		if (p) {
			for (p += 14; *p == ' '; p++)
				;
			while (*p >= '0' && *p <= '9')
				f->anon_huge = f->anon_huge * 10 + (uint64_t)(*p++ - '0');
			f->anon_huge *= 1024;
		}
	}
}

void os_rusage(uint64_t *peak_rss, uint64_t *minflt, uint64_t *majflt)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		ru = (struct rusage){ 0 };
	*peak_rss = (uint64_t)ru.ru_maxrss * 1024;
	*minflt = (uint64_t)ru.ru_minflt;
	*majflt = (uint64_t)ru.ru_majflt;
}

int os_pagemap(const void *addr, uint64_t *entry)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	ssize_t n = (ssize_t)syscall(SYS_pread64, fd, entry, sizeof *entry, (off_t)((uintptr_t)addr / page * sizeof *entry));
	int err = errno;
	syscall(SYS_close, fd);
	if (n != (ssize_t)sizeof *entry)
		return n < 0 ? err : EIO;
	return 0;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static int sys_result(long r)
{
	return r < 0 ? errno : 0;
}

int os_reserve(size_t size, size_t align, void **out)
{
	/* Over-reserve by the alignment, then trim both ends. Inaccessible private
	 * memory is not charged to the commit limit; without MAP_NORESERVE, making part
	 * of it writable (os_commit) is, and is refused as the kernel would refuse
	 * glibc's mmap of that size (overcommit policy, RLIMIT_DATA). */
	size_t total = size + align;
	char *p = os_raw_mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return errno;
	char *start = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (start > p)
		os_raw_munmap(p, (size_t)(start - p));
	if (start + size < p + total)
		os_raw_munmap(start + size, (size_t)(p + total - (start + size)));
	*out = start;
	return 0;
}

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

int os_map_hugetlb(void *addr, size_t len, size_t page)
{
	int log2 = page == ((size_t)1 << 30) ? 30 : 21;
	/* No MAP_NORESERVE: the kernel must reserve the pages at mmap time. */
	void *p = os_raw_mmap(addr, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_HUGETLB |
			       (log2 << MAP_HUGE_SHIFT), -1, 0);
	if (p == MAP_FAILED) {
		int err = errno;
		/* MAP_FIXED may have replaced part of the reservation before failing: make
		 * sure the range is reserved (and inaccessible) again. */
		void *q = os_raw_mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		(void)q;
		return err;
	}
	return 0;
}

/* A count from a hugetlb sysfs file; 0 when it cannot be read. */
static uint64_t hugetlb_count(const char *path)
{
	uint64_t v = os_read_u64(path);

	return v == UINT64_MAX ? 0 : v;
}

bool os_hugetlb_reserved(size_t page)
{
	return hugetlb_count(page == ((size_t)1 << 30)
			     ? "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"
			     : "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages") > 0;
}

uint64_t os_hugetlb_free(void)
{
	/* Free pages include those promised to hugetlb mappings not yet touched. */
	uint64_t free = hugetlb_count("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
	uint64_t promised = hugetlb_count("/sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages");

	return free > promised ? free - promised : 0;
}

int os_commit(void *addr, size_t len)
{
	return sys_result(syscall(SYS_mprotect, addr, len, PROT_READ | PROT_WRITE));
}

int os_advise_thp(void *addr, size_t len)
{
	return sys_result(syscall(SYS_madvise, addr, len, MADV_HUGEPAGE));
}

int os_purge(void *addr, size_t len)
{
	return sys_result(syscall(SYS_madvise, addr, len, MADV_DONTNEED));
}

int os_purge_lazy(void *addr, size_t len)
{
	return sys_result(syscall(SYS_madvise, addr, len, MADV_FREE));
}

int os_populate(void *addr, size_t len)
{
	return sys_result(syscall(SYS_madvise, addr, len, MADV_POPULATE_WRITE));
}

bool os_thp_available(void)
{
	char buf[128];

	if (os_read_small("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof buf) <= 0)
		return false;
	/* The chosen mode is in brackets: "always [madvise] never". */
	return strstr(buf, "[always]") || strstr(buf, "[madvise]");
}

int os_numa_nodes(void)
{
	char buf[256];
	int count = 0;

	if (os_read_small("/sys/devices/system/node/online", buf, sizeof buf) <= 0)
		return 1;
	/* "0", "0-3" or "0-1,4-5" */
	for (char *p = buf; *p >= '0' && *p <= '9';) {
		long a = 0, b;
		while (*p >= '0' && *p <= '9')
			a = a * 10 + (*p++ - '0');
		b = a;
		if (*p == '-') {
			b = 0;
			p++;
			while (*p >= '0' && *p <= '9')
				b = b * 10 + (*p++ - '0');
		}
		count += (int)(b - a + 1);
		if (*p == ',')
			p++;
	}
	return count > 0 ? count : 1;
}

size_t os_physical_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

	return pages > 0 && size > 0 ? (size_t)pages * (size_t)size : (size_t)8 << 30;
}

int os_vm_size(uint64_t *vm, uint64_t *data)
{
	char buf[128];
	const char *p = buf;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	if (os_read_small("/proc/self/statm", buf, sizeof buf) <= 0)
		return EIO;
	/* "size resident shared text lib data dt", in pages */
	for (int field = 0; field < 6 && *p; field++) {
		uint64_t v = 0;
		while (*p >= '0' && *p <= '9')
			v = v * 10 + (uint64_t)(*p++ - '0');
		while (*p == ' ')
			p++;
		if (field == 0)
			*vm = v * page;
		else if (field == 5)
			*data = v * page;
	}
	return 0;
}
