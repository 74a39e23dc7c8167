/* os.c: the kernel under the frame pool. See os.h. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "os.h"

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
	char *p = hmo_raw_mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return errno;
	char *start = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (start > p)
		hmo_raw_munmap(p, (size_t)(start - p));
	if (start + size < p + total)
		hmo_raw_munmap(start + size, (size_t)(p + total - (start + size)));
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
	void *p = hmo_raw_mmap(addr, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_HUGETLB |
			       (log2 << MAP_HUGE_SHIFT), -1, 0);
	if (p == MAP_FAILED) {
		int err = errno;
		/* MAP_FIXED may have replaced part of the reservation before failing: make
		 * sure the range is reserved (and inaccessible) again. */
		void *q = hmo_raw_mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
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
