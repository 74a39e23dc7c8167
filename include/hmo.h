/* hmo.h: the explicit API of libhmo.so.
 *
 * A program that wants control over its frames asks libhmo for them here; a program
 * that only preloads libhmo gets the same pool and the same statistics without
 * asking. Linking with -lhmo (pkg-config --cflags --libs hmo) and preloading
 * libhmo.so.0 give one library and one state.
 *
 * Every function returns 0 (or a value) on success, and on failure a negative errno
 * value, with errno set to the same (positive) value. See hmo(3). */
#ifndef HMO_H
#define HMO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HMO_VERSION_MAJOR 0
#define HMO_VERSION_MINOR 1
#define HMO_VERSION_PATCH 0
#define HMO_VERSION ((HMO_VERSION_MAJOR * 10000) + (HMO_VERSION_MINOR * 100) + HMO_VERSION_PATCH)

/* ---- frames from the pool ------------------------------------------------------ */

/* Any node: where the calling thread runs (HMO_NUMA's local placement). */
#define HMO_NODE_ANY (-1)

/* hmo_alloc flags. */
#define HMO_ALLOC_PREFAULT 0x1u	/* populate the pages now, not at first touch */
#define HMO_ALLOC_ZERO 0x2u	/* zeroed memory (fresh memory is zero already) */
/* The backing, where the default (hugetlb pages when some are reserved, else
 * transparent huge pages, as HMO_HUGEPAGES says) will not do: */
#define HMO_ALLOC_HUGETLB 0x4u	/* hugetlb pages or nothing: ENOMEM when too few are left */
#define HMO_ALLOC_NO_HUGETLB 0x8u /* leave the reserved hugetlb pages to others */

/* How a buffer's memory is backed. */
enum hmo_buffer_backing { HMO_BACKING_HUGETLB = 1, HMO_BACKING_THP = 2, HMO_BACKING_SMALL_PAGES = 3 };

struct hmo_buffer {
	void *addr;	/* NULL when hmo_alloc failed */
	size_t size;	/* what was asked for */
	int node;	/* the NUMA node it was placed on; HMO_NODE_ANY when not bound */
	int backing;	/* enum hmo_buffer_backing */
};

/* A buffer of `size` bytes, page-aligned (2 MiB-aligned from 2 MiB), from hmo's frame
 * pool, on `node` (or HMO_NODE_ANY). On failure addr is NULL and errno says why:
 * EINVAL (size 0, unknown flags, both backing flags, a node that does not exist),
 * ENOMEM (out of memory, or no hugetlb page left for HMO_ALLOC_HUGETLB). */
struct hmo_buffer hmo_alloc(size_t size, int node, unsigned flags);
/* Gives a buffer back to the pool. -EINVAL for a buffer hmo_alloc did not make, or
 * one already given back. */
int hmo_free(struct hmo_buffer *buf);

/* ---- caches ------------------------------------------------------------------------ */

/* Loads [addr, addr+len) towards the CPU's caches (software prefetch). */
int hmo_prefetch(const void *addr, size_t len);
/* Writes [addr, addr+len) back from every cache level to memory and evicts it
 * (clflushopt where the CPU has it, else clflush), then fences. */
int hmo_flush(const void *addr, size_t len);

/* ---- copies --------------------------------------------------------------------------- */

/* Copies len bytes with non-temporal stores where that beats memcpy (large copies,
 * which would otherwise evict the caches), chosen at run time from the CPU (AVX-512,
 * AVX2, SSE2); below that, memcpy. -EINVAL for NULL or overlapping ranges. */
int hmo_copy_stream(void *dst, const void *src, size_t len);

/* A copy whose destination is placed on dst_node: the whole pages inside
 * [dst, dst+len) are bound there (pages already there are moved), then the bytes are
 * copied as hmo_copy_stream copies them. src_node says where the source is (it is
 * only checked: the source is never moved). -EINVAL for NULL or overlapping ranges,
 * or a node that does not exist. */
int hmo_copy_numa(void *dst, const void *src, size_t len, int src_node, int dst_node);

/* Queues a copy for the engine's HMO_COPY_THREADS workers, which take queued copies
 * earliest deadline first (deadline: any clock, in any unit, as long as the caller
 * is consistent; CLOCK_MONOTONIC ns fits). Copies of 8 MiB and more are split across
 * the workers; copies of up to 256 KiB are made at once, by the caller. Returns a
 * handle (> 0), or a negative errno: -EINVAL for NULL or overlapping ranges. The
 * ranges must stay valid until hmo_copy_wait returns. */
int64_t hmo_copy_async(void *dst, const void *src, size_t len, uint64_t deadline);
/* Waits until the copy is done, then forgets the handle: -EINVAL for a handle that is
 * unknown or was waited on already. */
int hmo_copy_wait(int64_t handle);

/* ---- physical addresses ------------------------------------------------------------- */

/* The physical address of addr, through /proc/self/pagemap. -EPERM when the kernel
 * hides frame numbers (a process without CAP_SYS_ADMIN): never a wrong number.
 * -ENOENT when the page is not resident. */
int hmo_phys_addr(const void *addr, uint64_t *phys);

/* ---- shared memory between processes -------------------------------------------- */

#define HMO_SHM_NAME_MAX 200
/* hmo_shm_create flags. */
#define HMO_SHM_HUGE 0x1u	/* on hugetlb pages where /dev/hugepages has them */

struct hmo_shm {
	void *addr;
	size_t size;
	int fd;
	int huge;			/* 1 when on hugetlb pages */
	char name[HMO_SHM_NAME_MAX + 1];
};

/* Creates a segment of `size` bytes named `name` (letters, digits, '-', '_', '.';
 * no slash), mapped shared. -EEXIST when the name is taken, -EINVAL for a bad name
 * or size. */
int hmo_shm_create(const char *name, size_t size, unsigned flags, struct hmo_shm *out);
/* Maps an existing segment. -ENOENT when there is none by that name. */
int hmo_shm_open(const char *name, struct hmo_shm *out);
/* Unmaps the segment; with unlink, also removes its name (the memory goes once
 * every process has closed it). */
int hmo_shm_close(struct hmo_shm *shm, int unlink);

/* ---- statistics ------------------------------------------------------------------------ */

struct hmo_stats {
	/* The malloc family, every call (under hmo, or linked without LD_PRELOAD). */
	uint64_t alloc_calls, alloc_bytes;	/* bytes asked for */
	uint64_t free_calls;
	/* Frames: the blocks of HMO_THRESHOLD and more that the frame pool serves,
	 * hmo_alloc's buffers included. Bytes are the usable sizes. */
	uint64_t frames, frames_reused;		/* served, and served from reused memory */
	uint64_t frame_fallbacks;		/* frames the pool could not serve */
	uint64_t frames_freed, live_frames;	/* given back, and not yet */
	uint64_t frame_bytes, frame_bytes_freed;
	uint64_t pool_live_bytes, pool_peak_bytes, pool_mapped_bytes;
	double pool_hit_rate;			/* frames_reused / frames */
	uint64_t frame_bytes_reused;		/* bytes served from reused memory */
	double pool_saved_share;		/* frame_bytes_reused / frame_bytes: the share of
						   frame memory that needed no fresh page */
	uint64_t faults_avoided;		/* estimated: 4 KiB pages of reused frames */
	/* Copies the program made: memcpy, memmove, memset and their _chk forms. */
	uint64_t copy_calls, copy_bytes;
	uint64_t large_copy_calls, large_copy_bytes, large_copy_ns; /* those of HMO_THRESHOLD and more */
	double large_copy_gbps;			/* their bandwidth (each thread's first call, made
						   before hmo knows the thread, is not timed) */
	/* Copies through this API (hmo_copy_stream, hmo_copy_numa, hmo_copy_async):
	 * ns is the time spent copying, summed over the threads that copied. */
	uint64_t api_copy_calls, api_copy_bytes, api_copy_ns;
	double api_copy_gbps;			/* api_copy_bytes / api_copy_ns */
};

/* The figures of the exit summary, now, for a struct of `size` bytes: fields that a
 * newer libhmo adds are never written past it. -EINVAL for NULL or a size smaller
 * than the first version's; -EBUSY while another thread is reading them. Call it as
 * hmo_stats(&s). */
int hmo_stats_sized(struct hmo_stats *out, size_t size);
static inline int hmo_stats(struct hmo_stats *out)
{
	return hmo_stats_sized(out, sizeof *out);
}

#ifdef __cplusplus
}
#endif

#endif
