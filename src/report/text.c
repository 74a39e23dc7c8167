/* text.c: the text report, at most 100 columns wide. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define WIDTH 100

static int is_cont(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

/* The N bytes at S as at most W (>= 5) bytes in OUT (W + 1 bytes): a longer text keeps
 * its head and tail around "...", cut between UTF-8 characters, and control characters
 * (a trace names a program and its arguments, which can hold anything) become '?'. */
const char *text_fit(char *out, const char *s, size_t n, size_t w)
{
	size_t head = n, tail = 0, k = 0;

	if (n > w) {
		head = (w - 3 + 1) / 2;
		tail = w - 3 - head;
		while (head && is_cont(s[head]))
			head--;
		while (tail && is_cont(s[n - tail]))
			tail--;
	}
	for (size_t i = 0; i < head; i++)
		out[k++] = s[i];
	if (n > w) {
		memcpy(out + k, "...", 3), k += 3;
		for (size_t i = n - tail; i < n; i++)
			out[k++] = s[i];
	}
	for (size_t i = 0; i < k; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	out[k] = '\0';
	return out;
}

/* The words of S (split at SEP), from column COL, wrapped at WIDTH with continuation
 * lines indented by INDENT, then a newline; a word too long for a line is cut by text_fit(). */
static void flow(FILE *o, const char *s, const char *sep, size_t col, size_t indent)
{
	char word[WIDTH + 1];
	size_t start = col;

	while (*s) {
		s += strspn(s, sep);
		if (!*s)
			break;
		size_t n = strcspn(s, sep);
		if (col > start && col + 1 + n > WIDTH) {
			fprintf(o, "\n%*s", (int)indent, "");
			col = start = indent;
		} else if (col > start) {
			fputc(' ', o);
			col++;
		}
		fputs(text_fit(word, s, n, WIDTH - col), o);
		col += n < WIDTH - col ? n : WIDTH - col;
		s += n;
	}
	fputc('\n', o);
}

/* A sentence of the report, wrapped at WIDTH with a hanging indent of two. */
void text_say(FILE *o, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	flow(o, buf, " ", 0, 2);
}

/* A line of a table, from fmt_add's pieces: the spec reads as the row prints. */
static void put(FILE *o, const char *spec, ...)
{
	char mem[512];
	struct fmt_buf b;
	va_list ap;

	fmt_init(&b, mem, sizeof mem);
	va_start(ap, spec);
	fmt_vadd(&b, spec, ap);
	va_end(ap);
	fputs(mem, o);
}

static const char *calls_word(uint64_t n)
{
	return n == 1 ? "call" : "calls";
}

void text_heading(FILE *o, const char *title)
{
	fprintf(o, "\n== %s ", title);
	for (size_t i = strlen(title) + 4; i < 100; i++)
		fputc('=', o);
	fputc('\n', o);
}

static void one_process(FILE *o, const struct proc *p)
{
	const char *cmd = p->cmdline && *p->cmdline ? p->cmdline : p->exe ? p->exe : "";
	char a[32], b[32], line[WIDTH + 1];
	int col = fprintf(o, "process %u (parent %u): ", p->pid, p->ppid);

	fprintf(o, "%s\n", text_fit(line, cmd, strlen(cmd), WIDTH - (size_t)col));
	fprintf(o, "  ran %s; ", report_ns(a, p->last_ns - p->start_ns));
	if (p->exec_next) {
		const char *exe = p->exec_exe ? p->exec_exe : "?", *base = strrchr(exe, '/');
		base = base ? base + 1 : exe;
		fprintf(o, "became %s by exec\n", text_fit(line, base, strlen(base), 60));
	} else if (!p->ended)
		fprintf(o, "no end record (killed, or still running)%s\n",
			p->partial ? ", its trace cut short" : "");
	else if (p->end.how == HMO_END_SIGNAL)
		fprintf(o, "died of signal %d\n", p->end.status);
	else if (p->end.how == HMO_END__EXIT)
		fprintf(o, "ended by _exit(%d)\n", p->end.status);
	else
		fprintf(o, "ended by exit\n");
	if (p->samples) {
		put(o, "  peak RSS %s, %G minor and %G major page faults\n", report_bytes(a, p->peak_rss), p->minflt,
		    p->majflt);
		fprintf(o, "  huge pages: peak AnonHugePages %s, %.0f%% of peak RSS\n",
			report_bytes(a, p->peak_anon_huge), report_pct(p->peak_anon_huge, p->peak_rss));
		if (p->peak_pool_live || p->peak_pool_cached)
			fprintf(o, "  frame pool: peak live %s, peak cached %s\n",
				report_bytes(a, p->peak_pool_live), report_bytes(b, p->peak_pool_cached));
	}
	if (p->pool.why) {
		char pages[REPORT_PAGES];
		fputs("  pages: ", o);
		flow(o, report_pages(pages, p), " ", 9, 4);
	}
	if (p->options && *p->options) {
		fputs("  options: ", o);
		flow(o, p->options, "\n", 11, 4);
	}
}

/* A build or a test suite under hmo-run has thousands of processes: the overview
 * shows the PROCS_SHOWN of highest peak RSS, in trace order, and sums up the rest. */
#define PROCS_SHOWN 10

/* Highest peak RSS first; among equals, trace order (the procs array's). */
static int by_peak_rss(const void *a, const void *b)
{
	const struct proc *p = *(const struct proc *const *)a, *q = *(const struct proc *const *)b;

	if (p->peak_rss != q->peak_rss)
		return p->peak_rss > q->peak_rss ? -1 : 1;
	return p < q ? -1 : p > q;
}

static int by_trace_order(const void *a, const void *b)
{
	const struct proc *p = *(const struct proc *const *)a, *q = *(const struct proc *const *)b;

	return p < q ? -1 : p > q;
}

static void overview(FILE *o, const struct model *m)
{
	char a[32];
	const struct proc **by;

	text_heading(o, "overview");
	if (m->nprocs + m->fold.count <= PROCS_SHOWN) {
		for (size_t i = 0; i < m->nprocs; i++)
			one_process(o, &m->procs[i]);
		return;
	}
	if (!(by = malloc(m->nprocs * sizeof *by))) {
		fputs("(the processes: out of memory)\n", o);
		return;
	}
	for (size_t i = 0; i < m->nprocs; i++)
		by[i] = &m->procs[i];
	qsort(by, m->nprocs, sizeof *by, by_peak_rss);
	qsort(by, PROCS_SHOWN, sizeof *by, by_trace_order);
	for (size_t i = 0; i < PROCS_SHOWN; i++)
		one_process(o, by[i]);
	uint64_t exits = m->fold.exits, execs = m->fold.execs, signals = m->fold.signals, none = m->fold.none;
	uint64_t peak = m->fold.peak_rss, minflt = m->fold.minflt;
	for (size_t i = PROCS_SHOWN; i < m->nprocs; i++) {
		const struct proc *p = by[i];
		if (p->exec_next)
			execs++;
		else if (!p->ended)
			none++;
		else if (p->end.how == HMO_END_SIGNAL)
			signals++;
		else
			exits++;
		peak = p->peak_rss > peak ? p->peak_rss : peak;
		minflt += p->minflt;
	}
	free(by);
	char rest[32], e[5][32], json[80];
	if (m->fold.count)
		snprintf(json, sizeof json, "--json lists the %s of highest peak RSS",
			 report_grouped(rest, m->nprocs));
	else
		snprintf(json, sizeof json, "--json lists every one");
	text_say(o, "and %s other processes, of lower peak RSS (%s): %s ended by exit, "
	    "%s became another program by exec, %s died of a signal, %s have no end record; "
	    "peak RSS at most %s, %s minor page faults in all",
	    report_grouped(rest, m->nprocs + m->fold.count - PROCS_SHOWN), json,
	    report_grouped(e[0], exits), report_grouped(e[1], execs), report_grouped(e[2], signals),
	    report_grouped(e[3], none), report_bytes(a, peak), report_grouped(e[4], minflt));
}

/* Calls of the malloc family by power-of-two size, from the counters. */
static void size_classes(FILE *o, const struct report *r)
{
	char a[32], b[32];
	uint64_t v[HMO_TRACE_BUCKETS] = { 0 }, total = 0;

	for (unsigned f = 0; f < FN_MMAP; f++) {
		if (is_free_fn(f) || f == FN_MALLOC_USABLE_SIZE)
			continue;
		for (int k = 0; k < HMO_TRACE_BUCKETS; k++) {
			v[k] += r->calls[f].hist[k];
			total += r->calls[f].hist[k];
		}
	}
	if (!total)
		return;
	fprintf(o, "\n%-24s %14s %8s\n", "allocation sizes", "calls", "share");
	for (int k = 0; k < HMO_TRACE_BUCKETS; k++) {
		if (!v[k])
			continue;
		char range[48];
		if (k == 0)
			snprintf(range, sizeof range, "0");
		else
			snprintf(range, sizeof range, "%s .. %s", report_bytes(a, (uint64_t)1 << (k - 1)),
				 report_bytes(b, k < 64 ? ((uint64_t)1 << k) - 1 : UINT64_MAX));
		char share[16];
		snprintf(share, sizeof share, "%.1f%%", report_pct(v[k], total));
		put(o, "%-24s %14G %8s\n", range, v[k], share);
	}
}

/* Every call of each function, from the counters. */
static void every_call(FILE *o, const struct report *r)
{
	char b[32], d[32];

	put(o, "%-20s %16s %16s %14s %16s\n", "every call", "calls", "bytes", "large", "large bytes");
	for (unsigned f = 0; f < FN_COUNT; f++) {
		const struct hmo_rec_fn *x = &r->calls[f];
		if (x->calls)
			put(o, "%-20s %16G %16s %14G %16s\n", hmo_fn_name(f), x->calls,
			    is_free_fn(f) ? "" : report_bytes(b, x->bytes), x->large_calls, report_bytes(d, x->large_bytes));
	}
	size_classes(o, r);
}

/* The large blocks of each function: what the pool did with them, and their pages. */
static void large_blocks(FILE *o, const struct model *m)
{
	char b[32], c[32];

	put(o, "\n%-20s %10s %12s %9s %9s %9s %9s %15s\n", "large blocks", "count", "bytes", "pool hit", "new",
	    "fallback", "failed", "on huge pages");
	for (unsigned f = 0; f < FN_COUNT; f++) {
		const struct fn_events *e = &m->fn[f];
		if (!e->count || f >= FN_MEMCPY)
			continue;
		uint64_t pooled = e->outcome[HMO_OUT_POOL_HIT] + e->outcome[HMO_OUT_POOL_MISS];
		uint64_t backed = e->backing_bytes[HMO_BACK_HUGETLB] + e->backing_bytes[HMO_BACK_THP] +
				  e->backing_bytes[HMO_BACK_4K];
		char hit[16] = "", huge[16] = "";
		if (pooled)
			snprintf(hit, sizeof hit, "%.1f%%", report_pct(e->outcome[HMO_OUT_POOL_HIT], pooled));
		if (backed)
			snprintf(huge, sizeof huge, "%.0f%%",
				 report_pct(backed - e->backing_bytes[HMO_BACK_4K], backed));
		put(o, "%-20s %10G %12s %9s %9s %9U %9U %15s\n", hmo_fn_name(f), e->count,
		    is_free_fn(f) ? "" : report_bytes(b, e->bytes), hit,
		    pooled ? report_grouped(c, e->outcome[HMO_OUT_POOL_MISS]) : "",
		    e->outcome[HMO_OUT_FALLBACK], e->outcome[HMO_OUT_FAILED], huge);
	}
}

/* Pool blocks by NUMA node, when a trace knew their nodes. */
static void numa_nodes(FILE *o, const struct model *m)
{
	char a[32];
	uint64_t nodes[65] = { 0 };
	int known = 0;

	for (unsigned f = 0; f < FN_MMAP; f++)
		for (int n = 1; n < 65; n++)
			nodes[n] += m->fn[f].node_bytes[n];
	for (int n = 1; n < 65; n++)
		known += nodes[n] != 0;
	if (!known)
		return;
	fputs("pool blocks by NUMA node:", o);
	for (int n = 1; n < 65; n++)
		if (nodes[n])
			put(o, " node %d %s", n - 1, report_bytes(a, nodes[n]));
	fputc('\n', o);
}

static void allocations(FILE *o, const struct report *r)
{
	text_heading(o, "allocations");
	if (r->counted)
		every_call(o, r);
	else
		fputs("no counters: no process reached exit\n", o);
	large_blocks(o, r->m);
	numa_nodes(o, r->m);
}

/* The value at quantile q of a log2 histogram of ns: its bucket's upper bound. */
static uint64_t log2_quantile(const uint64_t *h, uint64_t n, double q)
{
	uint64_t rank = (uint64_t)__builtin_ceil(q * (double)n), seen = 0;

	rank = rank ? rank - 1 : 0;

	for (int k = 0; k < HMO_TRACE_BUCKETS; k++) {
		seen += h[k];
		if (seen > rank)
			return k ? (k >= 64 ? UINT64_MAX : ((uint64_t)1 << k) - 1) : 0;
	}
	return 0;
}

static void latency(FILE *o, const struct report *r)
{
	const struct model *m = r->m;
	char b[32], c[32], d[32], e[32];
	bool any = false, small = false;

	text_heading(o, "latency");
	put(o, "%-20s %12s %12s %12s %12s %12s\n", "large calls", "count", "p50", "p90", "p99", "max");
	for (unsigned f = 0; f < FN_COUNT; f++) {
		const struct lhist *h = &m->fn[f].lat;
		if (!h->n)
			continue;
		any = true;
		put(o, "%-20s %12G %12s %12s %12s %12s\n", hmo_fn_name(f), h->n, report_ns(b, lh_quantile(h, 0.5)),
		    report_ns(c, lh_quantile(h, 0.9)), report_ns(d, lh_quantile(h, 0.99)), report_ns(e, h->max));
	}
	if (!any)
		fputs("no large allocations or maps were traced\n", o);
	for (unsigned f = 0; f < FN_COUNT; f++)
		small |= r->calls[f].lat_samples != 0;
	if (!small)
		return;
	put(o, "\n%-20s %12s %12s %12s %12s   (sampled: at most, by power of two)\n", "small calls", "timed",
	    "p50", "p90", "p99");
	for (unsigned f = 0; f < FN_COUNT; f++) {
		const struct hmo_rec_fn *x = &r->calls[f];
		if (x->lat_samples)
			put(o, "%-20s %12G %12s %12s %12s\n", hmo_fn_name(f), x->lat_samples,
			    report_ns(b, log2_quantile(x->lat_hist, x->lat_samples, 0.5)),
			    report_ns(c, log2_quantile(x->lat_hist, x->lat_samples, 0.9)),
			    report_ns(d, log2_quantile(x->lat_hist, x->lat_samples, 0.99)));
	}
}

static void copies(FILE *o, const struct model *m)
{
	char b[32], c[32], d[32], e[32], f[32], g[32];

	text_heading(o, "copies");
	if (!m->copy_count) {
		fputs("no copies at or above HMO_TRACE_COPY_MIN were traced\n", o);
		return;
	}
	put(o, "%G copies, %s in %s: %s GB/s overall\n", m->copy_count, report_bytes(b, m->copy_bytes),
	    report_ns(c, m->copy_ns), report_gbs(d, m->copy_ns ? m->copy_bytes * 1000 / m->copy_ns : 0));
	put(o, "%-22s %10s %12s %12s %10s %10s %10s\n", "size", "count", "bytes", "time", "GB/s p10", "p50", "p90");
	for (int k = 0; k < 65; k++) {
		const struct copy_class *x = &m->copies[k];
		if (!x->count)
			continue;
		char range[48];
		snprintf(range, sizeof range, "%s .. %s", report_bytes(e, k ? (uint64_t)1 << (k - 1) : 0),
			 report_bytes(g, k < 64 ? ((uint64_t)1 << k) : UINT64_MAX));
		put(o, "%-22s %10G %12s %12s %10s %10s %10s\n", range, x->count, report_bytes(b, x->bytes),
		    report_ns(c, x->ns), report_gbs(d, lh_quantile(&x->rate, 0.1)),
		    report_gbs(f, lh_quantile(&x->rate, 0.5)), report_gbs(e, lh_quantile(&x->rate, 0.9)));
	}
}

static void cuda(FILE *o, const struct model *m)
{
	char b[32], c[32], d[32], e[32];

	if (!m->cuda_events)
		return;
	text_heading(o, "cuda");
	put(o, "%-26s %9s %11s %10s %10s %8s %8s %9s\n", "driver call", "count", "bytes", "p50", "p99", "GB/s",
	    "staged", "pool hit");
	for (unsigned i = 0; i < HMO_CUOP_COUNT; i++) {
		const struct cuda_stats *x = &m->cuda[i];
		if (!x->count)
			continue;
		char rate[16] = "", hit[16] = "";
		if (i >= HMO_CUOP_HTOD && i <= HMO_CUOP_2D_ASYNC && x->ns)
			snprintf(rate, sizeof rate, "%.2f", (double)x->bytes / (double)x->ns);
		if (x->pool_hits + x->pool_new)
			snprintf(hit, sizeof hit, "%.1f%%", report_pct(x->pool_hits, x->pool_hits + x->pool_new));
		put(o, "%-26s %9G %11s %10s %10s %8s %8s %9s\n", hmo_cu_name(i), x->count, report_bytes(b, x->bytes),
		    report_ns(c, lh_quantile(&x->lat, 0.5)), report_ns(d, lh_quantile(&x->lat, 0.99)), rate,
		    x->staged ? report_grouped(e, x->staged) : "", hit);
	}
}

/* One row of the GPU's copies: a direction, a host memory kind, a size class. */
static void gpu_copy_row(FILE *o, unsigned dir, unsigned mem, int k, const struct gpu_copies *x)
{
	char a[32], b[32], d[32], e[32], f[32], range[48], rate[16] = "";

	snprintf(range, sizeof range, "%s-%s", report_bytes(a, k ? (uint64_t)1 << (k - 1) : 0),
		 report_bytes(b, k < 64 ? ((uint64_t)1 << k) : UINT64_MAX));
	if (x->ns)
		snprintf(rate, sizeof rate, "%.2f", (double)x->bytes / (double)x->ns);
	put(o, "%-5s %-9s %-17s %8G %10s %10s %9s %9s %9s %7s\n", report_gpu_dir(dir),
	    dir == HMO_GPU_DTOD || dir == HMO_GPU_PTOP ? "" : report_gpu_mem(mem), range, x->count,
	    report_bytes(d, x->bytes), report_ns(e, x->ns), report_ns(f, lh_quantile(&x->dur, 0.5)),
	    report_ns(a, lh_quantile(&x->dur, 0.99)), report_ns(b, x->ns / x->count), rate);
}

/* What the GPU saw: copies by direction, host memory kind and size class. */
static void gpu(FILE *o, const struct model *m)
{
	const struct gpu *g = &m->gpu;
	char a[32], b[32], c[32];

	if (!g->records)
		return;
	text_heading(o, "gpu (CUPTI)");
	put(o, "%-5s %-9s %-17s %8s %10s %10s %9s %9s %9s %7s\n", "copy", "host", "size", "count", "bytes", "device",
	    "median", "p99", "mean", "GB/s");
	for (unsigned dir = 0; dir < GPU_DIRS; dir++)
		for (unsigned mem = 0; mem < GPU_MEMS; mem++)
			for (int k = 0; k < 65; k++)
				if (g->copies[dir][mem][k])
					gpu_copy_row(o, dir, mem, k, g->copies[dir][mem][k]);
	/* API time against device time: where the host waited beyond the copy itself */
	for (unsigned dir = 0; dir < GPU_DIRS; dir++)
		for (unsigned mem = 0; mem < GPU_MEMS; mem++)
			if (g->joined[dir][mem])
				text_say(o, "%s %s: %s calls joined to their device work: API time %s, device time %s "
					"(%.0f%%)", report_gpu_dir(dir), report_gpu_mem(mem),
					report_grouped(a, g->joined[dir][mem]), report_ns(b, g->api_ns[dir][mem]),
					report_ns(c, g->dev_ns[dir][mem]),
					report_pct(g->dev_ns[dir][mem], g->api_ns[dir][mem]));
	if (g->memsets)
		put(o, "memset: %G, %s in %s\n", g->memsets, report_bytes(b, g->memset_bytes), report_ns(c, g->memset_ns));
	if (g->kernels)
		text_say(o, "kernels: %s, %s on the device; %.0f%% of host<->device copy time overlapped them%s",
			report_grouped(a, g->kernels), report_ns(b, g->kernel_ns), g->overlap * 100,
			g->spans_cut ? " (of the first 200,000 of each)" : "");
	for (unsigned mem = 0; mem < GPU_MEMS; mem++)
		if (g->allocs[mem] || g->frees[mem])
			text_say(o, "%s memory: %s allocations (%s), %s frees seen by the driver", report_gpu_mem(mem),
				report_grouped(a, g->allocs[mem]), report_bytes(b, g->alloc_bytes[mem]),
				report_grouped(c, g->frees[mem]));
	/* hmo's pool hides the program's allocations that it serves from CUPTI: the
	 * program's own count comes from hmo's records */
	const struct cuda_stats *ca = &m->cuda[HMO_CUOP_MEM_ALLOC];
	if (ca->count)
		text_say(o, "the program's device allocations: %s, of which hmo's pool served %s without the driver",
			report_grouped(a, ca->count), report_grouped(b, ca->pool_hits));
	if (g->dropped)
		text_say(o, "%s activity records were dropped by CUPTI (its buffers were full)",
			report_grouped(a, g->dropped));
}

static void stack(FILE *o, struct report *r, const struct site *s)
{
	char buf[512], line[WIDTH + 1];

	if (!s->pcs) {
		fputs("      (its stack is not in the trace)\n", o);
		return;
	}
	for (uint32_t i = 0; i < s->depth && i < 6; i++) {
		report_frame(r, s, i, buf, sizeof buf);
		/* a long C++ name keeps its file and line, at the end */
		fprintf(o, "      %s %s\n", i ? "  " : "at", text_fit(line, buf, strlen(buf), WIDTH - 9));
	}
}

static void sites(FILE *o, struct report *r, enum site_order by, const char *title)
{
	char a[32], b[32], c[32];
	size_t others;
	uint64_t rest = report_rest(r, by, &others);

	text_heading(o, title);
	if (!r->norder[by])
		fputs("none\n", o);
	for (size_t i = 0; i < r->norder[by] && i < r->top; i++) {
		const struct site *s = r->order[by][i];
		char pid[80];
		const char *fn = hmo_fn_name(s->fn);
		if (s->procs > 1)
			snprintf(pid, sizeof pid, "%u and %s other processes", s->pid, report_grouped(c, s->procs - 1));
		else
			snprintf(pid, sizeof pid, "%u", s->pid);
		switch (by) {
		case BY_BYTES:
			text_say(o, "%s in %s %s to %s, pid %s:", report_bytes(a, s->alloc_bytes),
				report_grouped(b, s->allocs), calls_word(s->allocs), fn, pid);
			break;
		case BY_CALLS:
			text_say(o, "%s %s to %s, %s, pid %s:", report_grouped(b, s->allocs), calls_word(s->allocs),
				fn, report_bytes(a, s->alloc_bytes), pid);
			break;
		case BY_FAULTS:
			text_say(o, "~%s page faults: %s %s to %s, %s, pid %s:", report_grouped(c, s->faults),
				report_grouped(b, s->allocs), calls_word(s->allocs), fn, report_bytes(a, s->alloc_bytes),
				pid);
			break;
		case BY_COPY:
			text_say(o, "%s in %s %s (%s), median %s GB/s, pid %s:", report_bytes(a, s->copy_bytes),
				report_grouped(b, s->copies), s->copies == 1 ? "copy" : "copies", fn,
				report_gbs(c, s->copy_rate ? lh_quantile(s->copy_rate, 0.5) : 0), pid);
			break;
		default:
			text_say(o, "%s in %s %s never freed, pid %s:", report_bytes(a, s->leaked_bytes),
				report_grouped(b, s->leaked), s->leaked == 1 ? "block" : "blocks", pid);
			break;
		}
		stack(o, r, s);
	}
	if (others && (by == BY_CALLS || by == BY_FAULTS))
		text_say(o, "and %s %s from %zu other places", report_grouped(a, rest),
			by == BY_CALLS ? "calls" : "faults", others);
	else if (others)
		text_say(o, "and %s from %zu other places", report_bytes(a, rest), others);
}

/* "- TEXT", wrapped at WIDTH with a hanging indent of two. */
static void wrap(FILE *o, const char *s)
{
	fputs("- ", o);
	flow(o, s, " ", 2, 2);
}

void report_text(FILE *o, struct report *r)
{
	const struct model *m = r->m;
	char a[32], b[32];
	uint64_t t0 = UINT64_MAX, t1 = 0;

	if (m->nkeys)
		t0 = m->t0, t1 = m->t1;
	text_say(o, "hmo-report: %zu process%s, %s events over %s", m->nkeys, m->nkeys == 1 ? "" : "es",
		report_grouped(a, m->events + m->copy_count), report_ns(b, t1 > t0 ? t1 - t0 : 0));
	overview(o, m);
	allocations(o, r);
	latency(o, r);
	copies(o, m);
	cuda(o, m);
	gpu(o, m);
	sites(o, r, BY_BYTES, "top call sites by bytes (large blocks)");
	sites(o, r, BY_CALLS, "top call sites by calls (large blocks)");
	sites(o, r, BY_FAULTS, "top call sites by page faults (estimated)");
	sites(o, r, BY_COPY, "top call sites by bytes copied");
	sites(o, r, BY_LEAK, "large blocks never freed, by call site");
	text_heading(o, "advice");
	for (unsigned i = 0; i < r->nadvice; i++)
		wrap(o, r->advice[i]);
	if (!r->nadvice)
		fputs("nothing to change: no rule fired\n", o);
}
