/* openmetrics.c: hmo-report --openmetrics, the traces' figures as the families of
 * libhmo's HMO_METRICS files (common/metrics.h): one sample per process, with the
 * labels exe and pid as libhmo gives them, and a total of every counter, a sample
 * without exe and pid. Prometheus's text format, as libhmo writes it: what a
 * Pushgateway and promtool read (doc/metrics.md says why not OpenMetrics's).
 *
 * Only what a trace holds exactly as libhmo's file has it is written: the counters
 * of the COUNTERS records (calls and bytes per function, the large ones, the large
 * copies' bytes), the frames by outcome (the events'), the CUDA records' calls,
 * bytes and errors per operation, pool hits and misses and staged bytes, and the
 * threshold. Sampled figures (faults, peak RSS, pool bytes) and times are not the
 * same reading as the file's, and are left out. */
#include <stdlib.h>
#include <string.h>

#include "common/metrics.h"
#include "report.h"

/* What is written for one process: the processes of the traces with the same pid
 * and program name (an exec of the same program keeps both, and so would its file
 * of HMO_METRICS) folded into one. */
struct om_row {
	uint32_t pid;
	const char *name;	/* the program's short name, as libhmo's exe label */
	char *common;		/* exe="...",pid="...",USER */
	uint64_t threshold;
	bool counted, cuda;
	struct hmo_rec_fn fn[FN_COUNT];	/* calls, bytes, large_calls, large_bytes */
	uint64_t frames[3];
	struct proc_cuda cu;
};

/* The program's short name, as libhmo labels it: the last part of argv[0]
 * (program_invocation_short_name), else of the executable's path. */
static const char *short_name(const struct proc *p, size_t *len)
{
	const char *s = p->argv0_len ? p->cmdline : p->exe;
	size_t n = p->argv0_len ? p->argv0_len : strlen(p->exe);
	const char *slash = memrchr(s, '/', n);

	if (slash) {
		n -= (size_t)(slash + 1 - s);
		s = slash + 1;
	}
	*len = n;
	return s;
}

static int by_pid_name(const void *a, const void *b)
{
	const struct proc *p = *(const struct proc *const *)a, *q = *(const struct proc *const *)b;
	size_t n, k;
	const char *s = short_name(p, &n), *t = short_name(q, &k);

	if (p->pid != q->pid)
		return p->pid < q->pid ? -1 : 1;
	int c = memcmp(s, t, n < k ? n : k);
	if (c || n != k)
		return c ? c : n < k ? -1 : 1;
	return p->start_ns < q->start_ns ? -1 : p->start_ns > q->start_ns;
}

static void add_proc(struct om_row *r, const struct proc *p)
{
	if (p->threshold > r->threshold)
		r->threshold = p->threshold;
	r->counted |= p->counted;
	for (int f = 0; f < FN_COUNT; f++) {
		r->fn[f].calls += p->fn[f].calls;
		r->fn[f].bytes += p->fn[f].bytes;
		r->fn[f].large_calls += p->fn[f].large_calls;
		r->fn[f].large_bytes += p->fn[f].large_bytes;
	}
	for (int k = 0; k < 3; k++)
		r->frames[k] += p->frames[k];
	if (p->cuda) {
		const struct proc_cuda *c = p->cuda;
		r->cuda = true;
		for (int i = 0; i < HMO_CUOP_COUNT; i++) {
			r->cu.calls[i] += c->calls[i];
			r->cu.bytes[i] += c->bytes[i];
			r->cu.errors[i] += c->errors[i];
		}
		for (int k = 0; k < 2; k++) {
			r->cu.dev_pool[k] += c->dev_pool[k];
			r->cu.pinned_pool[k] += c->pinned_pool[k];
			r->cu.staged[k] += c->staged[k];
		}
		r->cu.staged_2d |= c->staged_2d;
	}
}

static void *om_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p) {
		fputs("hmo-report: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

/* The rows, in pid order, with their labels; *n of them. */
static struct om_row *make_rows(const struct model *m, const char *user, size_t *n)
{
	const struct proc **by = om_calloc(m->nprocs, sizeof *by);
	struct om_row *rows = om_calloc(m->nprocs, sizeof *rows);
	size_t k = 0;

	for (size_t i = 0; i < m->nprocs; i++)
		by[i] = &m->procs[i];
	qsort(by, m->nprocs, sizeof *by, by_pid_name);
	for (size_t i = 0; i < m->nprocs; i++) {
		size_t len;
		const char *name = short_name(by[i], &len);
		struct om_row *r = k ? &rows[k - 1] : NULL;
		if (!r || r->pid != by[i]->pid || strlen(r->name) != len || memcmp(r->name, name, len) != 0) {
			r = &rows[k++];
			r->pid = by[i]->pid;
			char *copy = om_calloc(len + 1, 1);
			memcpy(copy, name, len);
			r->name = copy;
			/* every byte escaped at most to two, and the rest */
			size_t cap = 2 * len + strlen(user) + 64;
			struct fmt_buf b;
			r->common = om_calloc(cap, 1);
			fmt_init(&b, r->common, cap);
			hmo_metric_common(&b, r->name, r->pid, user);
		}
		add_proc(r, by[i]);
	}
	free(by);
	*n = k;
	return rows;
}

/* Out to o, one line (or a family's two) at a time. */
struct om_out {
	FILE *o;
	char *line;
	size_t cap;
	struct fmt_buf b;
};

static struct fmt_buf *start(struct om_out *w)
{
	fmt_init(&w->b, w->line, w->cap);
	return &w->b;
}

static void put(struct om_out *w)
{
	fwrite(w->b.p, 1, w->b.len, w->o);
}

static void header(struct om_out *w, enum hmo_metric m)
{
	hmo_metric_header(start(w), m, false);
	put(w);
}

static void sample(struct om_out *w, enum hmo_metric m, const char *common, const char *value, uint64_t v)
{
	hmo_metric_sample(start(w), m, common, value, v);
	put(w);
}

/* ---- the families -------------------------------------------------------------- */

static uint64_t fn_figure(const struct hmo_rec_fn *f, enum hmo_metric m)
{
	return m == HMO_M_CALLS ? f->calls : m == HMO_M_BYTES ? f->bytes : m == HMO_M_LARGE_CALLS ? f->large_calls
											    : f->large_bytes;
}

static bool is_copy(unsigned f)
{
	return f >= FN_MEMCPY && f <= FN_MEMSET_CHK;
}

/* Calls and bytes per function, from the COUNTERS records: processes without one
 * (killed before their exit) have no samples. */
static void calls(struct om_out *w, const struct om_row *rows, size_t n, const struct om_row *fold,
		  const char *user)
{
	static const enum hmo_metric fams[] = { HMO_M_CALLS, HMO_M_BYTES, HMO_M_LARGE_CALLS, HMO_M_LARGE_BYTES };
	struct hmo_rec_fn tot[FN_COUNT];
	bool any = false;

	memset(tot, 0, sizeof tot);
	for (size_t i = 0; i <= n; i++) {
		const struct om_row *r = i < n ? &rows[i] : fold;
		if (!r || !r->counted)
			continue;
		any = true;
		for (int f = 0; f < FN_COUNT; f++) {
			tot[f].calls += r->fn[f].calls;
			tot[f].bytes += r->fn[f].bytes;
			tot[f].large_calls += r->fn[f].large_calls;
			tot[f].large_bytes += r->fn[f].large_bytes;
		}
	}
	if (!any)
		return;
	for (unsigned k = 0; k < sizeof fams / sizeof fams[0]; k++) {
		header(w, fams[k]);
		for (size_t i = 0; i <= n; i++) {
			const struct hmo_rec_fn *fn = i < n ? rows[i].fn : tot;
			if (i < n && !rows[i].counted)
				continue;
			for (unsigned f = 0; f < FN_COUNT; f++)
				if (fn[f].calls && (k == 0 || hmo_fn_has_bytes[f]))
					sample(w, fams[k], i < n ? rows[i].common : user, hmo_fn_name(f),
					       fn_figure(&fn[f], fams[k]));
		}
	}
	header(w, HMO_M_LARGE_COPY_BYTES);
	for (size_t i = 0; i <= n; i++) {
		const struct hmo_rec_fn *fn = i < n ? rows[i].fn : tot;
		uint64_t v = 0;
		if (i < n && !rows[i].counted)
			continue;
		for (unsigned f = 0; f < FN_COUNT; f++)
			if (is_copy(f))
				v += fn[f].large_bytes;
		sample(w, HMO_M_LARGE_COPY_BYTES, i < n ? rows[i].common : user, NULL, v);
	}
}

static void frames(struct om_out *w, const struct om_row *rows, size_t n, const struct om_row *fold,
		   const char *user)
{
	static const char *const outcome[3] = { "hit", "new", "fallback" };
	uint64_t tot[3] = { 0, 0, 0 };

	for (int k = 0; fold && k < 3; k++)
		tot[k] += fold->frames[k];
	header(w, HMO_M_FRAMES);
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < 3; k++) {
			sample(w, HMO_M_FRAMES, rows[i].common, outcome[k], rows[i].frames[k]);
			tot[k] += rows[i].frames[k];
		}
	}
	for (int k = 0; k < 3; k++)
		sample(w, HMO_M_FRAMES, user, outcome[k], tot[k]);
}

/* The CUDA families, for the processes with CUDA records (libhmo's file has their
 * samples once the program has called the driver). */
static void cuda(struct om_out *w, const struct om_row *rows, size_t n, const struct om_row *fold,
		 const char *user)
{
	static const enum hmo_metric per_op[] = { HMO_M_CUDA_CALLS, HMO_M_CUDA_BYTES, HMO_M_CUDA_ERRORS };
	static const char *const pool[2] = { "hit", "miss" }, *const dir[2] = { "htod", "dtoh" };
	struct proc_cuda tot;
	bool any = false, staged = false;

	memset(&tot, 0, sizeof tot);
	for (size_t i = 0; i <= n; i++) {
		const struct om_row *r = i < n ? &rows[i] : fold;
		if (!r || !r->cuda)
			continue;
		const struct proc_cuda *c = &r->cu;
		any = true;
		for (int op = 0; op < HMO_CUOP_COUNT; op++) {
			tot.calls[op] += c->calls[op];
			tot.bytes[op] += c->bytes[op];
			tot.errors[op] += c->errors[op];
		}
		for (int k = 0; k < 2; k++) {
			tot.dev_pool[k] += c->dev_pool[k];
			tot.pinned_pool[k] += c->pinned_pool[k];
			if (!c->staged_2d)
				tot.staged[k] += c->staged[k];
		}
		staged |= !c->staged_2d;
	}
	if (!any)
		return;
	for (unsigned k = 0; k < sizeof per_op / sizeof per_op[0]; k++) {
		header(w, per_op[k]);
		for (size_t i = 0; i <= n; i++) {
			const struct proc_cuda *c = i < n ? &rows[i].cu : &tot;
			if (i < n && !rows[i].cuda)
				continue;
			for (unsigned op = 0; op < HMO_CUOP_COUNT; op++)
				if (c->calls[op])
					sample(w, per_op[k], i < n ? rows[i].common : user, hmo_cu_name(op),
					       per_op[k] == HMO_M_CUDA_CALLS ? c->calls[op]
					       : per_op[k] == HMO_M_CUDA_BYTES ? c->bytes[op]
										: c->errors[op]);
		}
	}
	for (int m = HMO_M_CUDA_DEVICE_POOL; m <= HMO_M_CUDA_STAGED_BYTES; m++) {
		if (m == HMO_M_CUDA_STAGED_BYTES && !staged)
			continue;
		header(w, (enum hmo_metric)m);
		for (size_t i = 0; i <= n; i++) {
			const struct proc_cuda *c = i < n ? &rows[i].cu : &tot;
			if (i < n && (!rows[i].cuda || (m == HMO_M_CUDA_STAGED_BYTES && c->staged_2d)))
				continue;
			const uint64_t *v = m == HMO_M_CUDA_DEVICE_POOL ? c->dev_pool
					    : m == HMO_M_CUDA_PINNED_POOL ? c->pinned_pool : c->staged;
			for (int k = 0; k < 2; k++)
				sample(w, (enum hmo_metric)m, i < n ? rows[i].common : user,
				       m == HMO_M_CUDA_STAGED_BYTES ? dir[k] : pool[k], v[k]);
		}
	}
}

void report_openmetrics(FILE *o, const struct model *m, const char *user)
{
	size_t n, longest = 0;
	struct om_row *rows = make_rows(m, user, &n);
	struct om_out w = { .o = o };

	for (size_t i = 0; i < n; i++)
		if (strlen(rows[i].common) > longest)
			longest = strlen(rows[i].common);
	/* a sample: its name, the common labels, its own label and the value; or a
	 * family's # HELP and # TYPE lines */
	w.cap = longest + 1024;
	w.line = om_calloc(w.cap, 1);

	header(&w, HMO_M_THRESHOLD);
	for (size_t i = 0; i < n; i++)
		sample(&w, HMO_M_THRESHOLD, rows[i].common, NULL, rows[i].threshold);
	/* Past the processes the model keeps whole, the others' figures count in the
	 * totals only (model.h, struct folded). */
	struct om_row fold_row, *fold = NULL;
	if (m->fold.count) {
		memset(&fold_row, 0, sizeof fold_row);
		add_proc(&fold_row, &m->fold.proc);
		fold = &fold_row;
	}
	calls(&w, rows, n, fold, user);
	frames(&w, rows, n, fold, user);
	cuda(&w, rows, n, fold, user);

	for (size_t i = 0; i < n; i++) {
		free((char *)rows[i].name);
		free(rows[i].common);
	}
	free(rows);
	free(w.line);
}
