/* os.h: the system calls under the frame pool.
 *
 * The pool (pool.c) decides; these functions only talk to the kernel, with raw
 * system calls so that nothing here re-enters hmo's hooks. Each returns 0 on
 * success or an errno value, as mimalloc's prim layer does. */
#ifndef HMO_PRELOAD_OS_H
#define HMO_PRELOAD_OS_H

#include <stdbool.h>
#include <stddef.h>

#pragma GCC visibility push(hidden)

/* Reserves `size` bytes of address space aligned to `align`, inaccessible and
 * uncommitted (PROT_NONE, MAP_NORESERVE). */
int os_reserve(size_t size, size_t align, void **out);
/* Maps hugetlb pages of `page` bytes (2 MiB or 1 GiB) read-write over
 * [addr, addr+len) of a reservation. The pages are taken now: ENOMEM when there are
 * not enough, never a SIGBUS later. */
int os_map_hugetlb(void *addr, size_t len, size_t page);
/* Whether the system has hugetlb pages of `page` bytes reserved (nr_hugepages > 0). */
bool os_hugetlb_reserved(size_t page);
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

#pragma GCC visibility pop

#endif
