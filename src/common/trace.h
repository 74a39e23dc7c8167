/* trace.h: the trace file format, shared by libhmo (the writer) and hmo-report.
 *
 * A trace is one file per process, little-endian:
 *
 *   header      struct hmo_trace_header (magic "HMOTRACE", version, pid, clocks)
 *   records...  each a struct hmo_rec (type, size of the payload) and its payload,
 *               padded with zeros to a multiple of 8 bytes
 *
 * A reader skips the record types it does not know (their size says how far), and
 * stops at a record that runs past the end of the file: a torn last record, as a
 * killed process leaves. Records are written whole by one write(2) of a thread's
 * buffer to a file opened with O_APPEND, so records of different threads never
 * interleave inside one another; across threads they are in flush order, not time
 * order. A STACK record is written before the first event of its own thread that
 * names it, but another thread's event may name it earlier in the file.
 *
 * The version is bumped when a layout changes; readers refuse a major version they
 * do not know. Fields are only ever added at the end of a record, so a reader takes
 * what it knows of a longer record and zeros for a shorter one. */
#ifndef HMO_TRACE_H
#define HMO_TRACE_H

#include <stdint.h>

#define HMO_TRACE_MAGIC "HMOTRACE"
#define HMO_TRACE_VERSION 1

/* The largest record payload a writer produces; a reader treats a larger size as
 * corruption. */
#define HMO_REC_MAX (1u << 20)

struct hmo_trace_header {
	char magic[8];
	uint16_t version;
	uint16_t header_size;	/* sizeof this struct, for later growth */
	uint32_t pid;
	uint32_t ppid;
	uint32_t flags;		/* none yet */
	uint64_t start_ns;	/* CLOCK_MONOTONIC when the trace began */
	uint64_t start_real_ns;	/* CLOCK_REALTIME at the same moment */
};

struct hmo_rec {
	uint16_t type;
	uint16_t flags;		/* none yet */
	uint32_t size;		/* of the payload that follows, before padding */
};

enum hmo_rec_type {
	HMO_REC_PROCESS = 1,	/* struct hmo_rec_process, then exe, cmdline and options */
	HMO_REC_MODULE = 2,	/* struct hmo_rec_module, then the path */
	HMO_REC_STACK = 3,	/* struct hmo_rec_stack, then depth return addresses */
	HMO_REC_EVENT = 4,	/* struct hmo_rec_event */
	HMO_REC_COPY = 5,	/* struct hmo_rec_copy */
	HMO_REC_SAMPLE = 6,	/* struct hmo_rec_sample */
	HMO_REC_COUNTERS = 7,	/* struct hmo_rec_counters, then nfn struct hmo_rec_fn */
	HMO_REC_END = 8,	/* struct hmo_rec_end: the process finished its trace cleanly */
	HMO_REC_CUDA = 9,	/* struct hmo_rec_cuda: a CUDA driver call hmo wrapped */
	/* What the GPU saw (libhmo-cupti, from CUPTI activity records; device clock) */
	HMO_REC_GPU_COPY = 10,	/* struct hmo_rec_gpu_copy */
	HMO_REC_GPU_MEMSET = 11,	/* struct hmo_rec_gpu_memset */
	HMO_REC_GPU_KERNEL = 12,	/* struct hmo_rec_gpu_kernel, then its name */
	HMO_REC_GPU_MEMORY = 13,	/* struct hmo_rec_gpu_memory */
	HMO_REC_GPU_API = 14,	/* struct hmo_rec_gpu_api */
	HMO_REC_GPU_INFO = 15,	/* struct hmo_rec_gpu_info */
	HMO_REC_POOL = 16,	/* struct hmo_rec_pool */
};

/* The functions hmo counts. Their numbers are part of the format: new ones go at
 * the end. */
enum hmo_fn {
	FN_MALLOC, FN_CALLOC, FN_REALLOC, FN_REALLOCARRAY, FN_FREE, FN_FREE_SIZED,
	FN_FREE_ALIGNED_SIZED, FN_POSIX_MEMALIGN, FN_ALIGNED_ALLOC, FN_MEMALIGN, FN_VALLOC,
	FN_PVALLOC, FN_MALLOC_USABLE_SIZE,
	FN_MMAP, FN_MMAP64, FN_MUNMAP, FN_MREMAP,
	FN_MEMCPY, FN_MEMMOVE, FN_MEMSET, FN_MEMCPY_CHK, FN_MEMMOVE_CHK, FN_MEMSET_CHK,
	FN_COUNT
};

/* The CUDA driver functions hmo wraps, by the name the driver exports (cuMemAlloc_v2
 * for HMO_CUOP_MEM_ALLOC). Their numbers are part of the format: new ones go at the end. */
enum hmo_cu_op {
	HMO_CUOP_INIT, HMO_CUOP_MEM_ALLOC, HMO_CUOP_MEM_FREE, HMO_CUOP_MEM_ALLOC_HOST, HMO_CUOP_MEM_HOST_ALLOC, HMO_CUOP_MEM_FREE_HOST,
	HMO_CUOP_HTOD, HMO_CUOP_DTOH, HMO_CUOP_HTOD_ASYNC, HMO_CUOP_DTOH_ASYNC, HMO_CUOP_2D, HMO_CUOP_2D_ASYNC,
	HMO_CUOP_RANGE, HMO_CUOP_PTR_ATTR, HMO_CUOP_MEM_INFO, HMO_CUOP_IPC_GET, HMO_CUOP_STREAM_CREATE, HMO_CUOP_STREAM_CREATE_PRIO,
	HMO_CUOP_CTX_DESTROY, HMO_CUOP_PRIMARY_RESET, HMO_CUOP_PRIMARY_RELEASE, HMO_CUOP_PTR_ATTRS,
	HMO_CUOP_MEM_ALLOC_ASYNC, HMO_CUOP_MEM_FREE_ASYNC, HMO_CUOP_MEM_ALLOC_MANAGED, HMO_CUOP_MEM_CREATE, HMO_CUOP_MEM_MAP,
	HMO_CUOP_GPA, HMO_CUOP_GPA2,
	HMO_CUOP_MEM_ALLOC_PITCH, HMO_CUOP_ARRAY_CREATE, HMO_CUOP_ARRAY3D_CREATE, HMO_CUOP_CTX_DESTROY_V1, HMO_CUOP_PRIMARY_RESET_V1,
	HMO_CUOP_PRIMARY_RELEASE_V1, HMO_CUOP_BEGIN_CAPTURE, HMO_CUOP_BEGIN_CAPTURE_TO_GRAPH, HMO_CUOP_END_CAPTURE,
	HMO_CUOP_PRIMARY_RETAIN, HMO_CUOP_BEGIN_CAPTURE_V1, HMO_CUOP_MEM_ALLOC_FROM_POOL,
	HMO_CUOP_COUNT
};

/* Process: what ran and with which options. The strings follow in this order, each
 * of the given length (cmdline's arguments are separated by NULs; options is the
 * HMO_* assignments in force, one per line). */
struct hmo_rec_process {
	uint64_t threshold;	/* HMO_THRESHOLD: what counts as large */
	uint64_t copy_min;	/* HMO_TRACE_COPY_MIN */
	uint32_t exe_len, cmdline_len, options_len;
	uint32_t backtrace_depth;
};

/* One loaded object: [start, end) of its mapped segments, and the load bias that
 * turns an address into the file's own addresses. A new generation (after dlopen
 * or dlclose) lists every object again. */
struct hmo_rec_module {
	uint64_t start, end, bias;
	uint32_t generation;
	uint32_t path_len;
};

/* An interned call stack: the return addresses, innermost first, hmo's own frames
 * removed. Ids start at 1; 0 means no stack. */
struct hmo_rec_stack {
	uint32_t id;
	uint32_t depth;
};

/* Where a large allocation's memory came from. */
enum hmo_outcome {
	HMO_OUT_NONE,		/* not an allocation, or forwarded with the pool off */
	HMO_OUT_POOL_HIT,	/* served by the pool from memory it had mapped before */
	HMO_OUT_POOL_MISS,	/* served by the pool from newly mapped memory */
	HMO_OUT_FALLBACK,	/* the pool could not serve it: the program's allocator did */
	HMO_OUT_FAILED,		/* the call failed (NULL, MAP_FAILED, -1) */
};

enum hmo_backing { HMO_BACK_NONE, HMO_BACK_HUGETLB, HMO_BACK_THP, HMO_BACK_4K };

/* A large allocation, a free of a pool block, or an mmap-family call. For realloc
 * and mremap, `old` is the old address; for munmap, `addr` is what was unmapped. */
struct hmo_rec_event {
	uint64_t t;		/* CLOCK_MONOTONIC ns at the call */
	uint64_t dur;		/* ns the call took */
	uint64_t size;
	uint64_t addr;
	uint64_t old;
	uint32_t tid;
	uint32_t stack;
	uint8_t fn;		/* enum hmo_fn */
	uint8_t outcome;	/* enum hmo_outcome */
	uint8_t backing;	/* enum hmo_backing */
	int8_t node;		/* NUMA node of a pool block, -1 when unknown */
	uint32_t pad;
};

/* A copy (memcpy, memmove, memset and their _chk forms) of at least
 * HMO_TRACE_COPY_MIN bytes. */
struct hmo_rec_copy {
	uint64_t t, dur, size, dst, src;
	uint32_t tid, stack;
	uint8_t fn;
	uint8_t pad[7];
};

/* The time series, every HMO_INTERVAL: from /proc/self/stat and smaps_rollup, and
 * the pool's own figures. */
struct hmo_rec_sample {
	uint64_t t;
	uint64_t rss;
	uint64_t minflt, majflt;
	uint64_t anon_huge;	/* AnonHugePages */
	uint64_t pool_live, pool_cached;
};

/* Every thread's counters at exit, or at its own exit: the same figures as the
 * summary, per function. */
#define HMO_TRACE_BUCKETS 65
struct hmo_rec_fn {
	uint32_t fn;
	uint32_t pad;
	uint64_t calls, bytes, large_calls, large_bytes;
	uint64_t hist[HMO_TRACE_BUCKETS];	/* calls by log2 size (hist.h) */
	uint64_t lat_samples;			/* small calls timed (1 in HMO_SAMPLE) */
	uint64_t lat_hist[HMO_TRACE_BUCKETS];	/* their durations by log2 ns */
};

struct hmo_rec_counters {
	uint32_t tid;		/* 0 for the whole process */
	uint32_t nfn;
};

/* A CUDA driver call: its API time on the host, the bytes it allocated or moved, the
 * device or host pointer it concerned. */
enum { HMO_CUDA_STAGED = 1, HMO_CUDA_POOL_HIT = 2, HMO_CUDA_POOL_NEW = 4, HMO_CUDA_REGISTERED = 8 };
struct hmo_rec_cuda {
	uint64_t t, dur, size, ptr;
	uint32_t tid, stack;
	uint16_t op;		/* enum hmo_cu_op */
	uint8_t flags;		/* HMO_CUDA_* */
	uint8_t pad;
	int32_t result;		/* the CUresult it returned */
};

/* GPU activity. Times are CUPTI's timestamps (ns); durations are what the report
 * uses, and correlation ids join device work to the API call that asked for it. */
enum hmo_gpu_dir { HMO_GPU_HTOD = 1, HMO_GPU_DTOH, HMO_GPU_DTOD, HMO_GPU_HTOH, HMO_GPU_PTOP, HMO_GPU_OTHER };
enum hmo_gpu_mem { HMO_GPU_MEM_UNKNOWN, HMO_GPU_MEM_PAGEABLE, HMO_GPU_MEM_PINNED, HMO_GPU_MEM_DEVICE,
		   HMO_GPU_MEM_MANAGED, HMO_GPU_MEM_ARRAY };

struct hmo_rec_gpu_copy {
	uint64_t start, end, bytes;
	uint32_t correlation, stream, device;
	uint8_t dir;		/* enum hmo_gpu_dir */
	uint8_t src, dst;	/* enum hmo_gpu_mem */
	uint8_t async;
};

struct hmo_rec_gpu_memset {
	uint64_t start, end, bytes;
	uint32_t correlation, stream, device, value;
	uint8_t mem;		/* enum hmo_gpu_mem */
	uint8_t pad[7];
};

struct hmo_rec_gpu_kernel {
	uint64_t start, end;
	uint32_t correlation, stream, device;
	uint32_t name_len;
};

enum { HMO_GPU_ALLOC = 1, HMO_GPU_FREE = 2 };
struct hmo_rec_gpu_memory {
	uint64_t t, address, bytes;
	uint32_t correlation, device;
	uint8_t op;		/* HMO_GPU_ALLOC or HMO_GPU_FREE */
	uint8_t mem;		/* enum hmo_gpu_mem */
	uint8_t pad[6];
};

enum { HMO_GPU_API_RUNTIME = 1, HMO_GPU_API_DRIVER = 2 };
struct hmo_rec_gpu_api {
	uint64_t start, end;
	uint32_t correlation, cbid, tid;
	uint8_t domain;		/* HMO_GPU_API_* */
	uint8_t pad[3];
};

/* The collector's own figures, at its flushes and at exit. */
struct hmo_rec_gpu_info {
	uint64_t dropped;	/* activity records CUPTI could not buffer */
	uint32_t cupti_version;
	uint32_t pad;
};

/* Why the frame pool put fresh frames on the pages it did. */
enum hmo_pool_why {
	HMO_WHY_FORCED = 1,	/* HMO_HUGEPAGES named the backing */
	HMO_WHY_NO_THP,		/* transparent huge pages are disabled on this system */
	HMO_WHY_LIMITED,	/* a cgroup memory limit: 4 KiB pages, no huge-page tails */
	HMO_WHY_REPORTING,	/* free page reporting: freed huge pages go back to the host */
	HMO_WHY_THP_CHEAP,	/* fresh huge pages measured at most 1.25x 4 KiB pages' cost */
	HMO_WHY_THP_COSTLY,	/* fresh huge pages measured dearer than that */
	HMO_WHY_UNMEASURED,	/* the rates could not be measured: THP, as without a probe */
};

enum { HMO_POOL_MEASURED_NOW = 1, HMO_POOL_FREE_PAGE_REPORTING = 2 };

/* The frame pool's choice of pages, written once when it starts. Frames go to
 * reserved hugetlb pages first when hugetlb_page is set, and to `backing` (THP or
 * 4 KiB pages) otherwise or once those run out. */
struct hmo_rec_pool {
	uint64_t t;
	uint64_t hugetlb_page;	/* 2 MiB or 1 GiB; 0 when hugetlb pages are not used */
	uint32_t backing;	/* enum hmo_backing: HMO_BACK_THP or HMO_BACK_4K */
	uint32_t why;		/* enum hmo_pool_why */
	uint32_t thp_mbps;	/* first touch of fresh huge pages, MB/s; 0: not measured */
	uint32_t small_mbps;	/* the same on 4 KiB pages; 0: not measured */
	uint32_t flags;		/* HMO_POOL_* */
	uint32_t hugetlb_free;	/* reserved 2 MiB hugetlb pages free when the pool started */
};

enum hmo_end_how { HMO_END_EXIT = 1, HMO_END__EXIT = 2, HMO_END_SIGNAL = 3 };

struct hmo_rec_end {
	uint64_t t;
	uint32_t how;		/* enum hmo_end_how */
	int32_t status;		/* exit status, or the signal */
	uint64_t dropped;	/* records lost (a full disk, a failed write) */
};

#endif
