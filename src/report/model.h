/* model.h: what hmo-report keeps of the traces it streams.
 *
 * Everything here is an aggregate: per process, per function, per call site, per
 * size class; histograms for latency and bandwidth. Nothing grows with the number
 * of events: only with distinct call stacks, loaded objects and the large blocks
 * live at one time in the trace being read (kept to find those never freed).
 *
 * Processes: the MODEL_PROCS_KEPT of highest peak RSS are kept whole (their row in
 * the report, their own call sites and modules); one more pushes the lowest out, and
 * it is folded: its call sites are merged by their frames into the folded sites (of
 * the pseudo-process MODEL_FOLDED, whose modules are the folded processes' objects
 * at addresses of their own), its figures into the totals. What stays of every
 * process is a struct proc_key of some 150 bytes: exec detection and the advice
 * about one process need it. */
#ifndef HMO_REPORT_MODEL_H
#define HMO_REPORT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/trace.h"

/* Log-linear histogram of durations or rates: 8 steps per power of two, so a
 * percentile read from it is within 9% of the true value. */
#define LH_BUCKETS (64 * 8)
struct lhist {
	uint64_t n, min, max, sum;
	uint64_t b[LH_BUCKETS];
};
void lh_add(struct lhist *h, uint64_t v);
void lh_merge(struct lhist *into, const struct lhist *from);
/* The value at quantile q (0..1), by nearest rank: the middle of its bucket, kept
 * within the smallest and largest value seen. */
uint64_t lh_quantile(const struct lhist *h, double q);

/* A loaded object of one process. The path is the model's one copy of it: a path
 * named by many records or processes is kept once. */
struct module {
	uint64_t start, end, bias;
	const char *path;
};

/* One call site: an interned stack of one process, and what happened there. */
struct site {
	uint32_t proc, id;			/* proc: MODEL_FOLDED for a folded site */
	uint32_t pid;				/* its process's; a folded site's first one */
	uint32_t procs;				/* the processes folded into it, or 0 */
	uint32_t index;				/* 0 to nsites - 1, in the order first seen */
	uint32_t depth;
	uint64_t *pcs;
	uint64_t allocs, alloc_bytes, faults;	/* large allocations; estimated page faults */
	uint64_t pool_hits, pool_new;		/* of those, served from reused or new pool memory */
	uint64_t copies, copy_bytes, copy_ns;
	uint64_t leaked, leaked_bytes;		/* pool blocks from here still live at the end */
	struct lhist *copy_rate;		/* MB/s of its copies, made on demand */
	uint8_t fn;				/* the function most of its events called */
};

/* Per function, from the events (large allocations, frees, maps) and copies. */
struct fn_events {
	uint64_t count, bytes;
	uint64_t outcome[8];			/* enum hmo_outcome */
	uint64_t outcome_bytes[8];
	uint64_t backing_bytes[4];		/* enum hmo_backing */
	uint64_t node_bytes[65];		/* index node+1: 0 is unknown */
	struct lhist lat;			/* ns */
};

/* Copies by log2 size class. */
struct copy_class {
	uint64_t count, bytes, ns;
	struct lhist rate;			/* MB/s */
};

/* A point of the time series, kept for plots: at most SERIES_MAX per process, every
 * stride-th sample once there are more. */
#define SERIES_MAX 2048
struct point {
	uint64_t t, rss, anon_huge, pool_live, pool_cached, minflt;
};

/* A process's counters of one function, for --openmetrics's samples. */
struct proc_fn {
	uint64_t calls, bytes, large_calls, large_bytes;
};

/* A process's CUDA records, for --openmetrics (the model's cuda[] is of every
 * process together). */
struct proc_cuda {
	uint64_t calls[HMO_CUOP_COUNT], bytes[HMO_CUOP_COUNT], errors[HMO_CUOP_COUNT];
	uint64_t dev_pool[2], pinned_pool[2];	/* served by hmo's pools (0) or the driver (1) */
	uint64_t staged[2];			/* bytes of staged 1D copies: htod, dtoh */
	bool staged_2d;				/* some staged copy was 2D (its bytes are not the span staged) */
};

struct proc {
	uint32_t pid, ppid;
	char *exe, *cmdline, *options;		/* cmdline with spaces between arguments */
	uint32_t argv0_len;			/* the length of argv[0] at the start of cmdline */
	uint64_t threshold, copy_min;
	uint32_t depth;
	uint64_t start_ns, start_real_ns, last_ns;
	bool ended;
	size_t exec_next;			/* nonzero when it became another program
						 * by exec (see find_execs) */
	const char *exec_exe;			/* that program's exe */
	uint64_t seq;				/* its place in the order traces were read */
	struct hmo_rec_end end;
	struct hmo_rec_pool pool;		/* the pool's choice of pages; why 0: none */
	uint64_t samples, peak_rss, min_minflt, minflt, majflt, peak_anon_huge, peak_pool_live,
		peak_pool_cached;
	bool counted;				/* a COUNTERS record was seen */
	/* from its counters: malloc-family calls in the two log2 buckets below its
	 * threshold, and its large calls (report.c's unpooled sizes) */
	uint64_t unpooled, pooled;
	struct site **sites;			/* its call sites, open addressing on id */
	size_t nsites, capsites;
	uint64_t frames[3];			/* large allocations the pool served from reused
						 * memory, from fresh memory, or left to the
						 * program's allocator (the events' outcomes) */
	struct proc_cuda *cuda;			/* made at its first CUDA record */
	struct proc_fn fn[FN_COUNT];		/* its counters summed over threads */
	struct module *mods;			/* in the order first seen */
	size_t nmods, capmods;
	uint32_t *modset;			/* 1 + index into mods, open addressing on
						 * (start, path): a record seen before is dropped */
	size_t capmodset;
	struct point *series;
	size_t nseries, capseries, stride, seen;
	uint64_t records;
	char *source;				/* the file it came from */
	bool partial;				/* the file was cut short */
};

/* Per CUDA driver function, from HMO_REC_CUDA records. */
struct cuda_stats {
	uint64_t count, bytes, errors, staged, staged_bytes, pool_hits, pool_new;
	struct lhist lat;	/* API time, ns */
	uint64_t ns;
};

/* What the GPU saw (CUPTI): copies by direction, host memory kind and log2 size. */
struct gpu_copies {
	uint64_t count, bytes, ns;
	struct lhist dur;	/* device ns */
};
#define GPU_DIRS 7
#define GPU_MEMS 6
/* An API call and its device work, joined by correlation id (a bounded table: an
 * entry is overwritten by a later id that lands on it). */
struct gpu_join { uint32_t corr; uint8_t dir, mem, have_api, have_dev; uint64_t api_ns, dev_ns; };
#define GPU_JOIN (1u << 16)
struct gpu {
	struct gpu_copies *copies[GPU_DIRS][GPU_MEMS][65];	/* made on first use */
	uint64_t api_ns[GPU_DIRS][GPU_MEMS], dev_ns[GPU_DIRS][GPU_MEMS], joined[GPU_DIRS][GPU_MEMS];
	struct gpu_join *join;
	uint64_t sync_copies, sync_bytes;	/* copies that were not asynchronous */
	uint64_t memsets, memset_bytes, memset_ns;
	uint64_t kernels, kernel_ns;
	uint64_t allocs[GPU_MEMS], alloc_bytes[GPU_MEMS], frees[GPU_MEMS];
	uint64_t dropped, records;
	/* intervals of copies and kernels, for copy/compute overlap: at most GPU_SPANS of
	 * each are kept (the overlap is then of those) */
	struct span { uint64_t a, b; } *copy_spans, *kernel_spans;
	size_t ncopy_spans, nkernel_spans;
	bool spans_cut;
	double overlap;		/* share of copy time that overlapped kernels, after model_finish */
};
#define GPU_SPANS 200000

/* Processes kept whole (see the top of this file). */
#define MODEL_PROCS_KEPT 1000
/* The proc of a folded site, and the slot of a folded process. */
#define MODEL_FOLDED UINT32_MAX

/* What is kept of every process, kept or folded, in the order read. */
struct proc_key {
	uint32_t pid, ppid, slot;		/* slot: its index in procs, or MODEL_FOLDED */
	bool ended, pool_off, exec;		/* pool_off: its options had HMO_POOL=off */
	uint32_t how;				/* enum hmo_end_how */
	uint64_t start_ns, last_ns;
	const char *exe;			/* interned */
	/* what the advice about one process reads (report.c) */
	uint64_t threshold, unpooled, pooled, samples, peak_rss, peak_anon_huge, peak_pool_live, dropped;
	struct hmo_rec_pool pool;
};

/* The folded processes: a pseudo-process for their sites, and their figures. */
struct folded {
	struct proc proc;			/* mods: the folded processes' objects */
	uint32_t *modset;			/* 1 + index into proc.mods, by (path, offset, size) */
	size_t capmodset;
	uint64_t next_base;			/* where the next object goes */
	uint32_t next_id;
	uint64_t count, exits, execs, signals, none, peak_rss, minflt;
};
struct model {
	struct proc *procs;			/* kept whole; in trace order after model_finish */
	size_t nprocs, capprocs;
	uint32_t *heap;				/* slots of procs, the lowest peak RSS first */
	size_t nheap;
	uint32_t *free_slots;			/* of folded processes, to be used again */
	size_t nfree;
	struct proc_key *keys;			/* every process, in the order read */
	size_t nkeys, capkeys;
	struct folded fold;
	/* over every process, kept or folded */
	struct hmo_rec_fn calls[FN_COUNT];	/* counters summed over processes and threads */
	bool counted;				/* some process had counters */
	uint64_t t0, t1, minflt, majflt, peak_rss, peak_pool_live;
	struct fn_events fn[FN_COUNT];
	struct copy_class copies[65];
	struct lhist copy_rate;			/* all copies, MB/s */
	uint64_t copy_count, copy_bytes, copy_ns;
	size_t nsites;				/* sites made: each one's index is below */
	/* live pool blocks of the trace being read, open addressing on (proc, addr):
	 * stack id and size; those left at its end become leaks of their sites */
	struct live { uint64_t key, size; uint32_t proc, stack; } *live;
	size_t nlive, caplive;
	struct cuda_stats cuda[HMO_CUOP_COUNT];
	struct gpu gpu;
	uint64_t cuda_events;
	uint64_t events, large_frees;
	uint64_t files, files_failed, warnings;
	uint64_t time_series;			/* samples seen, all processes */
	char **paths;				/* module paths, interned: open addressing */
	size_t npaths, cappaths;
};

void model_init(struct model *m);
void model_free(struct model *m);
/* Reads one trace file into the model. Returns 0 when something was read; -1 when
 * nothing could be (the reason is printed on stderr). A file cut short gives a
 * warning on stderr and what was read before the cut. */
int model_read(struct model *m, const char *path);
/* After the last file: the kept processes in trace order, exec chains. */
void model_finish(struct model *m);
/* Process I of the sites' proc field: procs[I], or the folded pseudo-process. */
const struct proc *model_proc(const struct model *m, uint32_t i);
/* The site of a process's stack id, or NULL. */
const struct site *model_site(const struct model *m, uint32_t proc, uint32_t id);
/* Every site, for sorting. */
const struct site **model_sites(const struct model *m, size_t *n);

#endif
