/* export.c: the report in other tools' formats.
 *
 *   --perfetto FILE   Chrome trace event JSON (ui.perfetto.dev, chrome://tracing): an X
 *                     event per traced call and copy, C counters for memory, page
 *                     faults and copy bandwidth, M events naming processes and threads.
 *                     The traces are read a second time, event by event.
 *   --flamegraph FILE folded stacks ("outer;...;inner value"), for flamegraph.pl or
 *                     speedscope, weighted by bytes, calls, faults or bytes copied. A
 *                     frame is the program's name or a symbolized frame: in one, ';'
 *                     (the separator) becomes ':' and a control character '?'.
 *   --csv DIR         one table per file: processes, calls, large, copies, sites. A
 *                     field is quoted (RFC 4180) when it holds a comma or a quote, and
 *                     a control character in it is '?', as in the text report.
 *
 * Names in a trace (the program, its arguments, objects, symbols) are whatever the
 * program had: a newline or a ';' must not break a line or a stack into two. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "read.h"
#include "report.h"

static const char *const outcome_name[] = { "", "pool hit", "pool new", "fallback", "failed" };

static bool is_control(char c)
{
	return (unsigned char)c < 0x20 || c == 0x7f;
}

/* A frame of a folded stack: no separator, no line break. */
static void folded_frame(FILE *o, const char *s)
{
	for (; *s; s++)
		fputc(*s == ';' ? ':' : is_control(*s) ? '?' : *s, o);
}
static const char *const backing_name[] = { "", "hugetlb", "THP", "4 KiB" };

/* ---- Perfetto / Chrome trace events ------------------------------------------------- */

/* The export's state: its file, and the process whose trace is being read. */
struct pf {
	FILE *o;
	struct report *r;
	uint64_t base;		/* ns of the earliest start: ts 0 */
	bool first;
	uint32_t pi, pid;	/* the process: its index in the model, its pid */
	uint64_t last_flt;	/* minor faults at its previous sample; 0 before the first */
	/* CUPTI's clock is used as it is, from its first timestamp in any trace: hmo's host
	 * events and the GPU's are aligned only as well as the two clocks agree. */
	uint64_t gpu_base;
	int64_t gpu_allocated;	/* device memory the driver handed out, for the counter */
	char **labels;		/* by site index: its top frame symbolized, once needed */
};

/* The top frame of a process's stack, symbolized once per site; NULL when the
 * stack is not in the trace. */
static const char *label(struct pf *p, uint32_t stack)
{
	const struct site *s = model_site(p->r->m, p->pi, stack);
	char buf[512];

	if (!s || !s->pcs || !s->depth)
		return NULL;
	if (!p->labels[s->index]) {
		report_frame(p->r, s, 0, buf, sizeof buf);
		p->labels[s->index] = strdup(buf);
	}
	return p->labels[s->index];
}

static void pf_begin(struct pf *p)
{
	fputs(p->first ? "\n" : ",\n", p->o);
	p->first = false;
}

static double us(const struct pf *p, uint64_t ns)
{
	return ns > p->base ? (double)(ns - p->base) / 1e3 : 0.0;
}

/* "malloc 48.0 MiB": a call's name and size, as a JSON string. */
static void pf_call_name(struct pf *p, unsigned fn, uint64_t size)
{
	char sz[32], name[64];

	snprintf(name, sizeof name, "%s %s", hmo_fn_name(fn), report_bytes(sz, size));
	report_json_str(p->o, name);
}

static void pf_event(void *ctx, const struct hmo_rec_event *e)
{
	struct pf *p = ctx;
	const char *at = label(p, e->stack);

	pf_begin(p);
	fprintf(p->o, "{\"name\":");
	pf_call_name(p, e->fn, e->size);
	fprintf(p->o, ",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%u,\"tid\":%u,"
		"\"args\":{\"size\":%llu,\"addr\":\"0x%llx\"", is_map_fn(e->fn) ? "map" : "alloc",
		us(p, e->t), (double)e->dur / 1e3, p->pid, e->tid, (unsigned long long)e->size,
		(unsigned long long)e->addr);
	if (e->old)
		fprintf(p->o, ",\"old\":\"0x%llx\"", (unsigned long long)e->old);
	if (e->outcome && e->outcome < 5)
		fprintf(p->o, ",\"outcome\":\"%s\"", outcome_name[e->outcome]);
	if (e->backing && e->backing < 4)
		fprintf(p->o, ",\"backing\":\"%s\"", backing_name[e->backing]);
	if (e->node >= 0)
		fprintf(p->o, ",\"node\":%d", e->node);
	if (at) {
		fputs(",\"site\":", p->o);
		report_json_str(p->o, at);
	}
	fputs("}}", p->o);
}

static void pf_copy(void *ctx, const struct hmo_rec_copy *c)
{
	struct pf *p = ctx;
	const char *at = label(p, c->stack);
	double gbs = c->dur ? (double)c->size / (double)c->dur : 0;

	pf_begin(p);
	fputs("{\"name\":", p->o);
	pf_call_name(p, c->fn, c->size);
	fprintf(p->o, ",\"cat\":\"copy\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%u,\"tid\":%u,"
		"\"args\":{\"size\":%llu,\"GB/s\":%.2f", us(p, c->t), (double)c->dur / 1e3,
		p->pid, c->tid, (unsigned long long)c->size, gbs);
	if (at) {
		fputs(",\"site\":", p->o);
		report_json_str(p->o, at);
	}
	fputs("}}", p->o);
	pf_begin(p);
	fprintf(p->o, "{\"name\":\"copy bandwidth (GB/s)\",\"ph\":\"C\",\"ts\":%.3f,\"pid\":%u,"
		"\"args\":{\"GB/s\":%.2f}}", us(p, c->t), p->pid, gbs);
}

/* Memory counters, and the minor faults since the previous sample (none before the
 * first). */
static void pf_sample(void *ctx, const struct hmo_rec_sample *s)
{
	struct pf *p = ctx;

	if (!p->last_flt)
		p->last_flt = s->minflt;
	pf_begin(p);
	fprintf(p->o, "{\"name\":\"memory (MiB)\",\"ph\":\"C\",\"ts\":%.3f,\"pid\":%u,\"args\":{"
		"\"RSS\":%.1f,\"AnonHugePages\":%.1f,\"pool live\":%.1f,\"pool cached\":%.1f}}",
		us(p, s->t), p->pid, (double)s->rss / 1048576, (double)s->anon_huge / 1048576,
		(double)s->pool_live / 1048576, (double)s->pool_cached / 1048576);
	pf_begin(p);
	fprintf(p->o, "{\"name\":\"page faults (per sample)\",\"ph\":\"C\",\"ts\":%.3f,\"pid\":%u,"
		"\"args\":{\"minor\":%llu}}", us(p, s->t), p->pid,
		(unsigned long long)(s->minflt >= p->last_flt ? s->minflt - p->last_flt : 0));
	p->last_flt = s->minflt;
}

static void pf_cuda(void *ctx, const struct hmo_rec_cuda *c)
{
	struct pf *p = ctx;

	if (c->op >= HMO_CUOP_COUNT)
		return;
	pf_begin(p);
	fputs("{\"name\":", p->o);
	report_json_str(p->o, hmo_cu_name(c->op));
	fprintf(p->o, ",\"cat\":\"cuda\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%u,\"tid\":%u,"
		"\"args\":{\"size\":%llu,\"ptr\":\"0x%llx\",\"result\":%d%s%s}}",
		us(p, c->t), (double)c->dur / 1e3, p->pid, c->tid, (unsigned long long)c->size,
		(unsigned long long)c->ptr, c->result,
		c->flags & HMO_CUDA_STAGED ? ",\"staged\":true" : "",
		c->flags & HMO_CUDA_POOL_HIT ? ",\"pool\":\"hit\"" : c->flags & HMO_CUDA_POOL_NEW ? ",\"pool\":\"new\"" : "");
}

/* GPU tracks: device work on a track per stream (tid GPU_TRACK + stream), API calls
 * on their thread, and a flow arrow from each call to the work it launched. */
#define GPU_TRACK 1000000

/* One span of GPU work or of an API call: an X event, and its end of a flow. */
static void pf_gpu_span(struct pf *p, const char *name, const char *cat, uint64_t start, uint64_t end,
			uint32_t corr, uint32_t tid, bool api)
{
	if (!p->gpu_base)
		p->gpu_base = start;
	double ts = start >= p->gpu_base ? (double)(start - p->gpu_base) / 1e3 : 0;
	pf_begin(p);
	fputs("{\"name\":", p->o);
	report_json_str(p->o, name);
	fprintf(p->o, ",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%u,\"tid\":%u,"
		"\"args\":{\"correlation\":%u}}", cat, ts, end > start ? (double)(end - start) / 1e3 : 0,
		p->pid, tid, corr);
	if (corr) {
		/* the flow: starts at the API call, ends at its device work */
		pf_begin(p);
		fprintf(p->o, "{\"name\":\"launch\",\"cat\":\"flow\",\"ph\":\"%s\",\"id\":%u,\"ts\":%.3f,"
			"\"pid\":%u,\"tid\":%u%s}", api ? "s" : "f", corr, ts, p->pid, tid,
			api ? "" : ",\"bp\":\"e\"");
	}
}

static void pf_gpu_copy(void *ctx, const struct hmo_rec_gpu_copy *c)
{
	char sz[32], name[96];

	snprintf(name, sizeof name, "%s %s %s", report_gpu_dir(c->dir),
		 report_gpu_mem(c->dir == HMO_GPU_DTOH ? c->dst : c->src), report_bytes(sz, c->bytes));
	pf_gpu_span(ctx, name, "gpu copy", c->start, c->end, c->correlation, GPU_TRACK + c->stream, false);
}

static void pf_gpu_memset(void *ctx, const struct hmo_rec_gpu_memset *s)
{
	char sz[32], name[96];

	snprintf(name, sizeof name, "memset %s", report_bytes(sz, s->bytes));
	pf_gpu_span(ctx, name, "gpu", s->start, s->end, s->correlation, GPU_TRACK + s->stream, false);
}

static void pf_gpu_kernel(void *ctx, const struct hmo_rec_gpu_kernel *k, const char *kname, uint32_t n)
{
	char name[96];

	snprintf(name, sizeof name, "%.*s", (int)(n < 90 ? n : 90), kname);
	pf_gpu_span(ctx, name, "gpu kernel", k->start, k->end, k->correlation, GPU_TRACK + k->stream, false);
}

static void pf_gpu_api(void *ctx, const struct hmo_rec_gpu_api *a)
{
	char name[96];

	snprintf(name, sizeof name, "%s API %u", a->domain == HMO_GPU_API_RUNTIME ? "runtime" : "driver", a->cbid);
	pf_gpu_span(ctx, name, "cuda api", a->start, a->end, a->correlation, a->tid, true);
}

/* The allocation timeline: a counter of the device memory allocated. */
static void pf_gpu_memory(void *ctx, const struct hmo_rec_gpu_memory *a)
{
	struct pf *p = ctx;

	if (a->mem != HMO_GPU_MEM_DEVICE)
		return;
	p->gpu_allocated += a->op == HMO_GPU_ALLOC ? (int64_t)a->bytes : -(int64_t)a->bytes;
	if (!p->gpu_base)
		p->gpu_base = a->t;
	pf_begin(p);
	fprintf(p->o, "{\"name\":\"GPU memory allocated (MiB)\",\"ph\":\"C\",\"ts\":%.3f,\"pid\":%u,"
		"\"args\":{\"device\":%.1f}}", a->t >= p->gpu_base ? (double)(a->t - p->gpu_base) / 1e3 : 0,
		p->pid, (double)p->gpu_allocated / 1048576);
}

/* The export reads the traces a second time, through the same decoder as the model:
 * it needs every process's start first (for ts 0), and the model keeps no events. */
static const struct tr_visitor pf_visitor = {
	.event = pf_event,
	.copy = pf_copy,
	.sample = pf_sample,
	.cuda = pf_cuda,
	.gpu_copy = pf_gpu_copy,
	.gpu_memset = pf_gpu_memset,
	.gpu_kernel = pf_gpu_kernel,
	.gpu_memory = pf_gpu_memory,
	.gpu_api = pf_gpu_api,
};

/* A process: its name on its track, then its trace's events. */
static void pf_process(struct pf *p, uint32_t pi)
{
	const struct proc *pr = &p->r->m->procs[pi];
	const char *base = strrchr(pr->exe, '/');
	char name[256];
	struct tr_reader t;

	snprintf(name, sizeof name, "%s %u", base ? base + 1 : pr->exe, pr->pid);
	pf_begin(p);
	fprintf(p->o, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%u,\"args\":{\"name\":", pr->pid);
	report_json_str(p->o, name);
	fputs("}}", p->o);
	if (tr_open(&t, pr->source) != 0)
		return;	/* said in the first pass */
	p->pi = pi;
	p->pid = pr->pid;
	p->last_flt = 0;
	tr_walk(&t, &pf_visitor, p);
	tr_close(&t);
}

int export_perfetto(struct report *r, const char *path)
{
	const struct model *m = r->m;
	struct pf p = { .r = r, .base = UINT64_MAX, .first = true };
	char shown[REPORT_SHOWN];

	if (!(p.o = fopen(path, "w"))) {
		fprintf(stderr, "hmo-report: %s: %s\n", report_shown(shown, path), strerror(errno));
		return -1;
	}
	if (!(p.labels = calloc(m->nsites + 1, sizeof *p.labels))) {
		fputs("hmo-report: out of memory\n", stderr);
		exit(1);
	}
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i].start_ns < p.base)
			p.base = m->procs[i].start_ns;
	fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", p.o);
	for (uint32_t pi = 0; pi < m->nprocs; pi++)
		pf_process(&p, pi);
	fputs("\n]}\n", p.o);
	for (size_t i = 0; i < m->nsites; i++)
		free(p.labels[i]);
	free(p.labels);
	if (fclose(p.o) != 0) {
		fprintf(stderr, "hmo-report: writing %s failed: %s\n", report_shown(shown, path), strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- folded stacks -------------------------------------------------------------- */

static uint64_t cost_of(const struct site *s, const char *cost)
{
	if (!strcmp(cost, "count"))
		return s->allocs;
	if (!strcmp(cost, "faults"))
		return s->faults;
	if (!strcmp(cost, "copy"))
		return s->copy_bytes;
	return s->alloc_bytes;
}

int export_flamegraph(struct report *r, const char *path, const char *cost)
{
	size_t n;
	const struct site **v = model_sites(r->m, &n);
	FILE *o = fopen(path, "w");
	char buf[512], shown[REPORT_SHOWN];

	if (!o) {
		fprintf(stderr, "hmo-report: %s: %s\n", report_shown(shown, path), strerror(errno));
		free(v);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct site *s = v[i];
		uint64_t c = cost_of(s, cost);
		const struct proc *p = model_proc(r->m, s->proc);
		const char *exe = strrchr(p->exe, '/');
		if (!c || !s->pcs)
			continue;
		folded_frame(o, exe ? exe + 1 : p->exe);
		for (uint32_t k = s->depth; k-- > 0;) {
			report_frame(r, s, k, buf, sizeof buf);
			fputc(';', o);
			folded_frame(o, buf);
		}
		fprintf(o, ";%s %llu\n", hmo_fn_name(s->fn), (unsigned long long)c);
	}
	free(v);
	if (fclose(o) != 0) {
		fprintf(stderr, "hmo-report: writing %s failed: %s\n", report_shown(shown, path), strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- CSV ---------------------------------------------------------------------------- */

/* Text within a field: quotes doubled, control characters as '?'. */
static void cfield_text(FILE *o, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '"')
			fputc('"', o);
		fputc(is_control(*s) ? '?' : *s, o);
	}
}

/* A text field: quoted when it holds a comma or a quote. */
static void cstr(FILE *o, const char *s)
{
	bool quote = s && strpbrk(s, ",\"");

	if (quote)
		fputc('"', o);
	cfield_text(o, s);
	if (quote)
		fputc('"', o);
}

static FILE *csv_open(const char *dir, const char *name, const char *header)
{
	char path[4096], shown[REPORT_SHOWN];
	FILE *o;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	o = fopen(path, "w");
	if (!o)
		fprintf(stderr, "hmo-report: %s: %s\n", report_shown(shown, path), strerror(errno));
	else
		fprintf(o, "%s\n", header);
	return o;
}

static int csv_close(FILE *o, const char *name)
{
	if (o && fclose(o) == 0)
		return 0;
	fprintf(stderr, "hmo-report: writing %s failed\n", name);
	return -1;
}

int export_csv(struct report *r, const char *dir)
{
	const struct model *m = r->m;
	FILE *o;
	int rc = 0;
	char buf[512], shown[REPORT_SHOWN];

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "hmo-report: %s: %s\n", report_shown(shown, dir), strerror(errno));
		return -1;
	}
	if (!(o = csv_open(dir, "processes.csv", "pid,ppid,exe,cmdline,duration_ns,end,end_status,peak_rss,"
				"minor_faults,major_faults,peak_anon_huge,peak_pool_live,peak_pool_cached")))
		return -1;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct proc *p = &m->procs[i];
		fprintf(o, "%u,%u,", p->pid, p->ppid);
		cstr(o, p->exe);
		fputc(',', o);
		cstr(o, p->cmdline);
		fprintf(o, ",%llu,%s,%d,%llu,%llu,%llu,%llu,%llu,%llu\n",
			(unsigned long long)(p->last_ns - p->start_ns),
			report_end(p), p->end.status,
			(unsigned long long)p->peak_rss, (unsigned long long)p->minflt, (unsigned long long)p->majflt,
			(unsigned long long)p->peak_anon_huge, (unsigned long long)p->peak_pool_live,
			(unsigned long long)p->peak_pool_cached);
	}
	rc |= csv_close(o, "processes.csv");

	if (!(o = csv_open(dir, "calls.csv", "function,calls,bytes,large_calls,large_bytes,latency_samples")))
		return -1;
	for (unsigned f = 0; f < FN_COUNT; f++) {
		const struct hmo_rec_fn *x = &r->calls[f];
		if (x->calls)
			fprintf(o, "%s,%llu,%llu,%llu,%llu,%llu\n", hmo_fn_name(f), (unsigned long long)x->calls,
				(unsigned long long)x->bytes, (unsigned long long)x->large_calls,
				(unsigned long long)x->large_bytes, (unsigned long long)x->lat_samples);
	}
	rc |= csv_close(o, "calls.csv");

	if (!(o = csv_open(dir, "large.csv", "function,count,bytes,pool_hits,pool_new,fallbacks,failed,"
				"hugetlb_bytes,thp_bytes,small_page_bytes,p50_ns,p90_ns,p99_ns,max_ns")))
		return -1;
	for (unsigned f = 0; f < FN_COUNT; f++) {
		const struct fn_events *e = &m->fn[f];
		if (!e->count)
			continue;
		fprintf(o, "%s,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n",
			hmo_fn_name(f), (unsigned long long)e->count, (unsigned long long)e->bytes,
			(unsigned long long)e->outcome[HMO_OUT_POOL_HIT], (unsigned long long)e->outcome[HMO_OUT_POOL_MISS],
			(unsigned long long)e->outcome[HMO_OUT_FALLBACK], (unsigned long long)e->outcome[HMO_OUT_FAILED],
			(unsigned long long)e->backing_bytes[HMO_BACK_HUGETLB],
			(unsigned long long)e->backing_bytes[HMO_BACK_THP],
			(unsigned long long)e->backing_bytes[HMO_BACK_4K],
			(unsigned long long)lh_quantile(&e->lat, 0.5), (unsigned long long)lh_quantile(&e->lat, 0.9),
			(unsigned long long)lh_quantile(&e->lat, 0.99), (unsigned long long)e->lat.max);
	}
	rc |= csv_close(o, "large.csv");

	if (!(o = csv_open(dir, "copies.csv", "min_bytes,max_bytes,count,bytes,ns,p10_mb_s,p50_mb_s,p90_mb_s")))
		return -1;
	for (int k = 0; k < 65; k++) {
		const struct copy_class *x = &m->copies[k];
		if (x->count)
			fprintf(o, "%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n",
				(unsigned long long)(k ? (uint64_t)1 << (k - 1) : 0),
				(unsigned long long)(k < 64 ? ((uint64_t)1 << k) - 1 : UINT64_MAX),
				(unsigned long long)x->count, (unsigned long long)x->bytes, (unsigned long long)x->ns,
				(unsigned long long)lh_quantile(&x->rate, 0.1),
				(unsigned long long)lh_quantile(&x->rate, 0.5),
				(unsigned long long)lh_quantile(&x->rate, 0.9));
	}
	rc |= csv_close(o, "copies.csv");

	if (!(o = csv_open(dir, "sites.csv", "pid,function,calls,bytes,pool_hits,pool_new,faults,copies,"
				"copy_bytes,copy_ns,never_freed,never_freed_bytes,stack")))
		return -1;
	size_t n;
	const struct site **v = model_sites(r->m, &n);
	for (size_t i = 0; i < n; i++) {
		const struct site *s = v[i];
		if (!s->allocs && !s->copies && !s->leaked)
			continue;	/* a stack that only frees named */
		/* the stack, its frames joined by " <- ", is always quoted: it is built
		 * frame by frame */
		fprintf(o, "%u,%s,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,\"", s->pid,
			hmo_fn_name(s->fn), (unsigned long long)s->allocs, (unsigned long long)s->alloc_bytes,
			(unsigned long long)s->pool_hits, (unsigned long long)s->pool_new,
			(unsigned long long)s->faults, (unsigned long long)s->copies,
			(unsigned long long)s->copy_bytes, (unsigned long long)s->copy_ns,
			(unsigned long long)s->leaked, (unsigned long long)s->leaked_bytes);
		for (uint32_t k = 0; s->pcs && k < s->depth; k++) {
			report_frame(r, s, k, buf, sizeof buf);
			fputs(k ? " <- " : "", o);
			cfield_text(o, buf);
		}
		fputs("\"\n", o);
	}
	free(v);
	rc |= csv_close(o, "sites.csv");
	return rc;
}
