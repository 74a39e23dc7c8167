/* summary.c: the exit summary, the one reader of every subsystem's figures.
 *
 * Written once per process (HMO_STATS), from the destructor or from _exit, so it
 * uses no malloc and no stdio: each line is formatted into a stack buffer and
 * written with write(2). It reads the counters, the frame pool, the copy engine,
 * the mmap hooks' advice and the CUDA layer; none of them reads it. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "../common/hist.h"
#include "../common/fmt.h"
#include "../common/names.h"
#include "../common/pages.h"
#include "../common/path.h"
#include "copyeng.h"
#include "counters.h"
#include "cuda/cuda.h"
#include "mmap.h"
#include "os.h"
#include "pool.h"
#include "process.h"
#include "summary.h"

static int summary_done;

/* A forked child writes its own summary. */
void hmo_summary_child(void)
{
	summary_done = 0;
}

/* Opens the summary file exclusively. When the name is taken (a path without %p
 * shared by a forked child, or a left-over file), PATH.PID is tried next; when that
 * fails too, the summary goes to stderr with one line saying why. */
static int open_summary(void)
{
	char mem[HMO_PATH_MAX + 64];
	struct fmt_buf b;
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd;

	fmt_init(&b, mem, sizeof mem);
	hmo_expand_path(&b, hmo_opt.stats.path);
	fd = open(mem, flags, 0600);
	if (fd < 0 && errno == EEXIST) {
		fmt_char(&b, '.');
		fmt_u64(&b, (uint64_t)getpid());
		fd = open(mem, flags, 0600);
	}
	if (fd < 0) {
		char line[HMO_PATH_MAX + 128];
		struct fmt_buf w;
		fmt_init(&w, line, sizeof line);
		fmt_str(&w, "hmo: cannot create the HMO_STATS file ");
		fmt_shown(&w, mem, SIZE_MAX, FMT_SHOWN_MAX);
		fmt_str(&w, ": ");
		fmt_errno(&w, errno);
		fmt_str(&w, "; writing the summary to stderr");
		os_warn(w.p);
		return 2;
	}
	return fd;
}

/* One line of the summary: spec and its arguments as fmt_add takes them (fmt.h),
 * written out with its newline. The buffer is empty again afterwards. */
static void say(int fd, struct fmt_buf *b, const char *spec, ...)
{
	va_list ap;

	va_start(ap, spec);
	fmt_vadd(b, spec, ap);
	va_end(ap);
	fmt_char(b, '\n');
	os_write_all(fd, b->p, b->len);
	b->len = 0;
	b->p[0] = '\0';
}

/* A line only when n is not zero: prefix, n grouped, suffix. */
static void say_count(int fd, struct fmt_buf *b, const char *prefix, uint64_t n, const char *suffix)
{
	if (n)
		say(fd, b, "%s%G%s", prefix, n, suffix);
}

/* part of whole in tenths of a percent, for "%.1F%%" with a scale of 10. */
static uint64_t permille(uint64_t part, uint64_t whole)
{
	return whole ? part * 1000 / whole : 0;
}

/* The table of calls. Its columns: the name (19 after "hmo: "), calls (14), bytes
 * (20), mean size (11), large calls (12) and their bytes (20); the histogram's
 * ranges take the name's and the first pad's room (36). */
#define TABLE_ROW "hmo: %-19s%14G%20G%11B%12G%20G"

static void emit_hist(int fd, struct fmt_buf *b, const struct hmo_fn_stats *f)
{
	for (unsigned i = 0; i < HMO_HIST_BUCKETS; i++) {
		if (!f->hist[i])
			continue;
		size_t start = b->len;
		if (i == 0)
			fmt_add(b, "hmo:   0");
		else
			fmt_add(b, "hmo:   %B .. %B", hmo_hist_lower(i), hmo_hist_upper(i));
		fmt_pad(b, start, 36, false);
		say(fd, b, "%14G", f->hist[i]);
	}
}

static void emit_calls(int fd, struct fmt_buf *b, const struct hmo_fn_stats tot[FN_COUNT])
{
	char large[32], large_bytes[40];
	struct fmt_buf h;

	fmt_init(&h, large, sizeof large);
	fmt_add(&h, ">=");
	fmt_size_option(&h, hmo_opt.threshold);
	fmt_init(&h, large_bytes, sizeof large_bytes);
	fmt_add(&h, "%s bytes", large);
	say(fd, b, "hmo: %-19s%14s%20s%11s%12s%20s", "call", "calls", "bytes", "mean", large, large_bytes);
	for (int i = 0; i < FN_COUNT; i++) {
		const struct hmo_fn_stats *f = &tot[i];
		uint64_t calls = hmo_hist_total(f->hist);
		if (!calls)
			continue;
		if (!hmo_fn_has_bytes[i]) {
			say(fd, b, "hmo: %-19s%14G", hmo_fn_name((unsigned)i), calls);
			continue;
		}
		say(fd, b, TABLE_ROW, hmo_fn_name((unsigned)i), calls, f->bytes, f->bytes / calls,
		    f->large_calls, f->large_bytes);
		if (hmo_opt.stats_hist)
			emit_hist(fd, b, f);
	}
}

static void emit_copies(int fd, struct fmt_buf *b, const struct hmo_fn_stats tot[FN_COUNT])
{
	struct hmo_large_copies c;

	hmo_large_copies(tot, &c);
	if (!c.calls || !c.ns)
		return;
	fmt_add(b, "hmo: copies of at least ");
	fmt_size_option(b, hmo_opt.threshold);
	say(fd, b, ": %G calls, %B at %.2F GB/s", c.calls, c.bytes, c.timed_bytes, c.ns);
}

/* ---- the frame pool ------------------------------------------------------- */

static void emit_pool_use(int fd, struct fmt_buf *b, const struct pool_stats *p)
{
	say(fd, b, "hmo: frame pool: %G frames served, %G from reused memory (%.1F%%), "
		   "%G fell back to the program's allocator",
	    p->allocs, p->reused, permille(p->reused, p->allocs), (uint64_t)10, p->fallbacks);
	fmt_add(b, "hmo: frame pool: %B mapped in %G extents (", p->extent_bytes, p->extents);
	if (p->hugetlb_page)
		fmt_add(b, "%B on %s hugetlb pages, ", p->hugetlb_bytes, p->hugetlb_page > (2u << 20) ? "1 GiB" : "2 MiB");
	say(fd, b, "%B on transparent huge pages, %B on 4 KiB pages), peak live %B, live at exit %B, released %B",
	    p->thp_bytes, p->small_page_bytes, p->peak_live_bytes, p->live_bytes, p->purged_bytes);
}

/* The NUMA policy the pool's extents were placed by, and where its memory is. */
static void emit_pool_numa(int fd, struct fmt_buf *b, const struct pool_stats *p)
{
	static const char *const pol[] = { "first touch", "preferred", "bound", "interleaved" };

	if (p->numa_mpol || p->place_failures) {
		fmt_add(b, "hmo: frame pool: NUMA: %B %s%s", p->placed_bytes, pol[p->numa_mpol & 3],
			p->nsets > 1 ? " to the allocating thread's node, with an arena per node" : " to node");
		for (int n = 0, first = 1; n < 64; n++) {
			if (p->numa_mask >> n & 1) {
				fmt_add(b, "%s%d", first ? (p->numa_mask & (p->numa_mask - 1) ? "s " : " ") : ",", n);
				first = 0;
			}
		}
		say(fd, b, "; %G extents the kernel would not place", p->place_failures);
	}
	/* Resident memory by node, sampled (live frames and the cache alike). */
	static uint64_t node_bytes[64];
	os_memset(node_bytes, 0, sizeof node_bytes);
	if (pool_residency(node_bytes) > 0) {
		bool any = false;
		fmt_add(b, "hmo: frame pool: resident at exit by NUMA node (sampled):");
		for (int n = 0; n < 64; n++) {
			if (!node_bytes[n])
				continue;
			fmt_add(b, "%s%d %B", any ? ", node " : " node ", n, node_bytes[n]);
			any = true;
		}
		say(fd, b, "%s", any ? "" : " none");
	}
}

/* What the pool did under pressure, limits and misuse: a line each, when it did. */
static void emit_pool_events(int fd, struct fmt_buf *b, const struct pool_stats *p)
{
	say_count(fd, b, "hmo: frame pool: the program called munmap, mremap or mmap(MAP_FIXED) on pool memory ",
		  __atomic_load_n(&hmo_pool_intrusions, __ATOMIC_RELAXED),
		  " times: released or refused, the pool kept its memory");
	say_count(fd, b, "hmo: frame pool: cached memory went over HMO_POOL_MAX and was released ",
		  p->cap_purges, " times");
	if (p->pages.why) {
		fmt_add(b, "hmo: frame pool: ");
		pages_say(b, &p->pages);
		say(fd, b, "");
	}
	if (p->mem_limit)
		say(fd, b, "hmo: frame pool: the cgroup's memory limit is %B: freed frames were left for the "
			   "kernel to take (MADV_FREE) until reused", p->mem_limit);
	say_count(fd, b, "hmo: frame pool: near the cgroup's memory limit, cached memory was released ",
		  p->pressure_purges, " times");
	say_count(fd, b, "hmo: frame pool: malloc_trim released cached memory ", p->trim_purges, " times");
	say_count(fd, b, "hmo: frame pool: frames refused under RLIMIT_AS or RLIMIT_DATA, as glibc's would be: ",
		  p->rlimit_refusals, "");
	if (p->given_back_bytes)
		say(fd, b, "hmo: frame pool: the program ran short of address space under RLIMIT_AS; %B of the "
			   "pool's unused reservation went back to the kernel", p->given_back_bytes);
	say_count(fd, b, "hmo: frame pool: hugetlb pages ran out ", p->hugetlb_refused,
		  p->pages.backing == HMO_BACK_THP ? " times; those frames went to transparent huge pages"
						    : " times; those frames went to 4 KiB pages");
}

static void emit_pool(int fd, struct fmt_buf *b)
{
	struct pool_stats p;

	pool_get_stats(&p);
	say_count(fd, b, "hmo: mmap: ", __atomic_load_n(&hmo_mmap_advised, __ATOMIC_RELAXED),
		  " of the program's own large anonymous mappings advised to huge pages");
	if (!p.allocs && !p.fallbacks)
		return;
	emit_pool_use(fd, b, &p);
	emit_pool_numa(fd, b, &p);
	emit_pool_events(fd, b, &p);
	/* Each reused byte is one that needed no fresh page; on 4 KiB pages that is a
	 * fault per page, the estimate given here. */
	say(fd, b, "hmo: frame pool: about %G page faults avoided by reuse", p.reused_bytes / 4096);
}

/* ---- CUDA ----------------------------------------------------------------- */

/* The driver calls: name (27 after "hmo: "), calls (14), bytes (20), mean time
 * (15 with " us"), the copies' rate (10), staged (10) and errors (10). */
static bool emit_cuda_calls(int fd, struct fmt_buf *b)
{
	bool any = false;

	for (int i = 0; i < HMO_CUOP_COUNT; i++)
		any |= __atomic_load_n(&hmo_cu_stats[i].calls, __ATOMIC_RELAXED) != 0;
	if (!any)
		return false;
	say(fd, b, "%-32s%14s%20s%15s%10s%10s%10s", "hmo: cuda call", "calls", "bytes", "mean time", "GB/s",
	    "staged", "errors");
	for (int i = 0; i < HMO_CUOP_COUNT; i++) {
		const struct hmo_cu_stat *s = &hmo_cu_stats[i];
		uint64_t calls = __atomic_load_n(&s->calls, __ATOMIC_RELAXED);
		if (!calls)
			continue;
		uint64_t bytes = __atomic_load_n(&s->bytes, __ATOMIC_RELAXED), ns = __atomic_load_n(&s->ns, __ATOMIC_RELAXED);
		fmt_add(b, "hmo: %-27s%14G%20B%12.1F us", hmo_cu_name((unsigned)i), calls, bytes, ns / calls,
			(uint64_t)1000);
		/* achieved rate of the copies: bytes over the time spent in the calls */
		if (i >= HMO_CUOP_HTOD && i <= HMO_CUOP_2D_ASYNC && ns)
			fmt_add(b, "%10.2F", bytes * 100 / ns, (uint64_t)100);
		else
			fmt_add(b, "%10s", "");
		say(fd, b, "%10G%10G", __atomic_load_n(&s->staged, __ATOMIC_RELAXED),
		    __atomic_load_n(&s->errors, __ATOMIC_RELAXED));
	}
	return true;
}

static void emit_cuda_pools(int fd, struct fmt_buf *b, const struct hmo_cu_pool_stats *ps)
{
	if (ps->dev_hits + ps->dev_misses) {
		fmt_add(b, "hmo: cuda pool: device %G allocations, %G from the pool (%.1F%%), %B cached at exit "
			   "(peak %B), %B given back, %G retries after out-of-memory",
			ps->dev_hits + ps->dev_misses, ps->dev_hits, permille(ps->dev_hits, ps->dev_hits + ps->dev_misses),
			(uint64_t)10, ps->dev_cached, ps->dev_peak_cached, ps->dev_released, ps->dev_oom_retries);
		if (ps->double_frees)
			fmt_add(b, ", %G second frees refused", ps->double_frees);
		say(fd, b, "");
	}
	if (ps->mem_total)
		say(fd, b, "hmo: cuda: GPU memory at the program's last cuMemGetInfo: %B free of %B", ps->mem_free,
		    ps->mem_total);
}

static void emit_cuda_staging(int fd, struct fmt_buf *b)
{
	struct hmo_cu_stage_stats ss;

	hmo_cu_stage_stats(&ss);
	/* pooling and staging stay off while a capture is under way: say so */
	if (ss.open_captures)
		say(fd, b, "hmo: cuda: %G stream captures were never ended: pooling and staging were off from "
			   "their start", ss.open_captures);
	if (ss.htod + ss.dtoh) {
		fmt_add(b, "hmo: cuda staging: %G pageable H2D copies (%B) and %G D2H (%B) through %B of pinned chunks",
			ss.htod, ss.htod_bytes, ss.dtoh, ss.dtoh_bytes, ss.pinned);
		if (ss.busy)
			fmt_add(b, "; %G left to the driver (the ring was busy)", ss.busy);
		say(fd, b, "");
	}
}

static void emit_cuda(int fd, struct fmt_buf *b)
{
	struct hmo_cu_pool_stats ps;

	if (!emit_cuda_calls(fd, b))
		return;
	hmo_cu_pool_stats(&ps);
	if (ps.state > 1) {
		say(fd, b, "hmo: cuda: the first cuInit failed with error %d%s: every CUDA call passed straight through",
		    ps.state, ps.state == CUDA_ERROR_STUB_LIBRARY ? " (the toolkit's stub libcuda)"
			      : ps.state == CUDA_ERROR_NO_DEVICE ? " (no GPU)" : "");
		return;
	}
	emit_cuda_pools(fd, b, &ps);
	emit_cuda_staging(fd, b);
	if (ps.host_hits + ps.host_misses)
		say(fd, b, "hmo: cuda pool: pinned host %G allocations, %G from the pool (%.1F%%), %B cached at exit",
		    ps.host_hits + ps.host_misses, ps.host_hits, permille(ps.host_hits, ps.host_hits + ps.host_misses),
		    (uint64_t)10, ps.host_cached);
}

void hmo_summary_emit(void)
{
	static struct hmo_fn_stats tot[FN_COUNT];
	char mem[512];
	struct fmt_buf b;
	int fd, saved_errno = errno;

	if (hmo_opt.stats.kind == HMO_DEST_OFF || !hmo_ready())
		return;
	if (__atomic_exchange_n(&summary_done, 1, __ATOMIC_ACQ_REL))
		return;
	hmo_guard_enter();
	fd = hmo_opt.stats.kind == HMO_DEST_FILE ? open_summary() : 2;
	hmo_counters_sum(tot);
	fmt_init(&b, mem, sizeof mem);

	uint64_t peak_rss, minflt, majflt;
	os_rusage(&peak_rss, &minflt, &majflt);
	say(fd, &b, "hmo: pid %U %s, %.2F s, peak RSS %B, %G minor and %G major faults", (uint64_t)getpid(),
	    program_invocation_short_name, os_now_ns() - hmo_start_ns, (uint64_t)1000000000, peak_rss, minflt,
	    majflt);
	emit_calls(fd, &b, tot);
	emit_copies(fd, &b, tot);
	emit_pool(fd, &b);
	emit_cuda(fd, &b);
	if (fd != 2)
		close(fd);
	hmo_guard_leave();
	errno = saved_errno;
}
