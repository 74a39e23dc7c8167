/* stats.c: per-thread counters, and the exit summary.
 *
 * Each thread claims a slot the first time it is counted, and only that thread
 * writes it. Slots are never freed: when a thread exits its slot is marked free with
 * its counts kept, and the next new thread goes on adding to it, so the totals are
 * always the plain sum of every slot and nothing is merged or lost at thread exit.
 * Slots live in chunks: the first in .bss, more mapped on demand and pushed on a
 * lock-free list. There is no lock anywhere here, so fork from any thread, or from a
 * signal handler, finds nothing held. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cuda/cuda.h"
#include "../common/pages.h"
#include "internal.h"
#include "pool.h"

#define SLOTS_PER_CHUNK 32

struct chunk {
	struct chunk *next;
	struct hmo_slot slots[SLOTS_PER_CHUNK];
};

enum { SLOT_FREE = 0, SLOT_USED = 1 };

static struct chunk first_chunk;
static struct chunk *chunks = &first_chunk;
/* Calls from threads whose key destructor has run (their own exit path, other TLS
 * destructors): rare, so counted with atomic adds into one shared slot. */
static struct hmo_slot exiting_slot = { .sample_left = UINT64_MAX };
static pthread_key_t slot_key;
static bool slot_key_ok;
static int summary_done;

uint64_t hmo_large_threshold = UINT64_MAX;

__thread struct hmo_tls hmo_tls __attribute__((tls_model("initial-exec")));

const bool hmo_fn_has_bytes[FN_COUNT] = {
	[FN_MALLOC] = true, [FN_CALLOC] = true, [FN_REALLOC] = true, [FN_REALLOCARRAY] = true,
	[FN_FREE_SIZED] = true, [FN_FREE_ALIGNED_SIZED] = true, [FN_POSIX_MEMALIGN] = true,
	[FN_ALIGNED_ALLOC] = true, [FN_MEMALIGN] = true, [FN_VALLOC] = true, [FN_PVALLOC] = true,
	[FN_MMAP] = true, [FN_MMAP64] = true, [FN_MUNMAP] = true, [FN_MREMAP] = true,
	[FN_MEMCPY] = true, [FN_MEMMOVE] = true, [FN_MEMSET] = true, [FN_MEMCPY_CHK] = true,
	[FN_MEMMOVE_CHK] = true, [FN_MEMSET_CHK] = true,
};

/* pthread key destructor: the thread is exiting. Its later calls go to exiting_slot. */
static void slot_release(void *p)
{
	struct hmo_slot *s = p;

	hmo_trace_thread_exit(s);
	hmo_tls.slot = NULL;
	hmo_tls.saved = NULL;
	hmo_tls.exiting = 1;
	__atomic_store_n(&s->state, SLOT_FREE, __ATOMIC_RELEASE);
}

void hmo_stats_init(void)
{
	hmo_large_threshold = hmo_opt.threshold;
	hmo_copy_timing();
	slot_key_ok = pthread_key_create(&slot_key, slot_release) == 0;
}

static struct hmo_slot *try_claim(void)
{
	for (struct chunk *c = __atomic_load_n(&chunks, __ATOMIC_ACQUIRE); c; c = c->next) {
		for (int i = 0; i < SLOTS_PER_CHUNK; i++) {
			struct hmo_slot *s = &c->slots[i];
			uint32_t expect = SLOT_FREE;
			if (__atomic_load_n(&s->state, __ATOMIC_RELAXED) == SLOT_FREE &&
			    __atomic_compare_exchange_n(&s->state, &expect, SLOT_USED, false,
							__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				return s;
		}
	}
	return NULL;
}

struct hmo_slot *hmo_slot_claim(void)
{
	struct hmo_slot *s;

	while ((s = try_claim()) == NULL) {
		struct chunk *c = hmo_raw_mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c == MAP_FAILED)
			return NULL;
		c->next = __atomic_load_n(&chunks, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&chunks, &c->next, c, false,
						    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			;
	}
	__atomic_store_n(&s->ever, 1, __ATOMIC_RELAXED);
	s->tid = (uint32_t)gettid();
	s->sample_left = hmo_sample_every;
	if (slot_key_ok)
		(void)pthread_setspecific(slot_key, s);
	return s;
}

void hmo_count_slow(enum hmo_fn fn, uint64_t n, bool sized)
{
	struct hmo_slot *s = hmo_tls.slot;

	if (hmo_tls.guard || !hmo_ready())
		return;
	/* A slow path taken for another reason (a pool block, say) with the slot in hand,
	 * or a thread's first call, which claims one. */
	if (!s && !hmo_tls.exiting) {
		int saved_errno = errno;
		hmo_guard_enter();
		s = hmo_slot_claim();
		hmo_tls.saved = s;	/* becomes hmo_tls.slot when the guard is left */
		hmo_guard_leave();
		errno = saved_errno;
	}
	if (s) {
		if (sized)
			hmo_count(s, fn, n);
		else
			hmo_count_call(s, fn);
		return;
	}
	struct hmo_fn_stats *f = &exiting_slot.fn[fn];
	__atomic_fetch_add(&f->hist[sized ? hmo_hist_bucket(n) : 0], 1, __ATOMIC_RELAXED);
	if (sized) {
		__atomic_fetch_add(&f->bytes, n, __ATOMIC_RELAXED);
		if (n >= hmo_large_threshold) {
			__atomic_fetch_add(&f->large_calls, 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&f->large_bytes, n, __ATOMIC_RELAXED);
		}
	}
}

__attribute__((noinline, cold)) bool hmo_count_or_init(enum hmo_fn fn, uint64_t n, bool sized)
{
	if (!hmo_tls.guard && !hmo_ready())
		hmo_init();
	if (!hmo_ready())
		return false;
	hmo_count_slow(fn, n, sized);
	return true;
}

static void add_slot(struct hmo_fn_stats out[FN_COUNT], struct hmo_slot *s)
{
	for (int f = 0; f < FN_COUNT; f++) {
		struct hmo_fn_stats *src = &s->fn[f];
		out[f].bytes += __atomic_load_n(&src->bytes, __ATOMIC_RELAXED);
		out[f].large_calls += __atomic_load_n(&src->large_calls, __ATOMIC_RELAXED);
		out[f].large_bytes += __atomic_load_n(&src->large_bytes, __ATOMIC_RELAXED);
		out[f].large_ns += __atomic_load_n(&src->large_ns, __ATOMIC_RELAXED);
		out[f].timed_bytes += __atomic_load_n(&src->timed_bytes, __ATOMIC_RELAXED);
		for (int i = 0; i < HMO_HIST_BUCKETS; i++)
			out[f].hist[i] += __atomic_load_n(&src->hist[i], __ATOMIC_RELAXED);
	}
}

void hmo_stats_sum(struct hmo_fn_stats out[FN_COUNT])
{
	hmo_raw_memset(out, 0, sizeof(struct hmo_fn_stats) * FN_COUNT);
	for (struct chunk *c = __atomic_load_n(&chunks, __ATOMIC_ACQUIRE); c; c = c->next)
		for (int i = 0; i < SLOTS_PER_CHUNK; i++)
			if (__atomic_load_n(&c->slots[i].ever, __ATOMIC_RELAXED))
				add_slot(out, &c->slots[i]);
	add_slot(out, &exiting_slot);
}

void hmo_stats_each(void (*fn)(struct hmo_slot *, void *), void *arg)
{
	for (struct chunk *c = __atomic_load_n(&chunks, __ATOMIC_ACQUIRE); c; c = c->next)
		for (int i = 0; i < SLOTS_PER_CHUNK; i++)
			if (__atomic_load_n(&c->slots[i].ever, __ATOMIC_RELAXED))
				fn(&c->slots[i], arg);
	fn(&exiting_slot, arg);
}

/* In the child of fork: only the forking thread exists. Its counts start again from
 * zero (each process reports its own calls) and every other slot becomes free. */
void hmo_stats_reset_child(void)
{
	struct hmo_slot *mine = hmo_tls.guard ? hmo_tls.saved : hmo_tls.slot;

	for (struct chunk *c = chunks; c; c = c->next) {
		for (int i = 0; i < SLOTS_PER_CHUNK; i++) {
			struct hmo_slot *s = &c->slots[i];
			if (!s->ever)
				continue;
			hmo_raw_memset(s->fn, 0, sizeof s->fn);
			hmo_raw_memset(s->lat, 0, sizeof s->lat);
			s->state = (s == mine) ? SLOT_USED : SLOT_FREE;
			if (s == mine)
				s->tid = (uint32_t)gettid();
		}
	}
	hmo_raw_memset(&exiting_slot, 0, sizeof exiting_slot);
	summary_done = 0;
}

/* ---- summary ------------------------------------------------------------- */

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

void hmo_expand_path(struct fmt_buf *b, const char *pat)
{
	for (const char *p = pat; *p; p++) {
		if (*p != '%') {
			fmt_char(b, *p);
			continue;
		}
		switch (*++p) {
		case 'p': fmt_u64(b, (uint64_t)getpid()); break;
		case 'e': fmt_str(b, program_invocation_short_name); break;
		case 't': fmt_u64(b, (uint64_t)time(NULL)); break;
		default: fmt_char(b, '%'); break;	/* "%%"; others were refused at parse time */
		}
	}
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
		hmo_warn(w.p);
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
	write_all(fd, b->p, b->len);
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

bool hmo_fn_is_copy(int fn)
{
	switch (fn) {
	case FN_MEMCPY: case FN_MEMMOVE: case FN_MEMSET: case FN_MEMCPY_CHK: case FN_MEMMOVE_CHK:
	case FN_MEMSET_CHK:
		return true;
	default:
		return false;
	}
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
	hmo_raw_memset(node_bytes, 0, sizeof node_bytes);
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
	struct rusage ru;
	int fd, saved_errno = errno;

	if (hmo_opt.stats.kind == HMO_DEST_OFF || !hmo_ready())
		return;
	if (__atomic_exchange_n(&summary_done, 1, __ATOMIC_ACQ_REL))
		return;
	hmo_guard_enter();
	fd = hmo_opt.stats.kind == HMO_DEST_FILE ? open_summary() : 2;
	hmo_stats_sum(tot);
	fmt_init(&b, mem, sizeof mem);

	uint64_t ns = hmo_now_ns() - hmo_start_ns;
	getrusage(RUSAGE_SELF, &ru);
	fmt_str(&b, "hmo: pid ");
	fmt_u64(&b, (uint64_t)getpid());
	fmt_char(&b, ' ');
	fmt_str(&b, program_invocation_short_name);
	fmt_str(&b, ", ");
	fmt_fixed(&b, ns, 1000000000, 2);
	fmt_str(&b, " s, peak RSS ");
	fmt_bytes(&b, (uint64_t)ru.ru_maxrss * 1024);
	fmt_str(&b, ", ");
	fmt_u64_grouped(&b, (uint64_t)ru.ru_minflt);
	fmt_str(&b, " minor and ");
	fmt_u64_grouped(&b, (uint64_t)ru.ru_majflt);
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
