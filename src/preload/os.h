/* os.h: hmo's platform layer, the one place libhmo talks to the kernel for itself.
 *
 * The clock, a stderr writer, memory primitives that are never the hooked memcpy,
 * memset or mmap, small files and /proc, process figures, and the system calls
 * under the frame pool (pool.c decides; these only talk to the kernel). A hook
 * that passes a call on to the kernel (mremap, mbind) makes that call itself. No function
 * here allocates, uses stdio or calls back into hmo, so any hook may call them.
 * Those that can fail return 0 or an errno value. The CPU's own instructions are in
 * arch.h. */
#ifndef HMO_PRELOAD_OS_H
#define HMO_PRELOAD_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#pragma GCC visibility push(hidden)

/* ---- the clock, stderr and memory -------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t os_now_ns(void);
/* One "hmo: ..." line on stderr, with write(2). */
void os_warn(const char *line);
/* write(2) until all is written: 0, or the error (ENOSPC for a write of nothing). */
int os_write_all(int fd, const void *buf, size_t n);
/* Byte loops, for code that must not reach the memcpy/memset hooks (and for before
 * the next definitions are known). */
void *os_memmove(void *dst, const void *src, size_t n);
void *os_memset(void *dst, int c, size_t n);
/* mmap and munmap as system calls, past hmo's own mmap hooks. */
void *os_raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int os_raw_munmap(void *addr, size_t len);

/* ---- small files and /proc --------------------------------------------------- */

/* Reads up to cap-1 bytes of a small file, NUL-terminated; the length or -1. */
ssize_t os_read_small(const char *path, char *buf, size_t cap);
/* A file's first decimal number; UINT64_MAX when it cannot be read or says "max". */
uint64_t os_read_u64(const char *path);
/* The process now (/proc/self/stat and smaps_rollup); zeros where unreadable. */
struct os_figures {
	uint64_t minflt, majflt;
	uint64_t rss;		/* bytes resident */
	uint64_t anon_huge;	/* bytes of it on transparent huge pages */
};
void os_proc_figures(struct os_figures *f);
/* The process so far (getrusage): peak RSS in bytes, minor and major faults. */
void os_rusage(uint64_t *peak_rss, uint64_t *minflt, uint64_t *majflt);
/* The /proc/self/pagemap entry of the page holding addr. */
int os_pagemap(const void *addr, uint64_t *entry);

/* ---- under the frame pool ------------------------------------------------------ */

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
/* The group's anonymous memory (v2 "anon", v1 "total_rss"): what it cannot reclaim
 * without swap. Page cache is left out: the kernel takes it back by itself.
 * UINT64_MAX when it cannot be read. */
uint64_t os_memory_anon(const struct os_memlimit *m);
/* The process's address space and its data part (with the stack), in bytes, from
 * /proc/self/statm. */
int os_vm_size(uint64_t *vm, uint64_t *data);
/* The "some avg10" of a PSI file, in hundredths of a percent; -1 without one. */
int os_pressure_avg10(const char *path);
/* Lets the kernel take the pages when it needs memory (MADV_FREE); until then they
 * keep their contents and a write takes them back without a fault. */
int os_purge_lazy(void *addr, size_t len);

#pragma GCC visibility pop

#endif
