/* json.c: the report as JSON (hmo-report --json), schema version 1.
 *
 * The schema is documented in doc/report-json.md. Numbers are integers (bytes, ns,
 * counts; rates in MB/s); a field is never removed within a version, and new ones
 * may appear. */
#include <stdio.h>
#include <string.h>

#include "report.h"

#define SCHEMA 1

void jkey(FILE *o, bool *first, const char *k)
{
	fputs(*first ? "" : ",", o);
	*first = false;
	report_json_str(o, k);
	fputc(':', o);
}

void jnum(FILE *o, bool *first, const char *k, uint64_t v)
{
	jkey(o, first, k);
	fprintf(o, "%llu", (unsigned long long)v);
}

void jint(FILE *o, bool *first, const char *k, int64_t v)
{
	jkey(o, first, k);
	fprintf(o, "%lld", (long long)v);
}

void jtext(FILE *o, bool *first, const char *k, const char *v)
{
	jkey(o, first, k);
	report_json_str(o, v);
}

void jbool(FILE *o, bool *first, const char *k, bool v)
{
	jkey(o, first, k);
	fputs(v ? "true" : "false", o);
}

static void quantiles(FILE *o, bool *first, const char *k, const struct lhist *h)
{
	bool f = true;

	jkey(o, first, k);
	fputc('{', o);
	jnum(o, &f, "count", h->n);
	jnum(o, &f, "p10", lh_quantile(h, 0.1));
	jnum(o, &f, "p50", lh_quantile(h, 0.5));
	jnum(o, &f, "p90", lh_quantile(h, 0.9));
	jnum(o, &f, "p99", lh_quantile(h, 0.99));
	jnum(o, &f, "max", h->max);
	fputc('}', o);
}

static void processes(FILE *o, const struct model *m)
{
	fputs("\"processes\":[", o);
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct proc *p = &m->procs[i];
		bool f = true;
		fputs(i ? ",{" : "{", o);
		jnum(o, &f, "pid", p->pid);
		jnum(o, &f, "ppid", p->ppid);
		jtext(o, &f, "exe", p->exe);
		jtext(o, &f, "cmdline", p->cmdline);
		jtext(o, &f, "trace", p->source);
		jnum(o, &f, "duration_ns", p->last_ns - p->start_ns);
		jbool(o, &f, "ended", p->ended);
		jtext(o, &f, "end", report_end(p));
		jint(o, &f, "end_status", p->end.status);
		jbool(o, &f, "partial", p->partial);
		jnum(o, &f, "records", p->records);
		jnum(o, &f, "dropped_records", p->end.dropped);
		jnum(o, &f, "samples", p->samples);
		jnum(o, &f, "peak_rss", p->peak_rss);
		jnum(o, &f, "minor_faults", p->minflt);
		jnum(o, &f, "major_faults", p->majflt);
		jnum(o, &f, "peak_anon_huge", p->peak_anon_huge);
		jnum(o, &f, "peak_pool_live", p->peak_pool_live);
		jnum(o, &f, "peak_pool_cached", p->peak_pool_cached);
		jnum(o, &f, "threshold", p->threshold);
		jnum(o, &f, "trace_copy_min", p->copy_min);
		if (p->pool.why) {
			char pages[REPORT_PAGES];
			bool fp = true;
			jkey(o, &f, "pool_pages");
			fputc('{', o);
			jtext(o, &fp, "backing", p->pool.backing == HMO_BACK_THP ? "thp" : "4k");
			jnum(o, &fp, "hugetlb_page", p->pool.hugetlb_page);
			jnum(o, &fp, "hugetlb_free", p->pool.hugetlb_free);
			jtext(o, &fp, "why", report_pages_why(p->pool.why));
			jnum(o, &fp, "fresh_thp_mbps", p->pool.thp_mbps);
			jnum(o, &fp, "fresh_4k_mbps", p->pool.small_mbps);
			jbool(o, &fp, "measured_now", p->pool.flags & HMO_POOL_MEASURED_NOW);
			jbool(o, &fp, "free_page_reporting", p->pool.flags & HMO_POOL_FREE_PAGE_REPORTING);
			jtext(o, &fp, "text", report_pages(pages, p));
			fputc('}', o);
		}
		jkey(o, &f, "options");
		fputc('[', o);
		bool fo = true;
		for (const char *s = p->options ? p->options : ""; *s;) {
			size_t n = strcspn(s, "\n");
			char buf[1024];
			snprintf(buf, sizeof buf, "%.*s", (int)(n < 1000 ? n : 1000), s);
			fputs(fo ? "" : ",", o);
			fo = false;
			report_json_str(o, buf);
			s += n + (s[n] == '\n');
		}
		fputs("]}", o);
	}
	fputc(']', o);
	if (m->fold.count) {
		const struct folded *x = &m->fold;
		bool f = true;
		fputs(",\"processes_folded\":{", o);
		jnum(o, &f, "count", x->count);
		jnum(o, &f, "exit", x->exits);
		jnum(o, &f, "exec", x->execs);
		jnum(o, &f, "signal", x->signals);
		jnum(o, &f, "none", x->none);
		jnum(o, &f, "peak_rss_max", x->peak_rss);
		jnum(o, &f, "minor_faults", x->minflt);
		fputc('}', o);
	}
}

static void calls(FILE *o, const struct report *r)
{
	bool first = true;

	fputs(",\"calls\":[", o);
	for (unsigned fn = 0; fn < FN_COUNT; fn++) {
		const struct hmo_rec_fn *x = &r->calls[fn];
		bool f = true;
		if (!x->calls)
			continue;
		fputs(first ? "{" : ",{", o);
		first = false;
		jtext(o, &f, "function", hmo_fn_name(fn));
		jnum(o, &f, "calls", x->calls);
		jnum(o, &f, "bytes", x->bytes);
		jnum(o, &f, "large_calls", x->large_calls);
		jnum(o, &f, "large_bytes", x->large_bytes);
		jkey(o, &f, "size_log2_histogram");
		fputc('[', o);
		for (int k = 0; k < HMO_TRACE_BUCKETS; k++)
			fprintf(o, "%s%llu", k ? "," : "", (unsigned long long)x->hist[k]);
		fputc(']', o);
		jnum(o, &f, "latency_samples", x->lat_samples);
		jkey(o, &f, "latency_log2_ns_histogram");
		fputc('[', o);
		for (int k = 0; k < HMO_TRACE_BUCKETS; k++)
			fprintf(o, "%s%llu", k ? "," : "", (unsigned long long)x->lat_hist[k]);
		fputs("]}", o);
	}
	fputc(']', o);
}

static void large(FILE *o, const struct model *m)
{
	bool first = true;

	fputs(",\"large\":[", o);
	for (unsigned fn = 0; fn < FN_COUNT; fn++) {
		const struct fn_events *e = &m->fn[fn];
		bool f = true;
		if (!e->count)
			continue;
		fputs(first ? "{" : ",{", o);
		first = false;
		jtext(o, &f, "function", hmo_fn_name(fn));
		jnum(o, &f, "count", e->count);
		jnum(o, &f, "bytes", e->bytes);
		jnum(o, &f, "pool_hits", e->outcome[HMO_OUT_POOL_HIT]);
		jnum(o, &f, "pool_new", e->outcome[HMO_OUT_POOL_MISS]);
		jnum(o, &f, "fallbacks", e->outcome[HMO_OUT_FALLBACK]);
		jnum(o, &f, "failed", e->outcome[HMO_OUT_FAILED]);
		jnum(o, &f, "hugetlb_bytes", e->backing_bytes[HMO_BACK_HUGETLB]);
		jnum(o, &f, "thp_bytes", e->backing_bytes[HMO_BACK_THP]);
		jnum(o, &f, "small_page_bytes", e->backing_bytes[HMO_BACK_4K]);
		jkey(o, &f, "node_bytes");
		fputc('{', o);
		bool fn2 = true;
		for (int n = 1; n < 65; n++) {
			if (e->node_bytes[n]) {
				char k[8];
				snprintf(k, sizeof k, "%d", n - 1);
				jnum(o, &fn2, k, e->node_bytes[n]);
			}
		}
		fputc('}', o);
		quantiles(o, &f, "latency_ns", &e->lat);
		fputc('}', o);
	}
	fputc(']', o);
}

static void copies(FILE *o, const struct model *m)
{
	bool f = true, first = true;

	fputs(",\"copies\":{", o);
	jnum(o, &f, "count", m->copy_count);
	jnum(o, &f, "bytes", m->copy_bytes);
	jnum(o, &f, "ns", m->copy_ns);
	quantiles(o, &f, "mb_per_s", &m->copy_rate);
	jkey(o, &f, "size_classes");
	fputc('[', o);
	for (int k = 0; k < 65; k++) {
		const struct copy_class *x = &m->copies[k];
		bool g = true;
		if (!x->count)
			continue;
		fputs(first ? "{" : ",{", o);
		first = false;
		jnum(o, &g, "min_bytes", k ? (uint64_t)1 << (k - 1) : 0);
		jnum(o, &g, "max_bytes", k < 64 ? ((uint64_t)1 << k) - 1 : UINT64_MAX);
		jnum(o, &g, "count", x->count);
		jnum(o, &g, "bytes", x->bytes);
		jnum(o, &g, "ns", x->ns);
		quantiles(o, &g, "mb_per_s", &x->rate);
		fputc('}', o);
	}
	fputs("]}", o);
}

static void cuda(FILE *o, const struct model *m)
{
	bool first = true;

	fputs(",\"cuda\":[", o);
	for (unsigned i = 0; i < HMO_CUOP_COUNT; i++) {
		const struct cuda_stats *x = &m->cuda[i];
		bool f = true;
		if (!x->count)
			continue;
		fputs(first ? "{" : ",{", o);
		first = false;
		jtext(o, &f, "function", hmo_cu_name(i));
		jnum(o, &f, "count", x->count);
		jnum(o, &f, "bytes", x->bytes);
		jnum(o, &f, "ns", x->ns);
		jnum(o, &f, "errors", x->errors);
		jnum(o, &f, "staged", x->staged);
		jnum(o, &f, "staged_bytes", x->staged_bytes);
		jnum(o, &f, "pool_hits", x->pool_hits);
		jnum(o, &f, "pool_new", x->pool_new);
		quantiles(o, &f, "latency_ns", &x->lat);
		fputc('}', o);
	}
	fputc(']', o);
}

static void gpu(FILE *o, const struct model *m)
{
	const struct gpu *g = &m->gpu;
	bool first = true, f = true;

	fputs(",\"gpu\":{\"copies\":[", o);
	for (unsigned dir = 0; dir < GPU_DIRS; dir++)
		for (unsigned mem = 0; mem < GPU_MEMS; mem++)
			for (int k = 0; k < 65; k++) {
				const struct gpu_copies *x = g->copies[dir][mem][k];
				bool h = true;
				if (!x)
					continue;
				fputs(first ? "{" : ",{", o);
				first = false;
				jtext(o, &h, "direction", report_gpu_dir(dir));
				jtext(o, &h, "host_memory", report_gpu_mem(mem));
				jnum(o, &h, "min_bytes", k ? (uint64_t)1 << (k - 1) : 0);
				jnum(o, &h, "max_bytes", k < 64 ? ((uint64_t)1 << k) - 1 : UINT64_MAX);
				jnum(o, &h, "count", x->count);
				jnum(o, &h, "bytes", x->bytes);
				jnum(o, &h, "ns", x->ns);
				quantiles(o, &h, "device_ns", &x->dur);
				fputc('}', o);
			}
	fputs("]", o);
	f = false;
	jnum(o, &f, "memsets", g->memsets);
	jnum(o, &f, "memset_bytes", g->memset_bytes);
	jnum(o, &f, "kernels", g->kernels);
	jnum(o, &f, "kernel_ns", g->kernel_ns);
	jkey(o, &f, "copy_kernel_overlap");
	fprintf(o, "%.4f", g->overlap);
	jnum(o, &f, "device_allocations", g->allocs[HMO_GPU_MEM_DEVICE]);
	jnum(o, &f, "dropped_records", g->dropped);
	fputc('}', o);
}

static void sites(FILE *o, struct report *r)
{
	static const char *const names[NORDERS] = { "by_bytes", "by_calls", "by_faults", "by_copy_bytes",
						    "never_freed" };
	char buf[512];
	bool fo = true;

	fputs(",\"sites\":{", o);
	for (int by = 0; by < NORDERS; by++) {
		size_t others;
		uint64_t rest = report_rest(r, (enum site_order)by, &others);
		jkey(o, &fo, names[by]);
		fputs("{\"top\":[", o);
		for (size_t i = 0; i < r->norder[by] && i < r->top; i++) {
			const struct site *s = r->order[by][i];
			bool f = true;
			fputs(i ? ",{" : "{", o);
			jnum(o, &f, "pid", s->pid);
			if (s->procs)
				jnum(o, &f, "processes", s->procs);
			jtext(o, &f, "function", hmo_fn_name(s->fn));
			jnum(o, &f, "calls", s->allocs);
			jnum(o, &f, "bytes", s->alloc_bytes);
			jnum(o, &f, "pool_hits", s->pool_hits);
			jnum(o, &f, "pool_new", s->pool_new);
			jnum(o, &f, "faults", s->faults);
			jnum(o, &f, "copies", s->copies);
			jnum(o, &f, "copy_bytes", s->copy_bytes);
			jnum(o, &f, "copy_ns", s->copy_ns);
			jnum(o, &f, "never_freed", s->leaked);
			jnum(o, &f, "never_freed_bytes", s->leaked_bytes);
			jkey(o, &f, "frames");
			fputc('[', o);
			for (uint32_t k = 0; s->pcs && k < s->depth; k++) {
				report_frame(r, s, k, buf, sizeof buf);
				fputs(k ? "," : "", o);
				report_json_str(o, buf);
			}
			fputs("]}", o);
		}
		fprintf(o, "],\"others\":%zu,\"others_total\":%llu}", others, (unsigned long long)rest);
	}
	fputc('}', o);
}

void report_json(FILE *o, struct report *r)
{
	fprintf(o, "{\"schema\":%d,", SCHEMA);
	processes(o, r->m);
	calls(o, r);
	large(o, r->m);
	copies(o, r->m);
	cuda(o, r->m);
	gpu(o, r->m);
	sites(o, r);
	fputs(",\"advice\":[", o);
	for (unsigned i = 0; i < r->nadvice; i++) {
		fputs(i ? "," : "", o);
		report_json_str(o, r->advice[i]);
	}
	fputs("]}\n", o);
}
