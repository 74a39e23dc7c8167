/* summary.c: the exit summary, the one reader of every subsystem's figures.
 *
 * Written once per process (HMO_STATS), from the destructor or from _exit, so it
 * uses no malloc and no stdio: each line is formatted into a stack buffer and
 * written with write(2). It reads the counters, the frame pool, the copy engine,
 * the mmap hooks' advice and the CUDA layer; none of them reads it. */
#include <errno.h>
#include <fcntl.h>
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

/* Column layout of the summary table. */
enum { W_NAME = 24, W_CALLS = 14, W_BYTES = 20, W_MEAN = 11, W_LARGE = 10 };

static void cell_u64(struct fmt_buf *b, uint64_t v, size_t width)
{
	size_t start = b->len;
	fmt_u64_grouped(b, v);
	fmt_pad(b, start, width, true);
}

static void cell_bytes(struct fmt_buf *b, uint64_t v, size_t width)
{
	size_t start = b->len;
	fmt_bytes(b, v);
	fmt_pad(b, start, width, true);
}

static void cell_str(struct fmt_buf *b, const char *s, size_t width, bool right)
{
	size_t start = b->len;
	fmt_str(b, s);
	fmt_pad(b, start, width, right);
}

static void emit_line(int fd, struct fmt_buf *b)
{
	fmt_char(b, '\n');
	os_write_all(fd, b->p, b->len);
	b->len = 0;
	b->p[0] = '\0';
}

static void emit_hist(int fd, struct fmt_buf *b, const struct hmo_fn_stats *f)
{
	for (unsigned i = 0; i < HMO_HIST_BUCKETS; i++) {
		if (!f->hist[i])
			continue;
		size_t start = b->len;
		fmt_str(b, "hmo:   ");
		if (i == 0) {
			fmt_str(b, "0");
		} else {
			fmt_bytes(b, hmo_hist_lower(i));
			fmt_str(b, " .. ");
			fmt_bytes(b, hmo_hist_upper(i));
		}
		fmt_pad(b, start, W_NAME + 12, false);
		cell_u64(b, f->hist[i], W_CALLS);
		emit_line(fd, b);
	}
}

/* "P.P%" of part in whole (0% of nothing). */
static void emit_percent(struct fmt_buf *b, uint64_t part, uint64_t whole)
{
	fmt_fixed(b, whole ? part * 1000 / whole : 0, 10, 1);
	fmt_char(b, '%');
}

/* "PREFIX N SUFFIX" as a line of its own, when N is not zero. */
static void emit_count(int fd, struct fmt_buf *b, const char *prefix, uint64_t n, const char *suffix)
{
	if (!n)
		return;
	fmt_str(b, prefix);
	fmt_u64_grouped(b, n);
	fmt_str(b, suffix);
	emit_line(fd, b);
}


/* The bandwidth of the large copies, timed by the copy hooks. */
static void emit_copies(int fd, struct fmt_buf *b, const struct hmo_fn_stats tot[FN_COUNT])
{
	uint64_t calls = 0, bytes = 0, timed = 0, ns = 0;

	for (int f = 0; f < FN_COUNT; f++) {
		if (!hmo_fn_is_copy(f))
			continue;
		calls += tot[f].large_calls;
		bytes += tot[f].large_bytes;
		timed += tot[f].timed_bytes;
		ns += tot[f].large_ns;
	}
	if (!calls || !ns)
		return;
	fmt_str(b, "hmo: copies of at least ");
	fmt_size_option(b, hmo_opt.threshold);
	fmt_str(b, ": ");
	fmt_u64_grouped(b, calls);
	fmt_str(b, " calls, ");
	fmt_bytes(b, bytes);
	fmt_str(b, " at ");
	fmt_fixed(b, timed, ns, 2);
	fmt_str(b, " GB/s");
	emit_line(fd, b);
}

/* The pages chosen for fresh frames, and why. */
static void emit_pages(int fd, struct fmt_buf *b, const struct pool_stats *p)
{
	if (!p->pages.why)
		return;
	fmt_str(b, "hmo: frame pool: ");
	pages_say(b, &p->pages);
	emit_line(fd, b);
}

/* The frame pool's lines: what it served, what it reused, how it was backed. */
static void emit_pool(int fd, struct fmt_buf *b)
{
	struct pool_stats p;

	pool_get_stats(&p);
	emit_count(fd, b, "hmo: mmap: ", __atomic_load_n(&hmo_mmap_advised, __ATOMIC_RELAXED),
		   " of the program's own large anonymous mappings advised to huge pages");
	if (!p.allocs && !p.fallbacks)
		return;
	fmt_str(b, "hmo: frame pool: ");
	fmt_u64_grouped(b, p.allocs);
	fmt_str(b, " frames served, ");
	fmt_u64_grouped(b, p.reused);
	fmt_str(b, " from reused memory (");
	emit_percent(b, p.reused, p.allocs);
	fmt_str(b, "), ");
	fmt_u64_grouped(b, p.fallbacks);
	fmt_str(b, " fell back to the program's allocator");
	emit_line(fd, b);
	fmt_str(b, "hmo: frame pool: ");
	fmt_bytes(b, p.extent_bytes);
	fmt_str(b, " mapped in ");
	fmt_u64_grouped(b, p.extents);
	fmt_str(b, " extents (");
	if (p.hugetlb_page) {
		fmt_bytes(b, p.hugetlb_bytes);
		fmt_str(b, p.hugetlb_page > (2u << 20) ? " on 1 GiB hugetlb pages, " : " on 2 MiB hugetlb pages, ");
	}
	fmt_bytes(b, p.thp_bytes);
	fmt_str(b, " on transparent huge pages, ");
	fmt_bytes(b, p.small_page_bytes);
	fmt_str(b, " on 4 KiB pages), peak live ");
	fmt_bytes(b, p.peak_live_bytes);
	fmt_str(b, ", live at exit ");
	fmt_bytes(b, p.live_bytes);
	fmt_str(b, ", released ");
	fmt_bytes(b, p.purged_bytes);
	emit_line(fd, b);
	if (p.numa_mpol || p.place_failures) {
		static const char *const pol[] = { "first touch", "preferred", "bound", "interleaved" };
		fmt_str(b, "hmo: frame pool: NUMA: ");
		fmt_bytes(b, p.placed_bytes);
		fmt_str(b, " ");
		fmt_str(b, pol[p.numa_mpol & 3]);
		fmt_str(b, p.nsets > 1 ? " to the allocating thread's node, with an arena per node" : " to node");
		for (int n = 0, first = 1; n < 64; n++) {
			if (p.numa_mask >> n & 1) {
				fmt_str(b, first ? (p.numa_mask & (p.numa_mask - 1) ? "s " : " ") : ",");
				fmt_u64(b, (uint64_t)n);
				first = 0;
			}
		}
		fmt_str(b, "; ");
		fmt_u64_grouped(b, p.place_failures);
		fmt_str(b, " extents the kernel would not place");
		emit_line(fd, b);
	}
	/* Resident memory by node, sampled (live frames and the cache alike). */
	static uint64_t node_bytes[64];
	os_memset(node_bytes, 0, sizeof node_bytes);
	if (pool_residency(node_bytes) > 0) {
		fmt_str(b, "hmo: frame pool: resident at exit by NUMA node (sampled):");
		bool any = false;
		for (int n = 0; n < 64; n++) {
			if (!node_bytes[n])
				continue;
			fmt_str(b, any ? ", node " : " node ");
			fmt_u64(b, (uint64_t)n);
			fmt_char(b, ' ');
			fmt_bytes(b, node_bytes[n]);
			any = true;
		}
		if (!any)
			fmt_str(b, " none");
		emit_line(fd, b);
	}
	emit_count(fd, b, "hmo: frame pool: the program called munmap, mremap or mmap(MAP_FIXED) on pool memory ",
		   __atomic_load_n(&hmo_pool_intrusions, __ATOMIC_RELAXED),
		   " times: released or refused, the pool kept its memory");
	emit_count(fd, b, "hmo: frame pool: cached memory went over HMO_POOL_MAX and was released ",
		   p.cap_purges, " times");
	emit_pages(fd, b, &p);
	if (p.mem_limit) {
		fmt_str(b, "hmo: frame pool: the cgroup's memory limit is ");
		fmt_bytes(b, p.mem_limit);
		fmt_str(b, ": freed frames were left for the kernel to take (MADV_FREE) until reused");
		emit_line(fd, b);
	}
	emit_count(fd, b, "hmo: frame pool: near the cgroup's memory limit, cached memory was released ",
		   p.pressure_purges, " times");
	emit_count(fd, b, "hmo: frame pool: malloc_trim released cached memory ", p.trim_purges, " times");
	emit_count(fd, b, "hmo: frame pool: frames refused under RLIMIT_AS or RLIMIT_DATA, as glibc's would be: ",
		   p.rlimit_refusals, "");
	if (p.given_back_bytes) {
		fmt_str(b, "hmo: frame pool: the program ran short of address space under RLIMIT_AS; ");
		fmt_bytes(b, p.given_back_bytes);
		fmt_str(b, " of the pool's unused reservation went back to the kernel");
		emit_line(fd, b);
	}
	emit_count(fd, b, "hmo: frame pool: hugetlb pages ran out ", p.hugetlb_refused,
		   p.pages.backing == HMO_BACK_THP ? " times; those frames went to transparent huge pages"
						   : " times; those frames went to 4 KiB pages");
	/* Each reused byte is one that needed no fresh page; on 4 KiB pages that is a
	 * fault per page, the estimate given here. */
	fmt_str(b, "hmo: frame pool: about ");
	fmt_u64_grouped(b, p.reused_bytes / 4096);
	fmt_str(b, " page faults avoided by reuse");
	emit_line(fd, b);
}

/* The CUDA driver calls hmo saw, and what its pools did. */
static void emit_cuda(int fd, struct fmt_buf *b)
{
	struct hmo_cu_pool_stats ps;
	bool any = false;

	for (int i = 0; i < HMO_CUOP_COUNT; i++)
		any |= __atomic_load_n(&hmo_cu_stats[i].calls, __ATOMIC_RELAXED) != 0;
	if (!any)
		return;
	fmt_str(b, "hmo: cuda call");
	fmt_pad(b, 0, W_NAME + 8, false);
	cell_str(b, "calls", W_CALLS, true);
	cell_str(b, "bytes", W_BYTES, true);
	cell_str(b, "mean time", W_MEAN + 4, true);
	cell_str(b, "GB/s", W_LARGE, true);
	cell_str(b, "staged", W_LARGE, true);
	cell_str(b, "errors", W_LARGE, true);
	emit_line(fd, b);
	for (int i = 0; i < HMO_CUOP_COUNT; i++) {
		const struct hmo_cu_stat *s = &hmo_cu_stats[i];
		uint64_t calls = __atomic_load_n(&s->calls, __ATOMIC_RELAXED);
		if (!calls)
			continue;
		size_t start = b->len;
		fmt_str(b, "hmo: ");
		fmt_str(b, hmo_cu_name((enum hmo_cu_op)i));
		fmt_pad(b, start, W_NAME + 8, false);
		cell_u64(b, calls, W_CALLS);
		cell_bytes(b, __atomic_load_n(&s->bytes, __ATOMIC_RELAXED), W_BYTES);
		start = b->len;
		fmt_fixed(b, __atomic_load_n(&s->ns, __ATOMIC_RELAXED) / calls, 1000, 1);
		fmt_str(b, " us");
		fmt_pad(b, start, W_MEAN + 4, true);
		/* achieved rate of the copies: bytes over the time spent in the calls */
		uint64_t bytes = __atomic_load_n(&s->bytes, __ATOMIC_RELAXED), ns = __atomic_load_n(&s->ns, __ATOMIC_RELAXED);
		start = b->len;
		if (i >= HMO_CUOP_HTOD && i <= HMO_CUOP_2D_ASYNC && ns)
			fmt_fixed(b, bytes * 100 / ns, 100, 2);
		fmt_pad(b, start, W_LARGE, true);
		cell_u64(b, __atomic_load_n(&s->staged, __ATOMIC_RELAXED), W_LARGE);
		cell_u64(b, __atomic_load_n(&s->errors, __ATOMIC_RELAXED), W_LARGE);
		emit_line(fd, b);
	}
	hmo_cu_pool_stats(&ps);
	if (ps.state > 1) {
		fmt_str(b, "hmo: cuda: the first cuInit failed with error ");
		fmt_u64(b, (uint64_t)ps.state);
		fmt_str(b, ps.state == CUDA_ERROR_STUB_LIBRARY ? " (the toolkit's stub libcuda)"
			   : ps.state == CUDA_ERROR_NO_DEVICE ? " (no GPU)" : "");
		fmt_str(b, ": every CUDA call passed straight through");
		emit_line(fd, b);
		return;
	}
	if (ps.dev_hits + ps.dev_misses) {
		fmt_str(b, "hmo: cuda pool: device ");
		fmt_u64_grouped(b, ps.dev_hits + ps.dev_misses);
		fmt_str(b, " allocations, ");
		fmt_u64_grouped(b, ps.dev_hits);
		fmt_str(b, " from the pool (");
		emit_percent(b, ps.dev_hits, ps.dev_hits + ps.dev_misses);
		fmt_str(b, "), ");
		fmt_bytes(b, ps.dev_cached);
		fmt_str(b, " cached at exit (peak ");
		fmt_bytes(b, ps.dev_peak_cached);
		fmt_str(b, "), ");
		fmt_bytes(b, ps.dev_released);
		fmt_str(b, " given back, ");
		fmt_u64_grouped(b, ps.dev_oom_retries);
		fmt_str(b, " retries after out-of-memory");
		if (ps.double_frees) {
			fmt_str(b, ", ");
			fmt_u64_grouped(b, ps.double_frees);
			fmt_str(b, " second frees refused");
		}
		emit_line(fd, b);
	}
	if (ps.mem_total) {
		fmt_str(b, "hmo: cuda: GPU memory at the program's last cuMemGetInfo: ");
		fmt_bytes(b, ps.mem_free);
		fmt_str(b, " free of ");
		fmt_bytes(b, ps.mem_total);
		emit_line(fd, b);
	}
	struct hmo_cu_stage_stats ss;
	hmo_cu_stage_stats(&ss);
	if (ss.open_captures) {
		/* pooling and staging stay off while a capture is under way: say so */
		fmt_str(b, "hmo: cuda: ");
		fmt_u64_grouped(b, ss.open_captures);
		fmt_str(b, " stream captures were never ended: pooling and staging were off from their start");
		emit_line(fd, b);
	}
	if (ss.htod + ss.dtoh) {
		fmt_str(b, "hmo: cuda staging: ");
		fmt_u64_grouped(b, ss.htod);
		fmt_str(b, " pageable H2D copies (");
		fmt_bytes(b, ss.htod_bytes);
		fmt_str(b, ") and ");
		fmt_u64_grouped(b, ss.dtoh);
		fmt_str(b, " D2H (");
		fmt_bytes(b, ss.dtoh_bytes);
		fmt_str(b, ") through ");
		fmt_bytes(b, ss.pinned);
		fmt_str(b, " of pinned chunks");
		if (ss.busy) {
			fmt_str(b, "; ");
			fmt_u64_grouped(b, ss.busy);
			fmt_str(b, " left to the driver (the ring was busy)");
		}
		emit_line(fd, b);
	}
	if (ps.host_hits + ps.host_misses) {
		fmt_str(b, "hmo: cuda pool: pinned host ");
		fmt_u64_grouped(b, ps.host_hits + ps.host_misses);
		fmt_str(b, " allocations, ");
		fmt_u64_grouped(b, ps.host_hits);
		fmt_str(b, " from the pool (");
		emit_percent(b, ps.host_hits, ps.host_hits + ps.host_misses);
		fmt_str(b, "), ");
		fmt_bytes(b, ps.host_cached);
		fmt_str(b, " cached at exit");
		emit_line(fd, b);
	}
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

	uint64_t ns = os_now_ns() - hmo_start_ns;
	uint64_t peak_rss, minflt, majflt;
	os_rusage(&peak_rss, &minflt, &majflt);
	fmt_str(&b, "hmo: pid ");
	fmt_u64(&b, (uint64_t)getpid());
	fmt_char(&b, ' ');
	fmt_str(&b, program_invocation_short_name);
	fmt_str(&b, ", ");
	fmt_fixed(&b, ns, 1000000000, 2);
	fmt_str(&b, " s, peak RSS ");
	fmt_bytes(&b, peak_rss);
	fmt_str(&b, ", ");
	fmt_u64_grouped(&b, minflt);
	fmt_str(&b, " minor and ");
	fmt_u64_grouped(&b, majflt);
	fmt_str(&b, " major faults");
	emit_line(fd, &b);

	fmt_str(&b, "hmo: ");
	cell_str(&b, "call", W_NAME - 5, false);
	cell_str(&b, "calls", W_CALLS, true);
	cell_str(&b, "bytes", W_BYTES, true);
	cell_str(&b, "mean", W_MEAN, true);
	{
		char head[64];
		struct fmt_buf h;
		fmt_init(&h, head, sizeof head);
		fmt_str(&h, ">=");
		fmt_size_option(&h, hmo_opt.threshold);
		cell_str(&b, head, W_LARGE + 2, true);
		fmt_init(&h, head, sizeof head);
		fmt_str(&h, ">=");
		fmt_size_option(&h, hmo_opt.threshold);
		fmt_str(&h, " bytes");
		cell_str(&b, head, W_BYTES, true);
	}
	emit_line(fd, &b);

	for (int i = 0; i < FN_COUNT; i++) {
		const struct hmo_fn_stats *f = &tot[i];
		uint64_t calls = hmo_hist_total(f->hist);
		if (!calls)
			continue;
		fmt_str(&b, "hmo: ");
		cell_str(&b, hmo_fn_name((unsigned)i), W_NAME - 5, false);
		cell_u64(&b, calls, W_CALLS);
		if (hmo_fn_has_bytes[i]) {
			cell_u64(&b, f->bytes, W_BYTES);
			cell_bytes(&b, f->bytes / calls, W_MEAN);
			cell_u64(&b, f->large_calls, W_LARGE + 2);
			cell_u64(&b, f->large_bytes, W_BYTES);
		}
		emit_line(fd, &b);
		if (hmo_opt.stats_hist && hmo_fn_has_bytes[i])
			emit_hist(fd, &b, f);
	}
	emit_copies(fd, &b, tot);
	emit_pool(fd, &b);
	emit_cuda(fd, &b);
	if (fd != 2)
		close(fd);
	hmo_guard_leave();
	errno = saved_errno;
}
