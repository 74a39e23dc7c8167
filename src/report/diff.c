/* diff.c: hmo-report --diff BEFORE AFTER, in text and JSON.
 *
 * Each side is a model of its own, read as the report reads traces; this file only
 * reads them. A figure is summed (or, for peaks, the highest) over a side's
 * processes. The change is after minus before; the relative change is that in % of
 * before, and has no value when before is 0. Call sites are matched between the sides
 * by their symbolized frames (addresses differ from run to run), summed over each
 * side's processes: a site on one side only is "new" or "gone". */
#include "diff.h"

#include <stdlib.h>
#include <string.h>

/* ---- the figures ------------------------------------------------------------------- */

enum kind { K_COUNT, K_BYTES, K_NS, K_MBS, K_PCT };
enum section { S_RUN, S_POOL, S_COPY, S_CUDA, S_GPU, NSECTIONS };

enum fig_id {
	F_WALL, F_PROCS, F_EVENTS, F_MINFLT, F_MAJFLT, F_PEAK_RSS, F_POOL_PEAK,
	F_LARGE, F_LARGE_BYTES, F_HITS, F_NEW, F_FALLBACK, F_HIT_RATE, F_HUGE_SHARE, F_EST_FAULTS,
	F_COPIES, F_COPY_BYTES, F_COPY_NS, F_COPY_MBS, F_COPY_P50,
	F_CU_CALLS, F_CU_ERRORS, F_CU_COPY_BYTES, F_CU_COPY_MBS, F_CU_STAGED, F_CU_HITS, F_CU_NEW,
	F_GPU_COPY_BYTES, F_GPU_COPY_MBS, F_GPU_KERNELS, F_GPU_KERNEL_NS,
	NFIGS
};

static const struct fig_def {
	const char *key, *label;
	enum kind kind;
	enum section sec;
} figs[NFIGS] = {
	[F_WALL] = { "wall_ns", "wall time", K_NS, S_RUN },
	[F_PROCS] = { "processes", "processes", K_COUNT, S_RUN },
	[F_EVENTS] = { "events", "traced events", K_COUNT, S_RUN },
	[F_MINFLT] = { "minor_faults", "minor page faults", K_COUNT, S_RUN },
	[F_MAJFLT] = { "major_faults", "major page faults", K_COUNT, S_RUN },
	[F_PEAK_RSS] = { "peak_rss", "peak RSS (highest process)", K_BYTES, S_RUN },
	[F_POOL_PEAK] = { "peak_pool_live", "peak pool live (highest process)", K_BYTES, S_RUN },
	[F_LARGE] = { "large_allocations", "large allocations", K_COUNT, S_POOL },
	[F_LARGE_BYTES] = { "large_bytes", "their bytes", K_BYTES, S_POOL },
	[F_HITS] = { "pool_hits", "served from reused pool memory", K_COUNT, S_POOL },
	[F_NEW] = { "pool_new", "served from new pool memory", K_COUNT, S_POOL },
	[F_FALLBACK] = { "fallbacks", "fell back to the allocator", K_COUNT, S_POOL },
	[F_HIT_RATE] = { "pool_hit_rate", "pool hit rate", K_PCT, S_POOL },
	[F_HUGE_SHARE] = { "huge_page_share", "pool bytes on huge pages", K_PCT, S_POOL },
	[F_EST_FAULTS] = { "estimated_faults", "page faults of fresh blocks (est.)", K_COUNT, S_POOL },
	[F_COPIES] = { "copies", "large copies", K_COUNT, S_COPY },
	[F_COPY_BYTES] = { "copy_bytes", "bytes copied", K_BYTES, S_COPY },
	[F_COPY_NS] = { "copy_ns", "time copying", K_NS, S_COPY },
	[F_COPY_MBS] = { "copy_mb_per_s", "GB/s overall", K_MBS, S_COPY },
	[F_COPY_P50] = { "copy_median_mb_per_s", "GB/s median", K_MBS, S_COPY },
	[F_CU_CALLS] = { "cuda_calls", "driver calls", K_COUNT, S_CUDA },
	[F_CU_ERRORS] = { "cuda_errors", "failed calls", K_COUNT, S_CUDA },
	[F_CU_COPY_BYTES] = { "cuda_copy_bytes", "bytes copied", K_BYTES, S_CUDA },
	[F_CU_COPY_MBS] = { "cuda_copy_mb_per_s", "copy GB/s (API time)", K_MBS, S_CUDA },
	[F_CU_STAGED] = { "cuda_staged_bytes", "bytes staged through pinned memory", K_BYTES, S_CUDA },
	[F_CU_HITS] = { "cuda_pool_hits", "allocations from hmo's pools", K_COUNT, S_CUDA },
	[F_CU_NEW] = { "cuda_pool_new", "allocations new to hmo's pools", K_COUNT, S_CUDA },
	[F_GPU_COPY_BYTES] = { "gpu_copy_bytes", "bytes copied", K_BYTES, S_GPU },
	[F_GPU_COPY_MBS] = { "gpu_copy_mb_per_s", "copy GB/s (device time)", K_MBS, S_GPU },
	[F_GPU_KERNELS] = { "gpu_kernels", "kernels", K_COUNT, S_GPU },
	[F_GPU_KERNEL_NS] = { "gpu_kernel_ns", "kernel time", K_NS, S_GPU },
};

static const char *const section_title[NSECTIONS] = { "run", "frame pool (large allocations)",
						      "copies (traced)", "cuda", "gpu (CUPTI)" };

/* A figure of one side: a count, bytes, ns or MB/s in u, a share in pct; none when
 * it has no value there (a hit rate without large allocations). */
struct value {
	bool have;
	uint64_t u;
	double pct;
};

/* A call site of both sides, by its frames. */
enum { V_CALLS, V_BYTES, V_FAULTS, V_HITS, V_NEW, V_COPIES, V_COPY_BYTES, NV };
static const char *const vname[NV] = { "calls", "bytes", "faults", "pool_hits", "pool_new", "copies",
				       "copy_bytes" };
struct dsite {
	char *key;			/* the frames, innermost first, each ending in '\n' */
	bool on[2];
	uint8_t fn;			/* the function called there (the after side's, if any) */
	uint64_t v[2][NV];
};

enum { D_BYTES, D_CALLS, D_FAULTS, D_COPY, NDORDERS };
static const unsigned dorder_value[NDORDERS] = { V_BYTES, V_CALLS, V_FAULTS, V_COPY_BYTES };
static const char *const dorder_key[NDORDERS] = { "by_bytes", "by_calls", "by_faults", "by_copy_bytes" };
static const char *const dorder_title[NDORDERS] = {
	"call sites that changed most: bytes (large blocks)", "call sites that changed most: calls (large blocks)",
	"call sites that changed most: page faults (estimated)", "call sites that changed most: bytes copied",
};

struct diff {
	struct report *r;
	struct value fig[NFIGS][2];
	struct dsite *sites;
	size_t nsites;
	struct dsite **order[NDORDERS];	/* sites whose value changed, most first */
	size_t norder[NDORDERS];
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fputs("hmo-report: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static bool alloc_fn(unsigned f)
{
	return f < FN_MMAP && !is_free_fn(f) && f != FN_MALLOC_USABLE_SIZE;
}

static void set(struct value *v, uint64_t u)
{
	v->have = true;
	v->u = u;
}

static void set_rate(struct value *v, uint64_t bytes, uint64_t ns)
{
	if (ns) {
		/* a damaged trace may claim any size in any time: keep the cast defined */
		double r = (double)bytes * 1000.0 / (double)ns;
		set(v, r >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)r);
	}
}

static void set_pct(struct value *v, uint64_t a, uint64_t b)
{
	if (b) {
		v->have = true;
		v->pct = report_pct(a, b);
	}
}

/* The figures of side K. */
static void gather(struct diff *d, int k)
{
	const struct report *r = &d->r[k];
	const struct model *m = r->m;
	struct value *f[NFIGS];
	uint64_t t0 = UINT64_MAX, t1 = 0, minflt = 0, majflt = 0, peak = 0, pool_peak = 0;

	for (int i = 0; i < NFIGS; i++)
		f[i] = &d->fig[i][k];
	if (m->nkeys)	/* over every process, folded ones too */
		t0 = m->t0, t1 = m->t1;
	minflt = m->minflt;
	majflt = m->majflt;
	peak = m->peak_rss;
	pool_peak = m->peak_pool_live;
	set(f[F_WALL], t1 > t0 ? t1 - t0 : 0);
	set(f[F_PROCS], m->nkeys);
	set(f[F_EVENTS], m->events + m->copy_count);
	set(f[F_MINFLT], minflt);
	set(f[F_MAJFLT], majflt);
	set(f[F_PEAK_RSS], peak);
	set(f[F_POOL_PEAK], pool_peak);

	uint64_t large = 0, bytes = 0, out[8] = { 0 }, back[4] = { 0 }, faults = 0;
	for (unsigned fn = 0; fn < FN_COUNT; fn++) {
		const struct fn_events *e = &m->fn[fn];
		if (!alloc_fn(fn))
			continue;
		large += e->count - e->outcome[HMO_OUT_FAILED];
		bytes += e->bytes - e->outcome_bytes[HMO_OUT_FAILED];
		for (int i = 0; i < 8; i++)
			out[i] += e->outcome[i];
		for (int i = 0; i < 4; i++)
			back[i] += e->backing_bytes[i];
	}
	for (size_t i = 0; i < r->norder[BY_FAULTS]; i++)
		faults += r->order[BY_FAULTS][i]->faults;
	set(f[F_LARGE], large);
	set(f[F_LARGE_BYTES], bytes);
	set(f[F_HITS], out[HMO_OUT_POOL_HIT]);
	set(f[F_NEW], out[HMO_OUT_POOL_MISS]);
	set(f[F_FALLBACK], out[HMO_OUT_FALLBACK]);
	set_pct(f[F_HIT_RATE], out[HMO_OUT_POOL_HIT], large);
	set_pct(f[F_HUGE_SHARE], back[HMO_BACK_HUGETLB] + back[HMO_BACK_THP],
		back[HMO_BACK_HUGETLB] + back[HMO_BACK_THP] + back[HMO_BACK_4K]);
	set(f[F_EST_FAULTS], faults);

	set(f[F_COPIES], m->copy_count);
	set(f[F_COPY_BYTES], m->copy_bytes);
	set(f[F_COPY_NS], m->copy_ns);
	set_rate(f[F_COPY_MBS], m->copy_bytes, m->copy_ns);
	if (m->copy_rate.n)
		set(f[F_COPY_P50], lh_quantile(&m->copy_rate, 0.5));

	uint64_t calls = 0, errors = 0, cb = 0, cns = 0, staged = 0, hits = 0, fresh = 0;
	for (unsigned i = 0; i < HMO_CUOP_COUNT; i++) {
		const struct cuda_stats *x = &m->cuda[i];
		calls += x->count;
		errors += x->errors;
		staged += x->staged_bytes;
		hits += x->pool_hits;
		fresh += x->pool_new;
		if (i >= HMO_CUOP_HTOD && i <= HMO_CUOP_2D_ASYNC)
			cb += x->bytes, cns += x->ns;
	}
	set(f[F_CU_CALLS], calls);
	set(f[F_CU_ERRORS], errors);
	set(f[F_CU_COPY_BYTES], cb);
	set_rate(f[F_CU_COPY_MBS], cb, cns);
	set(f[F_CU_STAGED], staged);
	set(f[F_CU_HITS], hits);
	set(f[F_CU_NEW], fresh);

	uint64_t gb = 0, gns = 0;
	for (unsigned dir = 0; dir < GPU_DIRS; dir++)
		for (unsigned mem = 0; mem < GPU_MEMS; mem++)
			for (int c = 0; c < 65; c++) {
				const struct gpu_copies *x = m->gpu.copies[dir][mem][c];
				if (x)
					gb += x->bytes, gns += x->ns;
			}
	set(f[F_GPU_COPY_BYTES], gb);
	set_rate(f[F_GPU_COPY_MBS], gb, gns);
	set(f[F_GPU_KERNELS], m->gpu.kernels);
	set(f[F_GPU_KERNEL_NS], m->gpu.kernel_ns);
}

/* ---- call sites ---------------------------------------------------------------------- */

/* A site of one side, keyed by its frames. */
struct entry {
	char *key;
	int side;
	const struct site *s;
};

static int by_key_side(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : x->side - y->side;
}

/* S's frames, symbolized, each followed by '\n'; "" when its stack is not in the trace. */
static char *frames_key(struct report *r, const struct site *s)
{
	char buf[512];
	size_t len = 0, cap = 64;
	char *key = xmalloc(cap);

	key[0] = '\0';
	for (uint32_t i = 0; s->pcs && i < s->depth; i++) {
		report_frame(r, s, i, buf, sizeof buf);
		for (char *c = buf; *c; c++)	/* the key's separator stays one */
			*c = *c == '\n' ? '?' : *c;
		size_t n = strlen(buf);
		if (len + n + 2 > cap) {
			while (len + n + 2 > cap)
				cap *= 2;
			char *t = realloc(key, cap);
			if (!t) {
				free(key);
				fputs("hmo-report: out of memory\n", stderr);
				exit(1);
			}
			key = t;
		}
		memcpy(key + len, buf, n);
		len += n;
		key[len++] = '\n';
		key[len] = '\0';
	}
	return key;
}

static void add_site(struct dsite *d, int k, const struct site *s)
{
	uint64_t *v = d->v[k];

	if (!d->on[k] || k == 1)
		d->fn = s->fn;
	d->on[k] = true;
	v[V_CALLS] += s->allocs;
	v[V_BYTES] += s->alloc_bytes;
	v[V_FAULTS] += s->faults;
	v[V_HITS] += s->pool_hits;
	v[V_NEW] += s->pool_new;
	v[V_COPIES] += s->copies;
	v[V_COPY_BYTES] += s->copy_bytes;
}

static unsigned sorting;

static uint64_t delta(const struct dsite *s, unsigned v)
{
	return s->v[1][v] > s->v[0][v] ? s->v[1][v] - s->v[0][v] : s->v[0][v] - s->v[1][v];
}

/* The largest change first; among equals, by frames, so the output is the same from
 * run to run. */
static int by_change(const void *a, const void *b)
{
	const struct dsite *x = *(const struct dsite *const *)a, *y = *(const struct dsite *const *)b;
	uint64_t dx = delta(x, sorting), dy = delta(y, sorting);

	if (dx != dy)
		return dx < dy ? 1 : -1;
	return strcmp(x->key, y->key);
}

static void match_sites(struct diff *d)
{
	size_t n[2], total = 0;
	const struct site **all[2];

	for (int k = 0; k < 2; k++) {
		all[k] = model_sites(d->r[k].m, &n[k]);
		total += n[k];
	}
	struct entry *e = xmalloc(total * sizeof *e);
	size_t ne = 0;
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < n[k]; i++)
			e[ne++] = (struct entry){ frames_key(&d->r[k], all[k][i]), k, all[k][i] };
		free(all[k]);
	}
	qsort(e, ne, sizeof *e, by_key_side);
	d->sites = xmalloc(ne * sizeof *d->sites);
	d->nsites = 0;
	for (size_t i = 0; i < ne; i++) {
		if (!d->nsites || strcmp(d->sites[d->nsites - 1].key, e[i].key)) {
			memset(&d->sites[d->nsites], 0, sizeof *d->sites);
			d->sites[d->nsites++].key = e[i].key;
		} else
			free(e[i].key);
		add_site(&d->sites[d->nsites - 1], e[i].side, e[i].s);
	}
	free(e);
	for (int o = 0; o < NDORDERS; o++) {
		unsigned v = dorder_value[o];
		d->order[o] = xmalloc(d->nsites * sizeof *d->order[o]);
		d->norder[o] = 0;
		for (size_t i = 0; i < d->nsites; i++)
			if (d->sites[i].v[0][v] != d->sites[i].v[1][v])
				d->order[o][d->norder[o]++] = &d->sites[i];
		sorting = v;
		qsort(d->order[o], d->norder[o], sizeof *d->order[o], by_change);
	}
}

static void diff_build(struct diff *d, struct report r[2])
{
	memset(d, 0, sizeof *d);
	d->r = r;
	gather(d, 0);
	gather(d, 1);
	match_sites(d);
}

static void diff_free(struct diff *d)
{
	for (size_t i = 0; i < d->nsites; i++)
		free(d->sites[i].key);
	free(d->sites);
	for (int o = 0; o < NDORDERS; o++)
		free(d->order[o]);
}

/* The sites past the first `top` of an order: how many, and the sum of their changes
 * (after minus before) as sign and magnitude. */
static size_t rest(const struct diff *d, int o, bool *neg, uint64_t *mag)
{
	unsigned v = dorder_value[o];
	uint64_t up = 0, down = 0;
	size_t n = 0;

	for (size_t i = d->r->top; i < d->norder[o]; i++, n++) {
		const struct dsite *s = d->order[o][i];
		if (s->v[1][v] > s->v[0][v])
			up += s->v[1][v] - s->v[0][v];
		else
			down += s->v[0][v] - s->v[1][v];
	}
	*neg = down > up;
	*mag = up > down ? up - down : down - up;
	return n;
}

static const char *status(const struct dsite *s)
{
	return !s->on[0] ? "new" : !s->on[1] ? "gone" : "changed";
}

/* (after - before) / before in %: false when before is 0. */
static bool relative(double before, double after, double *pct)
{
	if (before == 0)
		return false;
	*pct = (after - before) / before * 100.0;
	return true;
}

/* ---- text ---------------------------------------------------------------------------- */

static const char *value_str(char *buf, enum kind k, uint64_t v)
{
	switch (k) {
	case K_BYTES: return report_bytes(buf, v);
	case K_NS: return report_ns(buf, v);
	case K_MBS: return report_gbs(buf, v);
	default: return report_grouped(buf, v);
	}
}

/* after - before, with its sign ("0" and the like when equal). */
static const char *change_str(char *buf, enum kind k, uint64_t before, uint64_t after)
{
	char v[32];

	value_str(v, k, after > before ? after - before : before - after);
	snprintf(buf, 40, "%s%s", after > before ? "+" : after < before ? "-" : "", v);
	return buf;
}

/* One side's value of a figure: "-" when it has none. */
static const char *side_str(char *buf, enum kind k, const struct value *v)
{
	if (!v->have)
		return "-";
	if (k != K_PCT)
		return value_str(buf, k, v->u);
	snprintf(buf, 32, "%.1f%%", v->pct);
	return buf;
}

static void text_row(FILE *o, const struct fig_def *f, const struct value v[2])
{
	char b[32], a[32], c[40] = "n/a", rel[24] = "n/a";
	bool both = v[0].have && v[1].have, pct = f->kind == K_PCT;
	double x = pct ? v[0].pct : (double)v[0].u, y = pct ? v[1].pct : (double)v[1].u, r;

	if (both && pct)
		snprintf(c, sizeof c, y == x ? "0.0 pt" : "%+.1f pt", y - x);
	else if (both)
		change_str(c, f->kind, v[0].u, v[1].u);
	if (both && relative(x, y, &r))
		snprintf(rel, sizeof rel, "%+.1f%%", r);
	fprintf(o, "%-34s %14s %14s %14s %10s\n", f->label, side_str(b, f->kind, &v[0]), side_str(a, f->kind, &v[1]),
		c, rel);
}

/* A site's change in the unit of order O, then its figures on both sides. */
static void text_site(FILE *o, const struct dsite *s, int o_)
{
	unsigned v = dorder_value[o_];
	const uint64_t *b = s->v[0], *a = s->v[1];
	enum kind k = v == V_CALLS || v == V_FAULTS ? K_COUNT : K_BYTES;
	char c[40], rel[24], x[32], y[32], p[32], q[32];
	const char *fn = hmo_fn_name(s->fn);
	double pct;

	change_str(c, k, b[v], a[v]);
	if (!s->on[0] || !s->on[1])
		snprintf(rel, sizeof rel, "%s", status(s));
	else if (relative((double)b[v], (double)a[v], &pct))
		snprintf(rel, sizeof rel, "%+.1f%%", pct);
	else
		snprintf(rel, sizeof rel, "n/a");
	switch (o_) {
	case D_BYTES:
		text_say(o, "%s (%s): %s -> %s, %s -> %s calls to %s", c, rel, report_bytes(x, b[v]),
			 report_bytes(y, a[v]), report_grouped(p, b[V_CALLS]), report_grouped(q, a[V_CALLS]), fn);
		break;
	case D_CALLS:
		text_say(o, "%s calls (%s): %s -> %s calls to %s, %s -> %s", c, rel, report_grouped(p, b[v]),
			 report_grouped(q, a[v]), fn, report_bytes(x, b[V_BYTES]), report_bytes(y, a[V_BYTES]));
		break;
	case D_FAULTS:
		text_say(o, "%s page faults (%s): ~%s -> ~%s, pool hits %s -> %s, calls to %s", c, rel,
			 report_grouped(p, b[v]), report_grouped(q, a[v]), report_grouped(x, b[V_HITS]),
			 report_grouped(y, a[V_HITS]), fn);
		break;
	default:
		text_say(o, "%s copied (%s): %s -> %s, %s -> %s copies by %s", c, rel, report_bytes(x, b[v]),
			 report_bytes(y, a[v]), report_grouped(p, b[V_COPIES]), report_grouped(q, a[V_COPIES]), fn);
		break;
	}
	if (!*s->key) {
		fputs("      (its stack is not in the trace)\n", o);
		return;
	}
	const char *f = s->key;
	for (int i = 0; *f && i < 6; i++) {
		char line[101];
		size_t n = strcspn(f, "\n");
		fprintf(o, "      %s %s\n", i ? "  " : "at", text_fit(line, f, n, 100 - 9));
		f += n + 1;
	}
}

static void text_sites(FILE *o, const struct diff *d, int o_)
{
	char c[40];
	bool neg;
	uint64_t mag;
	size_t others = rest(d, o_, &neg, &mag);
	enum kind k = o_ == D_CALLS || o_ == D_FAULTS ? K_COUNT : K_BYTES;

	text_heading(o, dorder_title[o_]);
	if (!d->norder[o_])
		fputs("no change\n", o);
	for (size_t i = 0; i < d->norder[o_] && i < d->r->top; i++)
		text_site(o, d->order[o_][i], o_);
	if (others)
		text_say(o, "and %zu other changed places, %s in all", others,
			 change_str(c, k, neg ? mag : 0, neg ? 0 : mag));
}

/* "N process(es) from NAME" for the header. */
static void side_line(FILE *o, const char *what, const struct model *m, const char *name)
{
	char s[64];

	fprintf(o, "%s: %zu process%s from %s\n", what, m->nkeys, m->nkeys == 1 ? "" : "es",
		text_fit(s, name, strlen(name), 60));
}

void diff_text(FILE *o, struct report r[2], const char *const names[2])
{
	struct diff d;

	diff_build(&d, r);
	fputs("hmo-report --diff\n", o);
	side_line(o, "before", r[0].m, names[0]);
	side_line(o, "after", r[1].m, names[1]);
	text_say(o, "change: after minus before; relative: the change in %% of before (n/a where before is "
		 "0); pt: percentage points; new, gone: a call site on one side only");
	for (int sec = 0; sec < NSECTIONS; sec++) {
		if (sec == S_CUDA && !r[0].m->cuda_events && !r[1].m->cuda_events)
			continue;
		if (sec == S_GPU && !r[0].m->gpu.records && !r[1].m->gpu.records)
			continue;
		text_heading(o, section_title[sec]);
		fprintf(o, "%-34s %14s %14s %14s %10s\n", "figure", "before", "after", "change", "relative");
		for (int i = 0; i < NFIGS; i++)
			if (figs[i].sec == (enum section)sec)
				text_row(o, &figs[i], d.fig[i]);
	}
	for (int o_ = 0; o_ < NDORDERS; o_++)
		text_sites(o, &d, o_);
	diff_free(&d);
}

/* ---- JSON ---------------------------------------------------------------------------- */

/* after - before as a JSON integer. */
static void jchange(FILE *o, bool *first, const char *k, uint64_t before, uint64_t after)
{
	jkey(o, first, k);
	fprintf(o, "%s%llu", after < before ? "-" : "",
		(unsigned long long)(after > before ? after - before : before - after));
}

static void jrel(FILE *o, bool *first, double before, double after)
{
	double pct;

	jkey(o, first, "relative_pct");
	if (relative(before, after, &pct))
		fprintf(o, "%.2f", pct);
	else
		fputs("null", o);
}

static void json_fig(FILE *o, bool *first, const struct fig_def *f, const struct value v[2])
{
	bool g = true, both = v[0].have && v[1].have;

	jkey(o, first, f->key);
	fputc('{', o);
	for (int k = 0; k < 2; k++) {
		jkey(o, &g, k ? "after" : "before");
		if (!v[k].have)
			fputs("null", o);
		else if (f->kind == K_PCT)
			fprintf(o, "%.2f", v[k].pct);
		else
			fprintf(o, "%llu", (unsigned long long)v[k].u);
	}
	if (!both) {
		jkey(o, &g, "change");
		fputs("null", o);
		jkey(o, &g, "relative_pct");
		fputs("null", o);
	} else if (f->kind == K_PCT) {
		jkey(o, &g, "change");
		fprintf(o, "%.2f", v[1].pct - v[0].pct);
		jrel(o, &g, v[0].pct, v[1].pct);
	} else {
		jchange(o, &g, "change", v[0].u, v[1].u);
		jrel(o, &g, (double)v[0].u, (double)v[1].u);
	}
	fputc('}', o);
}

static void json_side(FILE *o, bool *first, const char *k, const struct model *m, const char *name)
{
	bool g = true;

	jkey(o, first, k);
	fputc('{', o);
	jtext(o, &g, "operand", name);
	jnum(o, &g, "processes", m->nkeys);
	jkey(o, &g, "traces");
	fputc('[', o);
	for (size_t i = 0; i < m->nprocs; i++) {
		fputs(i ? "," : "", o);
		report_json_str(o, m->procs[i].source);
	}
	fputs("]}", o);
}

static void json_site(FILE *o, const struct dsite *s, unsigned v)
{
	bool f = true;

	fputc('{', o);
	jtext(o, &f, "status", status(s));
	jtext(o, &f, "function", hmo_fn_name(s->fn));
	jchange(o, &f, "change", s->v[0][v], s->v[1][v]);
	jrel(o, &f, (double)s->v[0][v], (double)s->v[1][v]);
	for (int k = 0; k < 2; k++) {
		bool g = true;
		jkey(o, &f, k ? "after" : "before");
		fputc('{', o);
		for (int i = 0; i < NV; i++)
			jnum(o, &g, vname[i], s->v[k][i]);
		fputc('}', o);
	}
	jkey(o, &f, "frames");
	fputc('[', o);
	for (const char *p = s->key; *p;) {
		size_t n = strcspn(p, "\n");
		char buf[512];
		snprintf(buf, sizeof buf, "%.*s", (int)n, p);
		fputs(p == s->key ? "" : ",", o);
		report_json_str(o, buf);
		p += n + 1;
	}
	fputs("]}", o);
}

void diff_json(FILE *o, struct report r[2], const char *const names[2])
{
	struct diff d;
	bool f = true, g = true, h = true;

	diff_build(&d, r);
	fputc('{', o);
	jnum(o, &f, "schema", 1);
	jtext(o, &f, "kind", "diff");
	json_side(o, &f, "before", r[0].m, names[0]);
	json_side(o, &f, "after", r[1].m, names[1]);
	jkey(o, &f, "figures");
	fputc('{', o);
	for (int i = 0; i < NFIGS; i++)
		json_fig(o, &g, &figs[i], d.fig[i]);
	fputc('}', o);
	jkey(o, &f, "sites");
	fputc('{', o);
	for (int o_ = 0; o_ < NDORDERS; o_++) {
		bool neg, k = false;
		uint64_t mag;
		size_t others = rest(&d, o_, &neg, &mag);
		jkey(o, &h, dorder_key[o_]);
		fputs("{\"top\":[", o);
		for (size_t i = 0; i < d.norder[o_] && i < r->top; i++) {
			fputs(i ? "," : "", o);
			json_site(o, d.order[o_][i], dorder_value[o_]);
		}
		fputc(']', o);
		jnum(o, &k, "others", others);
		jchange(o, &k, "others_change", neg ? mag : 0, neg ? 0 : mag);
		fputc('}', o);
	}
	fputs("}}\n", o);
	diff_free(&d);
}
