/* os.h: the system calls under the frame pool.
 *
 * The pool (pool.c) decides; these functions only talk to the kernel, with raw
 * system calls so that nothing here re-enters hmo's hooks. Each returns 0 on
 * success or an errno value, as mimalloc's prim layer does. */
#ifndef HMO_PRELOAD_OS_H
#define HMO_PRELOAD_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#pragma GCC visibility push(hidden)

/* Reserves `size` bytes of address space aligned to `align`, inaccessible and
 * not charged to the commit limit until os_commit makes part of it writable. */
int os_reserve(size_t size, size_t align, void **out);
/* Maps hugetlb pages of `page` bytes (2 MiB or 1 GiB) read-write over
 * [addr, addr+len) of a reservation. The pages are taken now: ENOMEM when there are
 * not enough, never a SIGBUS later. */
int os_map_hugetlb(void *addr, size_t len, size_t page);
/* Whether the system has hugetlb pages of `page` bytes reserved (nr_hugepages > 0). */
bool os_hugetlb_reserved(size_t page);
/* Reserved hugetlb pages of 2 MiB that are free and not promised to a mapping
 * (free_hugepages less resv_hugepages); 0 when none or unreadable. */
uint64_t os_hugetlb_free(void);
/* Whether the kernel hands free memory back to the hypervisor (a virtio balloon
 * offering free page reporting, feature bit 5). `driver_dir` is the virtio_balloon
 * driver's sysfs directory (another one in the unit tests). */
bool os_free_page_reporting(const char *driver_dir);
#define OS_BALLOON_DIR "/sys/bus/virtio/drivers/virtio_balloon"
/* Makes [addr, addr+len) of a reservation readable and writable. */
int os_commit(void *addr, size_t len);
/* Asks for transparent huge pages on the range (MADV_HUGEPAGE). */
int os_advise_thp(void *addr, size_t len);
/* Gives the physical pages back; the range reads as zeros afterwards. */
int os_purge(void *addr, size_t len);
/* Faults the range in now (MADV_POPULATE_WRITE; ENOSYS/EINVAL before Linux 5.14). */
int os_populate(void *addr, size_t len);
/* Whether THP can be had with madvise: the mode in
 * /sys/kernel/mm/transparent_hugepage/enabled is "always" or "madvise". */
bool os_thp_available(void);
/* NUMA nodes online (/sys/devices/system/node/online), at least 1. */
int os_numa_nodes(void);
/* Physical memory in bytes. */
size_t os_physical_memory(void);

/* The memory limit of the process's cgroup: the smallest memory.max or memory.high
 * (v2) or memory.limit_in_bytes (v1) of its group and the groups above it, and
 * where the limiting group's usage and pressure are read. */
struct os_memlimit {
	uint64_t limit;		/* bytes; 0 when no group limits the process */
	char stat[512];		/* the limiting group's memory.stat */
	bool v2;
	char pressure[512];	/* the group's memory.pressure, or /proc/pressure/memory */
};
void os_memory_limit(struct os_memlimit *m);
/* The same from another /proc/self/cgroup and cgroup mount point (the unit tests). */
void os_memory_limit_at(struct os_memlimit *m, const char *proc_cgroup, const char *sysfs);
/* Reads up to cap-1 bytes of a small file, NUL-terminated; the length or -1. */
ssize_t os_read_small(const char *path, char *buf, size_t cap);
/* The group's anonymous memory (v2 "anon", v1 "total_rss"): what it cannot reclaim
 * without swap. Page cache is left out: the kernel takes it back by itself.
 * UINT64_MAX when it cannot be read. */
uint64_t os_memory_anon(const struct os_memlimit *m);
/* The process's address space and its data part (with the stack), in bytes, from
 * /proc/self/statm. */
int os_vm_size(uint64_t *vm, uint64_t *data);
/* A file's first decimal number; UINT64_MAX when it cannot be read or says "max". */
uint64_t os_read_u64(const char *path);
/* The "some avg10" of a PSI file, in hundredths of a percent; -1 without one. */
int os_pressure_avg10(const char *path);
/* Lets the kernel take the pages when it needs memory (MADV_FREE); until then they
 * keep their contents and a write takes them back without a fault. */
int os_purge_lazy(void *addr, size_t len);

#pragma GCC visibility pop

#endif
