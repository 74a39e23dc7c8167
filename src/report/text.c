/* text.c: the text report, at most 100 columns wide. */
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols.h"

static const char *const fn_names[FN_COUNT] = {
	"malloc", "calloc", "realloc", "reallocarray", "free", "free_sized", "free_aligned_sized",
	"posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc", "malloc_usable_size",
	"mmap", "mmap64", "munmap", "mremap", "memcpy", "memmove", "memset", "__memcpy_chk",
	"__memmove_chk", "__memset_chk",
};

const char *report_fn_name(unsigned fn)
{
	return fn < FN_COUNT ? fn_names[fn] : "?";
}

/* ---- number formatting ---------------------------------------------------------- */

static const char *grouped(char *buf, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v), k = 0;

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf[k++] = ',';
		buf[k++] = tmp[i];
	}
	buf[k] = '\0';
	return buf;
}

const char *report_bytes(char *buf, uint64_t v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, 32, "%llu B", (unsigned long long)v);
	else
		snprintf(buf, 32, d < 10 ? "%.2f %s" : d < 100 ? "%.1f %s" : "%.0f %s", d, unit[u]);
	return buf;
}

const char *report_ns(char *buf, uint64_t ns)
{
	if (ns < 10000)
		snprintf(buf, 32, "%llu ns", (unsigned long long)ns);
	else if (ns < 10000000)
		snprintf(buf, 32, "%.1f us", (double)ns / 1e3);
	else if (ns < 10000000000ull)
		snprintf(buf, 32, "%.1f ms", (double)ns / 1e6);
	else
		snprintf(buf, 32, "%.2f s", (double)ns / 1e9);
	return buf;
}

static const char *gbs(char *buf, uint64_t mbs)
{
	snprintf(buf, 32, "%.1f", (double)mbs / 1000.0);
	return buf;
}

/* A size as an HMO_* value: 256K, 1M, 2G. */
static const char *opt_size(char *buf, uint64_t v)
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

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

/* ---- sections --------------------------------------------------------------------- */

static void heading(FILE *o, const char *title)
{
	fprintf(o, "\n== %s ", title);
	for (size_t i = strlen(title) + 4; i < 100; i++)
		fputc('=', o);
	fputc('\n', o);
}

static void overview(FILE *o, const struct model *m)
{
	char a[32], b[32], c[32];

	heading(o, "overview");
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct proc *p = &m->procs[i];
		uint64_t dur = p->last_ns - p->start_ns;
		fprintf(o, "process %u (parent %u): %.90s\n", p->pid, p->ppid,
			p->cmdline && *p->cmdline ? p->cmdline : p->exe);
		fprintf(o, "  ran %s; ", report_ns(a, dur));
		if (!p->ended)
			fprintf(o, "no end record (killed, or still running)%s\n",
				p->partial ? ", trace cut short" : "");
		else if (p->end.how == HMO_END_SIGNAL)
			fprintf(o, "ended by signal %d\n", p->end.status);
		else if (p->end.how == HMO_END__EXIT)
			fprintf(o, "ended by _exit(%d)\n", p->end.status);
		else
			fprintf(o, "ended by exit\n");
		if (p->samples) {
			fprintf(o, "  peak RSS %s, minor faults %s, major faults %s\n", report_bytes(a, p->peak_rss),
				grouped(b, p->minflt), grouped(c, p->majflt));
			fprintf(o, "  huge pages: peak AnonHugePages %s (%.0f%% of peak RSS)\n",
				report_bytes(a, p->peak_anon_huge), pct(p->peak_anon_huge, p->peak_rss));
			if (p->peak_pool_live || p->peak_pool_cached)
				fprintf(o, "  frame pool: peak live %s, peak cached %s\n",
					report_bytes(a, p->peak_pool_live), report_bytes(b, p->peak_pool_cached));
		}
		if (p->end.dropped)
			fprintf(o, "  %s records were lost (a failed write)\n", grouped(a, p->end.dropped));
		if (p->options && *p->options) {
			fputs("  options:", o);
			for (const char *s = p->options; *s;) {
				size_t n = strcspn(s, "\n");
				fprintf(o, " %.*s", (int)n, s);
				s += n + (s[n] == '\n');
			}
			fputc('\n', o);
		}
	}
}

static void allocations(FILE *o, const struct model *m)
{
	char a[32], b[32], c[32], d[32];
	struct hmo_rec_fn sum[FN_COUNT];
	bool any = false;

	memset(sum, 0, sizeof sum);
	for (size_t i = 0; i < m->nprocs; i++) {
		for (int f = 0; f < FN_COUNT; f++) {
			sum[f].calls += m->procs[i].fn[f].calls;
			sum[f].bytes += m->procs[i].fn[f].bytes;
			sum[f].large_calls += m->procs[i].fn[f].large_calls;
			sum[f].large_bytes += m->procs[i].fn[f].large_bytes;
		}
		any |= m->procs[i].counted;
	}
	heading(o, "allocations");
	if (any) {
		fprintf(o, "%-20s %16s %16s %14s %16s\n", "all calls", "calls", "bytes", "large", "large bytes");
		for (int f = 0; f < FN_COUNT; f++) {
			if (!sum[f].calls)
				continue;
			fprintf(o, "%-20s %16s %16s %14s %16s\n", fn_names[f], grouped(a, sum[f].calls),
				f == FN_FREE ? "" : report_bytes(b, sum[f].bytes), grouped(c, sum[f].large_calls),
				report_bytes(d, sum[f].large_bytes));
		}
	} else {
		fputs("no counters: the processes did not exit normally\n", o);
	}
	fprintf(o, "\n%-20s %10s %12s %9s %9s %9s %9s %18s\n", "large blocks", "count", "bytes",
		"pool hit", "new", "fallback", "failed", "backing");
	for (int f = 0; f < FN_COUNT; f++) {
		const struct fn_events *e = &m->fn[f];
		if (!e->count || f >= FN_MMAP)
			continue;
		char back[40] = "";
		if (e->backing_bytes[HMO_BACK_HUGETLB] || e->backing_bytes[HMO_BACK_THP] ||
		    e->backing_bytes[HMO_BACK_4K]) {
			uint64_t tot = e->backing_bytes[1] + e->backing_bytes[2] + e->backing_bytes[3];
			snprintf(back, sizeof back, "%s%.0f%% huge",
				 e->backing_bytes[HMO_BACK_HUGETLB] ? "hugetlb+THP " : "THP ",
				 pct(e->backing_bytes[1] + e->backing_bytes[2], tot));
		}
		uint64_t pooled = e->outcome[HMO_OUT_POOL_HIT] + e->outcome[HMO_OUT_POOL_MISS];
		char hit[16] = "-";
		if (pooled)
			snprintf(hit, sizeof hit, "%.1f%%", pct(e->outcome[HMO_OUT_POOL_HIT], pooled));
		fprintf(o, "%-20s %10s %12s %9s %9s %9llu %9llu %18s\n", fn_names[f], grouped(a, e->count),
			is_free_fn(f) ? "" : report_bytes(b, e->bytes), is_free_fn(f) ? "" : hit,
			is_free_fn(f) ? "" : grouped(c, e->outcome[HMO_OUT_POOL_MISS]),
			(unsigned long long)e->outcome[HMO_OUT_FALLBACK],
			(unsigned long long)e->outcome[HMO_OUT_FAILED], back);
	}
	for (int f = FN_MMAP; f <= FN_MREMAP; f++) {
		const struct fn_events *e = &m->fn[f];
		if (e->count)
			fprintf(o, "%-20s %10s %12s %9s %9s %9s %9llu\n", fn_names[f], grouped(a, e->count),
				report_bytes(b, e->bytes), "", "", "",
				(unsigned long long)e->outcome[HMO_OUT_FAILED]);
	}
	/* Where pool memory was placed, when the trace knows the node. */
	uint64_t nodes[65] = { 0 };
	int known = 0;
	for (int f = 0; f < FN_MMAP; f++)
		for (int n = 1; n < 65; n++)
			nodes[n] += m->fn[f].node_bytes[n];
	for (int n = 1; n < 65; n++)
		known += nodes[n] != 0;
	if (known) {
		fputs("pool blocks by NUMA node:", o);
		for (int n = 1; n < 65; n++)
			if (nodes[n])
				fprintf(o, " node %d %s", n - 1, report_bytes(a, nodes[n]));
		fputc('\n', o);
	}
}

static void latency(FILE *o, const struct model *m)
{
	char a[32], b[32], c[32], d[32], e[32];
	bool any = false;

	heading(o, "latency of traced calls");
	fprintf(o, "%-20s %12s %12s %12s %12s %12s\n", "function", "count", "p50", "p90", "p99", "max");
	for (int f = 0; f < FN_COUNT; f++) {
		const struct lhist *h = &m->fn[f].lat;
		if (!h->n)
			continue;
		any = true;
		fprintf(o, "%-20s %12s %12s %12s %12s %12s\n", fn_names[f], grouped(a, h->n),
			report_ns(b, lh_quantile(h, 0.5)), report_ns(c, lh_quantile(h, 0.9)),
			report_ns(d, lh_quantile(h, 0.99)), report_ns(e, h->max));
	}
	if (!any)
		fputs("no large allocations or maps were traced\n", o);
}

static void copies(FILE *o, const struct model *m)
{
	char a[32], b[32], c[32], d[32], e[32], f[32], g[32];

	heading(o, "copies");
	if (!m->copy_count) {
		fputs("no copies at or above HMO_TRACE_COPY_MIN were traced\n", o);
		return;
	}
	fprintf(o, "%s copies, %s in %s: %s GB/s overall\n", grouped(a, m->copy_count),
		report_bytes(b, m->copy_bytes), report_ns(c, m->copy_ns),
		gbs(d, m->copy_ns ? m->copy_bytes * 1000 / m->copy_ns : 0));
	fprintf(o, "%-22s %10s %12s %12s %10s %10s %10s\n", "size", "count", "bytes", "time", "GB/s p10",
		"p50", "p90");
	for (int k = 0; k < 65; k++) {
		const struct copy_class *x = &m->copies[k];
		if (!x->count)
			continue;
		char range[40];
		uint64_t lo = k ? (uint64_t)1 << (k - 1) : 0;
		snprintf(range, sizeof range, "%s .. %s", report_bytes(e, lo),
			 report_bytes(g, k < 64 ? ((uint64_t)1 << k) : UINT64_MAX));
		fprintf(o, "%-22s %10s %12s %12s %10s %10s %10s\n", range, grouped(a, x->count),
			report_bytes(b, x->bytes), report_ns(c, x->ns), gbs(d, lh_quantile(&x->rate, 0.1)),
			gbs(f, lh_quantile(&x->rate, 0.5)), gbs(e, lh_quantile(&x->rate, 0.9)));
	}
}

/* ---- call sites ------------------------------------------------------------------ */

struct ctx {
	const struct model *m;
	struct symbolizer **syms;	/* one per process, made when first needed */
	unsigned top;
};

static struct symbolizer *sym_for(struct ctx *x, uint32_t proc)
{
	if (!x->syms[proc])
		x->syms[proc] = sym_new(&x->m->procs[proc]);
	return x->syms[proc];
}

static void print_stack(FILE *o, struct ctx *x, const struct site *s, unsigned max_frames)
{
	char buf[512];
	struct symbolizer *sy = sym_for(x, s->proc);

	if (!s->pcs) {
		fputs("      (stack not in the trace)\n", o);
		return;
	}
	for (uint32_t i = 0; i < s->depth && i < max_frames; i++) {
		if (sy)
			sym_frame(sy, s->pcs[i], buf, sizeof buf);
		else
			snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)s->pcs[i]);
		fprintf(o, "      %s %.88s\n", i ? "  " : "at", buf);
	}
}

typedef uint64_t (*site_key)(const struct site *);
static site_key sort_key;

static int by_key(const void *a, const void *b)
{
	uint64_t x = sort_key(*(const struct site *const *)a), y = sort_key(*(const struct site *const *)b);
	return x < y ? 1 : x > y ? -1 : 0;
}

static uint64_t k_bytes(const struct site *s) { return s->alloc_bytes; }
static uint64_t k_count(const struct site *s) { return s->allocs; }
static uint64_t k_faults(const struct site *s) { return s->faults; }
static uint64_t k_copy(const struct site *s) { return s->copy_bytes; }
static uint64_t k_leak(const struct site *s) { return s->leaked_bytes; }

static void top_sites(FILE *o, struct ctx *x, struct site **v, size_t n, const char *title, site_key key)
{
	char a[32], b[32], c[32];
	size_t with = 0, shown = 0;
	uint64_t rest = 0;

	sort_key = key;
	qsort(v, n, sizeof *v, by_key);
	for (size_t i = 0; i < n && key(v[i]); i++)
		with++;
	heading(o, title);
	if (!with) {
		fputs("none\n", o);
		return;
	}
	for (size_t i = 0; i < with; i++) {
		const struct site *s = v[i];
		if (shown == x->top) {
			rest += key(s);
			continue;
		}
		shown++;
		unsigned pid = x->m->procs[s->proc].pid;
		if (key == k_copy)
			fprintf(o, "%s in %s copies (%s, median %s GB/s), pid %u:\n", report_bytes(a, s->copy_bytes),
				grouped(b, s->copies), report_fn_name(s->fn),
				gbs(c, s->copy_rate ? lh_quantile(s->copy_rate, 0.5) : 0), pid);
		else if (key == k_leak)
			fprintf(o, "%s in %s blocks never freed, pid %u:\n", report_bytes(a, s->leaked_bytes),
				grouped(b, s->leaked), pid);
		else if (key == k_bytes)
			fprintf(o, "%s in %s calls to %s, pid %u:\n", report_bytes(a, s->alloc_bytes),
				grouped(b, s->allocs), report_fn_name(s->fn), pid);
		else if (key == k_count)
			fprintf(o, "%s calls to %s, %s, pid %u:\n", grouped(b, s->allocs), report_fn_name(s->fn),
				report_bytes(a, s->alloc_bytes), pid);
		else
			fprintf(o, "~%s page faults: %s calls to %s, %s, pid %u:\n", grouped(c, s->faults),
				grouped(b, s->allocs), report_fn_name(s->fn), report_bytes(a, s->alloc_bytes), pid);
		print_stack(o, x, s, 6);
	}
	if (with > shown) {
		if (key == k_count || key == k_faults)
			fprintf(o, "and %s %s from %zu other places\n", grouped(a, rest),
				key == k_count ? "calls" : "faults", with - shown);
		else
			fprintf(o, "and %s from %zu other places\n", report_bytes(a, rest), with - shown);
	}
}

/* ---- advice ------------------------------------------------------------------------ */

static void advice(FILE *o, struct ctx *x, struct site **v, size_t n)
{
	const struct model *m = x->m;
	char a[32], b[32], c[32], frame[512];
	unsigned said = 0;

	heading(o, "advice");
	/* The biggest frame site: what the pool did for it. */
	sort_key = k_bytes;
	qsort(v, n, sizeof *v, by_key);
	if (n && v[0]->allocs >= 2 && v[0]->pcs && v[0]->depth) {
		const struct site *s = v[0];
		sym_frame(sym_for(x, s->proc), s->pcs[0], frame, sizeof frame);
		uint64_t hits = m->fn[s->fn].outcome[HMO_OUT_POOL_HIT], tot = m->fn[s->fn].count;
		uint64_t each = s->alloc_bytes / s->allocs;
		fprintf(o, "- %s blocks from %.60s, %s times: pool hit rate %.0f%% for %s, "
			"~%s page faults avoided\n", report_bytes(a, each), frame, grouped(b, s->allocs),
			pct(hits, tot), report_fn_name(s->fn), grouped(c, hits * (each / 4096)));
		said++;
	}
	/* Blocks just under the threshold: the pool never sees them. */
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct proc *p = &m->procs[i];
		uint64_t under = 0, over = 0, thr = p->threshold ? p->threshold : (1u << 20);
		unsigned tb = 64u - (unsigned)__builtin_clzll(thr);	/* thr's bucket */
		char t1[32], t2[32];
		/* The two buckets below the threshold's: blocks from thr/4 to thr. */
		for (int f = 0; f < FN_MMAP; f++) {
			if (is_free_fn(f) || f == FN_MALLOC_USABLE_SIZE)
				continue;
			for (unsigned k = tb >= 2 ? tb - 2 : 0; k < tb; k++)
				under += p->fn[f].hist[k];
			over += p->fn[f].large_calls;
		}
		if (under > 2 * over && under >= 100) {
			fprintf(o, "- pid %u: %s allocations from %s to %s, below HMO_THRESHOLD=%s, were not "
				"pooled: try HMO_THRESHOLD=%s\n", p->pid, grouped(a, under),
				report_bytes(b, (uint64_t)1 << (tb >= 3 ? tb - 3 : 0)), report_bytes(c, thr),
				opt_size(t1, thr), opt_size(t2, (uint64_t)1 << (tb >= 3 ? tb - 3 : 0)));
			said++;
		}
		if (p->options && strstr(p->options, "HMO_POOL=off") && m->fn[FN_MALLOC].count) {
			fprintf(o, "- pid %u ran with HMO_POOL=off: its large blocks were fresh memory each time\n",
				p->pid);
			said++;
		}
		if (p->samples && p->peak_rss > (256u << 20) && pct(p->peak_anon_huge, p->peak_rss) < 20) {
			fprintf(o, "- pid %u: only %.0f%% of its peak RSS was on huge pages; check "
				"/sys/kernel/mm/transparent_hugepage/enabled, or reserve hugetlb pages\n", p->pid,
				pct(p->peak_anon_huge, p->peak_rss));
			said++;
		}
	}
	uint64_t fb = 0;
	for (int f = 0; f < FN_MMAP; f++)
		fb += m->fn[f].outcome[HMO_OUT_FALLBACK];
	if (fb) {
		fprintf(o, "- %s large blocks fell back to the program's allocator: the pool's range was "
			"full or refused (see the hmo: lines of HMO_STATS)\n", grouped(a, fb));
		said++;
	}
	/* Slow copies of large blocks. */
	for (int k = 22; k < 65; k++) {
		const struct copy_class *c2 = &m->copies[k];
		if (c2->count >= 10 && lh_quantile(&c2->rate, 0.5) < 4000) {
			fprintf(o, "- copies of %s and more ran at a median %s GB/s: likely first touch of "
				"fresh pages (page faults) or a remote NUMA node\n",
				report_bytes(a, (uint64_t)1 << (k - 1)), gbs(b, lh_quantile(&c2->rate, 0.5)));
			said++;
			break;
		}
	}
	uint64_t leaked = 0;
	for (size_t i = 0; i < n; i++)
		leaked += v[i]->leaked_bytes;
	if (leaked >= (64u << 20)) {
		fprintf(o, "- %s of large blocks were never freed (see above)\n", report_bytes(a, leaked));
		said++;
	}
	if (!said)
		fputs("nothing to change: no rule fired\n", o);
}

bool is_free_fn(int f)
{
	return f == FN_FREE || f == FN_FREE_SIZED || f == FN_FREE_ALIGNED_SIZED;
}

void report_text(FILE *o, struct model *m, unsigned top)
{
	char a[32], b[32];
	size_t n;
	struct site **v = model_sites(m, &n);
	struct ctx x = { m, calloc(m->nprocs + 1, sizeof(struct symbolizer *)), top };
	uint64_t t0 = UINT64_MAX, t1 = 0;

	for (size_t i = 0; i < m->nprocs; i++) {
		if (m->procs[i].start_ns < t0)
			t0 = m->procs[i].start_ns;
		if (m->procs[i].last_ns > t1)
			t1 = m->procs[i].last_ns;
	}
	fprintf(o, "hmo-report: %zu process%s, %s events, %s traced\n", m->nprocs, m->nprocs == 1 ? "" : "es",
		grouped(a, m->events + m->copy_count), report_ns(b, t1 > t0 ? t1 - t0 : 0));
	overview(o, m);
	allocations(o, m);
	latency(o, m);
	copies(o, m);
	top_sites(o, &x, v, n, "top call sites by bytes (large blocks)", k_bytes);
	top_sites(o, &x, v, n, "top call sites by calls (large blocks)", k_count);
	top_sites(o, &x, v, n, "top call sites by page faults (estimated)", k_faults);
	top_sites(o, &x, v, n, "top call sites by bytes copied", k_copy);
	top_sites(o, &x, v, n, "large blocks never freed, by call site", k_leak);
	advice(o, &x, v, n);
	for (size_t i = 0; i < m->nprocs; i++)
		sym_free(x.syms[i]);
	free(x.syms);
	free(v);
}
