/* report.c: site orderings, symbolized frames, advice and number formats, shared by
 * the text and JSON outputs. */
#include "report.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../common/pages.h"
#include "symbols.h"

const char *report_gpu_dir(unsigned dir)
{
	static const char *const n[GPU_DIRS] = { "?", "HtoD", "DtoH", "DtoD", "HtoH", "PtoP", "other" };
	return dir < GPU_DIRS ? n[dir] : "?";
}

const char *report_gpu_mem(unsigned mem)
{
	static const char *const n[GPU_MEMS] = { "unknown", "pageable", "pinned", "device", "managed", "array" };
	return mem < GPU_MEMS ? n[mem] : "?";
}

bool is_free_fn(unsigned f)
{
	return f == FN_FREE || f == FN_FREE_SIZED || f == FN_FREE_ALIGNED_SIZED;
}

bool is_map_fn(unsigned f)
{
	return f >= FN_MMAP && f <= FN_MREMAP;
}

/* ---- number formats --------------------------------------------------------------- */

const char *report_grouped(char *buf, uint64_t v)
{
	struct fmt_buf b;

	fmt_init(&b, buf, 32);
	fmt_u64_grouped(&b, v);
	return buf;
}

const char *report_bytes(char *buf, uint64_t v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 6) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, 32, "%llu B", (unsigned long long)v);
	else
		snprintf(buf, 32, d < 9.995 ? "%.2f %s" : d < 99.95 ? "%.1f %s" : "%.0f %s", d, unit[u]);
	return buf;
}

const char *report_ns(char *buf, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, 32, "%llu ns", (unsigned long long)ns);
	else if (ns < 999950)
		snprintf(buf, 32, "%.1f us", (double)ns / 1e3);
	else if (ns < 999950000)
		snprintf(buf, 32, "%.1f ms", (double)ns / 1e6);
	else
		snprintf(buf, 32, "%.2f s", (double)ns / 1e9);
	return buf;
}

const char *report_gbs(char *buf, uint64_t mbs)
{
	snprintf(buf, 32, "%.1f", (double)mbs / 1000.0);
	return buf;
}

const char *report_opt_size(char *buf, uint64_t v)
{
	static const char suffix[] = "KMGT";
	int u = -1;

	while (v >= 1024 && v % 1024 == 0 && u < 3) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, 32, "%llu", (unsigned long long)v);
	else
		snprintf(buf, 32, "%llu%c", (unsigned long long)v, suffix[u]);
	return buf;
}

/* The length of the well-formed UTF-8 character at P (NUL-terminated), or 0: the
 * table of RFC 3629, so no overlong form and no surrogate. */
static int utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, lo = p[0] == 0xe0 ? 0xa0 : 0x80, hi = p[0] == 0xed ? 0x9f : 0xbf;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, lo = p[0] == 0xf0 ? 0x90 : 0x80, hi = p[0] == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* A JSON string. Names and arguments in a trace are bytes, not always UTF-8 (a
 * Latin-1 file name): a byte that is not part of a well-formed character becomes
 * U+FFFD, so that every JSON parser reads the report. */
void report_json_str(FILE *o, const char *s)
{
	fputc('"', o);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
		int n = utf8_len(p);
		if (*p == '"' || *p == '\\')
			fprintf(o, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(o, "\\u%04x", *p);
		else if (n == 0)
			fputs("\\ufffd", o);
		else
			fwrite(p, 1, (size_t)n, o);
		p += n ? n : 1;
	}
	fputc('"', o);
}

const char *report_shown(char *buf, const char *s)
{
	struct fmt_buf b;

	fmt_init(&b, buf, REPORT_SHOWN);
	fmt_shown(&b, s, SIZE_MAX, FMT_SHOWN_MAX);
	return buf;
}

const char *report_end(const struct proc *p)
{
	if (!p->ended)
		return p->exec_next ? "exec" : "none";
	return p->end.how == HMO_END_SIGNAL ? "signal" : p->end.how == HMO_END__EXIT ? "_exit" : "exit";
}

const char *report_pages(char *buf, const struct proc *p)
{
	struct fmt_buf b;

	fmt_init(&b, buf, REPORT_PAGES);
	if (p->pool.why)
		pages_say(&b, &p->pool);
	return buf;
}

const char *report_pages_why(unsigned why)
{
	static const char *const names[] = {
		[HMO_WHY_FORCED] = "forced", [HMO_WHY_NO_THP] = "no_thp", [HMO_WHY_LIMITED] = "memory_limit",
		[HMO_WHY_REPORTING] = "free_page_reporting", [HMO_WHY_THP_CHEAP] = "thp_cheap",
		[HMO_WHY_THP_COSTLY] = "thp_costly", [HMO_WHY_UNMEASURED] = "unmeasured",
	};
	return why < sizeof names / sizeof *names && names[why] ? names[why] : "unknown";
}

double report_pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

/* ---- sites -------------------------------------------------------------------------- */

uint64_t site_key(const struct site *s, enum site_order o)
{
	switch (o) {
	case BY_BYTES: return s->alloc_bytes;
	case BY_CALLS: return s->allocs;
	case BY_FAULTS: return s->faults;
	case BY_COPY: return s->copy_bytes;
	case BY_LEAK: return s->leaked_bytes;
	default: return 0;
	}
}

static enum site_order sorting;

/* Largest key first; ties by process and stack id, so the output is the same from
 * run to run. */
static int by_key(const void *a, const void *b)
{
	const struct site *x = *(const struct site *const *)a, *y = *(const struct site *const *)b;
	uint64_t kx = site_key(x, sorting), ky = site_key(y, sorting);

	if (kx != ky)
		return kx < ky ? 1 : -1;
	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

void report_frame(struct report *r, const struct site *s, unsigned i, char *buf, size_t cap)
{
	/* the folded pseudo-process's symbolizer goes after the kept processes' */
	struct symbolizer **sym = &r->syms[s->proc == MODEL_FOLDED ? r->m->nprocs : s->proc];

	if (!*sym)
		*sym = sym_new(model_proc(r->m, s->proc));
	if (*sym)
		sym_frame(*sym, s->pcs[i], buf, cap);
	else
		snprintf(buf, cap, "0x%llx", (unsigned long long)s->pcs[i]);
}

uint64_t report_rest(const struct report *r, enum site_order o, size_t *count)
{
	uint64_t rest = 0;

	*count = r->norder[o] > r->top ? r->norder[o] - r->top : 0;
	for (size_t i = r->top; i < r->norder[o]; i++)
		rest += site_key(r->order[o][i], o);
	return rest;
}

/* ---- advice ------------------------------------------------------------------------- */

static void say(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->nadvice == ADVICE_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(r->advice[r->nadvice++], sizeof r->advice[0], fmt, ap);
	va_end(ap);
}

/* The rules' thresholds. */
#define TOP_SITE_MIN_ALLOCS 2		/* a site that allocated once has nothing to reuse */
#define DEFAULT_THRESHOLD (1u << 20)	/* HMO_THRESHOLD's default, for a trace without one */
#define UNPOOLED_MIN 100		/* allocations just under the threshold worth a word */
#define UNPOOLED_RATIO 2		/* ... and how many times the pooled ones they must be */
#define HUGETLB_MIN_LIVE (64u << 20)	/* a pool this small gains little from reserved pages */
#define FEW_HUGE_MIN_RSS (256u << 20)	/* a smaller process gains little from huge pages */
#define FEW_HUGE_PCT 20			/* "few": under this share of the peak RSS */
#define SLOW_COPY_CLASS 22		/* copies of 2 MiB and more (log2 size classes) */
#define SLOW_COPY_MIN 10		/* copies of a class before its median means anything */
#define SLOW_COPY_MBPS 4000		/* a median under this is slow for a large copy */
#define PAGEABLE_MIN_PCT 10		/* pageable bytes of one direction worth a word */
#define SMALL_COPY_CLASS 16		/* GPU copies of this log2 class and under: < 64 KiB */
#define SMALL_COPY_MIN 1000		/* small copies worth a word, if most copies are */
#define SYNC_COPY_MIN 100		/* synchronous host<->device copies worth a word */
#define DEVICE_ALLOC_MIN 100		/* device allocations worth a caching allocator */
#define LEAK_MIN (64u << 20)		/* bytes never freed worth a word */

/* The call site with the most bytes in large blocks: what the pool did there. */
static void top_site(struct report *r)
{
	char a[32], b[32], c[32], frame[512];

	if (!r->norder[BY_BYTES])
		return;
	const struct site *s = r->order[BY_BYTES][0];
	if (s->allocs < TOP_SITE_MIN_ALLOCS || !s->pcs || !s->depth)
		return;
	report_frame(r, s, 0, frame, sizeof frame);
	uint64_t each = s->alloc_bytes / s->allocs;
	if (s->pool_hits + s->pool_new)
		say(r, "%s blocks from %.80s, %s times: pool hit rate %.0f%%, ~%s page faults avoided",
		    report_bytes(a, each), frame, report_grouped(b, s->allocs),
		    report_pct(s->pool_hits, s->pool_hits + s->pool_new),
		    report_grouped(c, s->pool_hits * ((each + 4095) / 4096)));
	else
		say(r, "%s blocks from %.80s, %s times, all fresh memory: ~%s page faults that the "
		    "pool would avoid", report_bytes(a, each), frame, report_grouped(b, s->allocs),
		    report_grouped(c, s->faults));
}

/* Many blocks in the two log2 buckets below the process's threshold: the pool never
 * sees them, and a lower threshold would let it. */
static void unpooled_sizes(struct report *r, const struct proc *p)
{
	char a[32], b[32], c[32], d[32];
	uint64_t under = p->unpooled, over = p->pooled, thr = p->threshold ? p->threshold : DEFAULT_THRESHOLD;
	unsigned tb = 64u - (unsigned)__builtin_clzll(thr);	/* the threshold's log2 bucket */
	uint64_t low = (uint64_t)1 << (tb >= 3 ? tb - 3 : 0);

	if (under > UNPOOLED_RATIO * over && under >= UNPOOLED_MIN)
		say(r, "pid %u: %s allocations from %s up to HMO_THRESHOLD=%s were not pooled: "
		    "try HMO_THRESHOLD=%s", p->pid, report_grouped(a, under), report_bytes(b, low),
		    report_opt_size(c, thr), report_opt_size(d, low));
}

static void pool_off(struct report *r, const struct proc *p)
{
	if (p->options && strstr(p->options, "HMO_POOL=off"))
		say(r, "pid %u ran with HMO_POOL=off: its large blocks were fresh memory each time", p->pid);
}

/* Frames kept on 4 KiB pages because fresh huge pages are dear here (free page
 * reporting, slow THP faults): reserved hugetlb pages are huge and, never handed
 * back to the host, stay warm. Worth it where the pool held a good amount. */
static void hugetlb_pages(struct report *r, const struct proc *p)
{
	char a[32];

	if (p->pool.hugetlb_page || p->pool.backing != HMO_BACK_4K || p->peak_pool_live < HUGETLB_MIN_LIVE ||
	    (p->pool.why != HMO_WHY_REPORTING && p->pool.why != HMO_WHY_THP_COSTLY))
		return;
	/* The peak of live frames in 2 MiB pages, a quarter more: jemalloc's extents
	 * are not cut to the frame (measured: 540 pages for 960 MiB of 47.5 MiB frames
	 * ran out after 890 MiB). */
	uint64_t pages = (p->peak_pool_live + p->peak_pool_live / 4 + (2u << 20) - 1) >> 21;
	say(r, "pid %u kept its frames on 4 KiB pages (%s). Reserved hugetlb pages would be huge and stay "
	    "warm: raise vm.nr_hugepages by %llu (%s) before the run, with `hugeadm --pool-pages-min "
	    "2MB:+%llu` or by writing the sum to /proc/sys/vm/nr_hugepages; hmo takes them by itself",
	    p->pid, p->pool.why == HMO_WHY_REPORTING ? "free page reporting makes fresh huge pages dear here"
						     : "fresh huge pages are dear here",
	    (unsigned long long)pages, report_bytes(a, pages << 21), (unsigned long long)pages);
}

/* Few huge pages where the pool did not choose 4 KiB pages on purpose. */
static void few_huge_pages(struct report *r, const struct proc *p)
{
	bool chose_small = p->pool.why && p->pool.backing == HMO_BACK_4K && p->pool.why != HMO_WHY_NO_THP;

	if (!chose_small && p->samples && p->peak_rss >= FEW_HUGE_MIN_RSS &&
	    report_pct(p->peak_anon_huge, p->peak_rss) < FEW_HUGE_PCT)
		say(r, "pid %u: only %.0f%% of its peak RSS was on huge pages: check "
		    "/sys/kernel/mm/transparent_hugepage/enabled, or reserve hugetlb pages",
		    p->pid, report_pct(p->peak_anon_huge, p->peak_rss));
}

static void lost_records(struct report *r, const struct proc *p)
{
	char a[32];

	if (p->end.dropped)
		say(r, "pid %u lost %s trace records (a failed write: a full disk?)", p->pid,
		    report_grouped(a, p->end.dropped));
}

/* The rules about one process, in the order they are said for each. */
static void (*const process_rules[])(struct report *, const struct proc *) = {
	unpooled_sizes, pool_off, hugetlb_pages, few_huge_pages, lost_records,
};

/* Every process in trace order: a folded one is made again from its key, with what
 * the rules read. */
static void each_process(struct report *r)
{
	for (size_t i = 0; i < r->m->nkeys; i++) {
		const struct proc_key *k = &r->m->keys[i];
		const struct proc *p = k->slot == MODEL_FOLDED ? NULL : &r->m->procs[k->slot];
		struct proc x;
		if (!p) {
			memset(&x, 0, sizeof x);
			x.pid = k->pid;
			x.threshold = k->threshold;
			x.unpooled = k->unpooled;
			x.pooled = k->pooled;
			x.options = k->pool_off ? (char *)"HMO_POOL=off" : NULL;
			x.pool = k->pool;
			x.samples = k->samples;
			x.peak_rss = k->peak_rss;
			x.peak_anon_huge = k->peak_anon_huge;
			x.peak_pool_live = k->peak_pool_live;
			x.end.dropped = k->dropped;
			p = &x;
		}
		for (size_t j = 0; j < sizeof process_rules / sizeof *process_rules; j++)
			process_rules[j](r, p);
	}
}

static void fallbacks(struct report *r)
{
	char a[32];
	uint64_t fb = 0;

	for (unsigned f = 0; f < FN_MMAP; f++)
		fb += r->m->fn[f].outcome[HMO_OUT_FALLBACK];
	if (fb)
		say(r, "%s large blocks fell back to the program's allocator: the pool's range was full "
		    "(HMO_STATS shows why)", report_grouped(a, fb));
}

/* Slow large copies: the first size class whose median is slow. */
static void slow_copies(struct report *r)
{
	char a[32], b[32];

	for (int k = SLOW_COPY_CLASS; k < 65; k++) {
		const struct copy_class *x = &r->m->copies[k];
		if (x->count >= SLOW_COPY_MIN && lh_quantile(&x->rate, 0.5) < SLOW_COPY_MBPS) {
			say(r, "copies of %s and more ran at a median %s GB/s: first touch of fresh pages "
			    "(page faults inside the copy) or a remote NUMA node",
			    report_bytes(a, (uint64_t)1 << (k - 1)), report_gbs(b, lh_quantile(&x->rate, 0.5)));
			return;
		}
	}
}

/* GPU: pageable copies of one direction, with the pinned rate measured in the same run. */
static void pageable_dir(struct report *r, unsigned dir)
{
	uint64_t pb = 0, pns = 0, qb = 0, qns = 0, all = 0;

	for (unsigned mem = 0; mem < GPU_MEMS; mem++)
		for (int k = 0; k < 65; k++) {
			const struct gpu_copies *x = r->m->gpu.copies[dir][mem][k];
			if (!x)
				continue;
			all += x->bytes;
			if (mem == HMO_GPU_MEM_PAGEABLE)
				pb += x->bytes, pns += x->ns;
			else if (mem == HMO_GPU_MEM_PINNED)
				qb += x->bytes, qns += x->ns;
		}
	if (!pb || !pns || report_pct(pb, all) < PAGEABLE_MIN_PCT)
		return;
	if (qb && qns)
		say(r, "%.0f%% of %s bytes were pageable, at %.1f GB/s; pinned copies here ran at %.1f GB/s: "
		    "hmo stages such copies through pinned chunks (HMO_PIN=auto)", report_pct(pb, all), report_gpu_dir(dir),
		    (double)pb / (double)pns, (double)qb / (double)qns);
	else
		say(r, "%.0f%% of %s bytes were pageable, at %.1f GB/s: pinned memory (hmo stages such copies "
		    "through it, HMO_PIN=auto) usually runs about twice as fast", report_pct(pb, all), report_gpu_dir(dir),
		    (double)pb / (double)pns);
}

static void pageable_copies(struct report *r)
{
	for (unsigned dir = HMO_GPU_HTOD; dir <= HMO_GPU_DTOH; dir++)
		pageable_dir(r, dir);
}

/* GPU: many small copies, each a launch of its own. */
static void small_gpu_copies(struct report *r)
{
	char a[32], b[32];
	uint64_t small = 0, copies = 0;

	for (unsigned dir = 0; dir < GPU_DIRS; dir++)
		for (unsigned mem = 0; mem < GPU_MEMS; mem++)
			for (int k = 0; k < 65; k++) {
				const struct gpu_copies *x = r->m->gpu.copies[dir][mem][k];
				if (!x)
					continue;
				copies += x->count;
				if (k <= SMALL_COPY_CLASS)
					small += x->count;
			}
	if (small >= SMALL_COPY_MIN && small * 2 > copies)
		say(r, "%s of %s GPU copies were under 64 KiB: each costs a launch; coalesce them into larger ones",
		    report_grouped(a, small), report_grouped(b, copies));
}

/* GPU: synchronous host<->device copies, which stall the host and the stream. */
static void sync_copies(struct report *r)
{
	char a[32], b[32];
	const struct gpu *g = &r->m->gpu;

	if (g->sync_copies >= SYNC_COPY_MIN)
		say(r, "%s host<->device copies (%s) were synchronous (cudaMemcpy): each waits for the GPU; "
		    "cudaMemcpyAsync on a stream of its own lets copies overlap compute",
		    report_grouped(a, g->sync_copies), report_bytes(b, g->sync_bytes));
}

/* GPU: device memory allocated over and over, with no pool in between. */
static void device_allocs(struct report *r)
{
	char a[32];
	const struct model *m = r->m;

	if (m->gpu.allocs[HMO_GPU_MEM_DEVICE] >= DEVICE_ALLOC_MIN && !m->cuda[HMO_CUOP_MEM_ALLOC].pool_hits)
		say(r, "device memory was allocated %s times: a caching allocator (HMO_CUDA_POOL=on, or the "
		    "program's own) avoids the driver call and its implicit synchronisation",
		    report_grouped(a, m->gpu.allocs[HMO_GPU_MEM_DEVICE]));
}

static void leaks(struct report *r)
{
	char a[32];
	uint64_t leaked = 0;

	if (!r->norder[BY_LEAK])
		return;
	for (size_t i = 0; i < r->norder[BY_LEAK]; i++)
		leaked += r->order[BY_LEAK][i]->leaked_bytes;
	if (leaked >= LEAK_MIN)
		say(r, "%s of large blocks were never freed, from %zu call sites (listed above)",
		    report_bytes(a, leaked), r->norder[BY_LEAK]);
}

/* Every rule, in the order its advice is printed. */
static void (*const rules[])(struct report *) = {
	top_site, each_process, fallbacks, slow_copies, pageable_copies, small_gpu_copies, sync_copies,
	device_allocs, leaks,
};

static void advise(struct report *r)
{
	for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
		rules[i](r);
}

void report_init(struct report *r, const struct model *m, unsigned top)
{
	size_t n;
	const struct site **all = model_sites(m, &n);

	memset(r, 0, sizeof *r);
	r->m = m;
	r->top = top;
	r->syms = calloc(m->nprocs + 1, sizeof *r->syms);
	for (int o = 0; o < NORDERS; o++) {
		r->order[o] = calloc(n + 1, sizeof *r->order[o]);
		if (!r->syms || !r->order[o]) {
			fputs("hmo-report: out of memory\n", stderr);
			exit(1);
		}
		for (size_t i = 0; i < n; i++)
			if (site_key(all[i], (enum site_order)o))
				r->order[o][r->norder[o]++] = all[i];
		sorting = (enum site_order)o;
		qsort(r->order[o], r->norder[o], sizeof *r->order[o], by_key);
	}
	free(all);
	r->counted = m->counted;
	memcpy(r->calls, m->calls, sizeof r->calls);
	advise(r);
}

void report_done(struct report *r)
{
	for (size_t i = 0; i <= r->m->nprocs; i++)
		sym_free(r->syms[i]);
	free(r->syms);
	for (int o = 0; o < NORDERS; o++)
		free(r->order[o]);
}
