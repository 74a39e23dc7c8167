/* model.c: streams trace records into the aggregates of model.h. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read.h"

/* ---- log-linear histograms -------------------------------------------------- */

static unsigned lh_index(uint64_t v)
{
	if (v < 8)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v);	/* v in [2^e, 2^(e+1)) */
	return e * 8 + (unsigned)((v >> (e - 3)) & 7);
}

static uint64_t lh_mid(unsigned i)
{
	if (i < 8)
		return i;
	unsigned e = i / 8, s = i % 8;
	uint64_t lo = ((uint64_t)8 + s) << (e - 3), step = (uint64_t)1 << (e - 3);
	return lo + step / 2;
}

void lh_add(struct lhist *h, uint64_t v)
{
	if (!h->n++ || v < h->min)
		h->min = v;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	h->b[lh_index(v)]++;
}

void lh_merge(struct lhist *into, const struct lhist *from)
{
	if (from->n && (!into->n || from->min < into->min))
		into->min = from->min;
	into->n += from->n;
	into->sum += from->sum;
	if (from->max > into->max)
		into->max = from->max;
	for (unsigned i = 0; i < LH_BUCKETS; i++)
		into->b[i] += from->b[i];
}

uint64_t lh_quantile(const struct lhist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->n)
		return 0;
	/* nearest rank: the smallest value with at least q of the counts at or below it */
	rank = (uint64_t)__builtin_ceil(q * (double)h->n);
	rank = rank ? rank - 1 : 0;
	for (unsigned i = 0; i < LH_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > rank) {
			uint64_t v = lh_mid(i);
			return v > h->max ? h->max : v < h->min ? h->min : v;
		}
	}
	return h->max;
}

/* ---- small helpers ------------------------------------------------------------ */

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p) {
		fputs("hmo-report: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static void *xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size);
	if (!q) {
		fputs("hmo-report: out of memory\n", stderr);
		exit(1);
	}
	return q;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = xcalloc(1, n + 1);
	memcpy(p, s, n);
	return p;
}

static uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k;
}

void model_init(struct model *m)
{
	memset(m, 0, sizeof *m);
}

/* ---- call sites ----------------------------------------------------------------- */

/* Doubles p's table of sites (to `first` entries when empty), each put again where
 * hash() sends it, probing linearly. */
static void grow_sites(struct proc *p, size_t first, size_t (*hash)(const struct site *))
{
	size_t cap = p->capsites ? p->capsites * 2 : first;
	struct site **t = xcalloc(cap, sizeof *t);

	for (size_t i = 0; i < p->capsites; i++) {
		struct site *s = p->sites[i];
		if (!s)
			continue;
		size_t j = hash(s) & (cap - 1);
		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = s;
	}
	free(p->sites);
	p->sites = t;
	p->capsites = cap;
}

/* A kept process's sites are keyed on their stack id. */
static size_t hash_id(const struct site *s)
{
	return mix(s->id);
}

/* A process's sites: open addressing on the stack id. */
static size_t site_slot(const struct proc *p, uint32_t id)
{
	size_t j = mix(id) & (p->capsites - 1);

	for (; p->sites[j]; j = (j + 1) & (p->capsites - 1))
		if (p->sites[j]->id == id)
			break;
	return j;
}

static struct site *site_get(struct model *m, uint32_t proc, uint32_t id, bool create)
{
	struct proc *p = &m->procs[proc];

	if (id == 0)
		return NULL;
	if (create && (p->nsites + 1) * 2 > p->capsites)
		grow_sites(p, 64, hash_id);
	if (!p->capsites)
		return NULL;
	size_t j = site_slot(p, id);
	if (p->sites[j] || !create)
		return p->sites[j];
	struct site *s = xcalloc(1, sizeof *s);
	s->proc = proc;
	s->id = id;
	s->pid = p->pid;
	s->index = (uint32_t)m->nsites;
	p->sites[j] = s;
	p->nsites++;
	m->nsites++;
	return s;
}

const struct proc *model_proc(const struct model *m, uint32_t i)
{
	return i == MODEL_FOLDED ? &m->fold.proc : &m->procs[i];
}

const struct site *model_site(const struct model *m, uint32_t proc, uint32_t id)
{
	const struct proc *p = model_proc(m, proc);

	/* the folded sites are keyed on their frames, not on an id */
	return id && proc != MODEL_FOLDED && p->capsites ? p->sites[site_slot(p, id)] : NULL;
}

const struct site **model_sites(const struct model *m, size_t *n)
{
	size_t k = 0, all = m->fold.proc.nsites;

	for (size_t i = 0; i < m->nprocs; i++)
		all += m->procs[i].nsites;
	const struct site **out = xcalloc(all + 1, sizeof *out);
	for (size_t i = 0; i <= m->nprocs; i++) {
		const struct proc *p = i < m->nprocs ? &m->procs[i] : &m->fold.proc;
		for (size_t j = 0; j < p->capsites; j++)
			if (p->sites[j])
				out[k++] = p->sites[j];
	}
	*n = k;
	return out;
}

/* ---- live pool blocks (linear probing, deletion by backward shift) ------------- */

static size_t live_slot(const struct model *m, uint32_t proc, uint64_t addr)
{
	return mix(addr ^ ((uint64_t)proc << 48)) & (m->caplive - 1);
}

static void live_put(struct model *m, uint32_t proc, uint64_t addr, uint64_t size, uint32_t stack)
{
	if ((m->nlive + 1) * 2 > m->caplive) {
		size_t old = m->caplive;
		struct live *t = m->live;
		m->caplive = old ? old * 2 : 4096;
		m->live = xcalloc(m->caplive, sizeof *m->live);
		m->nlive = 0;
		for (size_t i = 0; i < old; i++)
			if (t[i].key)
				live_put(m, t[i].proc, t[i].key, t[i].size, t[i].stack);
		free(t);
	}
	size_t j = live_slot(m, proc, addr);
	while (m->live[j].key && !(m->live[j].key == addr && m->live[j].proc == proc))
		j = (j + 1) & (m->caplive - 1);
	if (!m->live[j].key)
		m->nlive++;
	m->live[j] = (struct live){ addr, size, proc, stack };
}

static void live_del(struct model *m, uint32_t proc, uint64_t addr)
{
	if (!m->caplive || !addr)
		return;
	size_t mask = m->caplive - 1, j = live_slot(m, proc, addr);
	while (m->live[j].key && !(m->live[j].key == addr && m->live[j].proc == proc))
		j = (j + 1) & mask;
	if (!m->live[j].key)
		return;
	m->live[j].key = 0;
	m->nlive--;
	/* Shift back the entries after it that would no longer be found. */
	for (size_t k = (j + 1) & mask; m->live[k].key; k = (k + 1) & mask) {
		size_t want = live_slot(m, m->live[k].proc, m->live[k].key);
		if (((k - want) & mask) >= ((k - j) & mask)) {
			m->live[j] = m->live[k];
			m->live[k].key = 0;
			j = k;
		}
	}
}

/* ---- records ---------------------------------------------------------------------- */

/* What the callbacks of one trace's reading share: the model, and the process the
 * trace is of (its index, which call sites and live blocks are keyed on). */
struct reading {
	struct model *m;
	struct proc *p;
	uint32_t pi;
	struct hmo_rec_fn *fn;		/* its counters, summed over threads: FN_COUNT */
};

static bool is_alloc(unsigned fn)
{
	switch (fn) {
	case FN_MALLOC: case FN_CALLOC: case FN_REALLOC: case FN_REALLOCARRAY:
	case FN_POSIX_MEMALIGN: case FN_ALIGNED_ALLOC: case FN_MEMALIGN: case FN_VALLOC:
	case FN_PVALLOC:
		return true;
	default:
		return false;
	}
}

static bool is_free(unsigned fn)
{
	return fn == FN_FREE || fn == FN_FREE_SIZED || fn == FN_FREE_ALIGNED_SIZED;
}

/* Page faults that touching a fresh block of `size` bytes takes: one per 2 MiB on
 * huge pages, one per 4 KiB otherwise. Reused memory takes none. */
static uint64_t fresh_faults(const struct hmo_rec_event *e)
{
	switch (e->outcome) {
	case HMO_OUT_POOL_HIT:
	case HMO_OUT_FAILED:
		return 0;
	case HMO_OUT_POOL_MISS:
		if (e->backing == HMO_BACK_HUGETLB || e->backing == HMO_BACK_THP)
			return (e->size + (2u << 20) - 1) >> 21;
		return (e->size + 4095) >> 12;
	default:
		return (e->size + 4095) >> 12;
	}
}

static void on_event(void *ctx, const struct hmo_rec_event *e)
{
	struct model *m = ((struct reading *)ctx)->m;
	struct proc *p = ((struct reading *)ctx)->p;
	uint32_t pi = ((struct reading *)ctx)->pi;

	if (e->fn >= FN_COUNT)
		return;
	struct fn_events *f = &m->fn[e->fn];
	unsigned out = e->outcome < 8 ? e->outcome : 0;

	m->events++;
	if (out == HMO_OUT_POOL_HIT || out == HMO_OUT_POOL_MISS || out == HMO_OUT_FALLBACK)
		p->frames[out - HMO_OUT_POOL_HIT]++;
	f->count++;
	f->bytes += e->size;
	f->outcome[out]++;
	f->outcome_bytes[out] += e->size;
	if (e->backing < 4)
		f->backing_bytes[e->backing] += e->size;
	f->node_bytes[e->node >= 0 && e->node < 64 ? e->node + 1 : 0] += e->size;
	lh_add(&f->lat, e->dur);

	if (is_alloc(e->fn) && out != HMO_OUT_FAILED) {
		struct site *s = site_get(m, pi, e->stack, true);
		if (s) {
			s->allocs++;
			s->alloc_bytes += e->size;
			s->faults += fresh_faults(e);
			s->fn = e->fn;
			s->pool_hits += out == HMO_OUT_POOL_HIT;
			s->pool_new += out == HMO_OUT_POOL_MISS;
		}
		if (e->old)
			live_del(m, pi, e->old);
		if (e->addr && (out == HMO_OUT_POOL_HIT || out == HMO_OUT_POOL_MISS))
			live_put(m, pi, e->addr, e->size, e->stack);
	} else if (is_free(e->fn)) {
		m->large_frees++;
		live_del(m, pi, e->addr);
	} else if ((e->fn == FN_MMAP || e->fn == FN_MMAP64) && out != HMO_OUT_FAILED) {
		struct site *s = site_get(m, pi, e->stack, true);
		if (s) {
			s->allocs++;
			s->alloc_bytes += e->size;
			s->faults += fresh_faults(e);
			s->fn = e->fn;
		}
	}
}

static void on_copy(void *ctx, const struct hmo_rec_copy *c)
{
	struct model *m = ((struct reading *)ctx)->m;
	uint32_t pi = ((struct reading *)ctx)->pi;
	uint64_t rate = c->dur ? c->size * 1000 / c->dur : 0;	/* MB/s */
	unsigned cls = c->size ? 64u - (unsigned)__builtin_clzll(c->size) : 0;
	struct copy_class *k = &m->copies[cls];
	struct site *s = site_get(m, pi, c->stack, true);

	if (c->fn >= FN_COUNT)
		return;
	m->copy_count++;
	m->copy_bytes += c->size;
	m->copy_ns += c->dur;
	k->count++;
	k->bytes += c->size;
	k->ns += c->dur;
	if (c->dur) {
		lh_add(&k->rate, rate);
		lh_add(&m->copy_rate, rate);
	}
	if (s) {
		s->copies++;
		s->copy_bytes += c->size;
		s->copy_ns += c->dur;
		if (!s->allocs)
			s->fn = c->fn;
		if (c->dur) {
			if (!s->copy_rate)
				s->copy_rate = xcalloc(1, sizeof *s->copy_rate);
			lh_add(s->copy_rate, rate);
		}
	}
}

/* The process's own figures of a CUDA record, as libhmo counts them for
 * HMO_METRICS: calls, bytes and errors per operation; pool hits and misses of the
 * allocations (pinned for the host ones); staged bytes by direction. */
static void proc_cuda(struct proc *p, const struct hmo_rec_cuda *c)
{
	if (!p->cuda)
		p->cuda = xcalloc(1, sizeof *p->cuda);
	struct proc_cuda *x = p->cuda;
	bool host = c->op == HMO_CUOP_MEM_ALLOC_HOST || c->op == HMO_CUOP_MEM_HOST_ALLOC;

	x->calls[c->op]++;
	x->bytes[c->op] += c->size;
	x->errors[c->op] += c->result != 0;
	for (int k = 0; k < 2; k++)
		if (c->flags & (k ? HMO_CUDA_POOL_NEW : HMO_CUDA_POOL_HIT))
			(host ? x->pinned_pool : x->dev_pool)[k]++;
	if (c->flags & HMO_CUDA_STAGED) {
		if (c->op == HMO_CUOP_HTOD || c->op == HMO_CUOP_HTOD_ASYNC)
			x->staged[0] += c->size;
		else if (c->op == HMO_CUOP_DTOH || c->op == HMO_CUOP_DTOH_ASYNC)
			x->staged[1] += c->size;
		else
			x->staged_2d = true;
	}
}

static void on_cuda(void *ctx, const struct hmo_rec_cuda *c)
{
	struct model *m = ((struct reading *)ctx)->m;

	if (c->op >= HMO_CUOP_COUNT)
		return;
	struct cuda_stats *x = &m->cuda[c->op];
	m->cuda_events++;
	x->count++;
	x->bytes += c->size;
	x->ns += c->dur;
	x->errors += c->result != 0;
	if (c->flags & HMO_CUDA_STAGED) {
		x->staged++;
		x->staged_bytes += c->size;
	}
	x->pool_hits += (c->flags & HMO_CUDA_POOL_HIT) != 0;
	x->pool_new += (c->flags & HMO_CUDA_POOL_NEW) != 0;
	lh_add(&x->lat, c->dur);
	proc_cuda(((struct reading *)ctx)->p, c);
}

/* ---- GPU activity ----------------------------------------------------------------- */

static uint8_t host_side(const struct hmo_rec_gpu_copy *c)
{
	uint8_t k = c->dir == HMO_GPU_DTOH ? c->dst : c->src;
	return k < GPU_MEMS ? k : HMO_GPU_MEM_UNKNOWN;
}

static void join(struct gpu *g, uint32_t corr, int dir, unsigned mem, uint64_t api, uint64_t dev)
{
	if (!corr)
		return;
	if (!g->join)
		g->join = xcalloc(GPU_JOIN, sizeof *g->join);
	struct gpu_join *j = &g->join[mix(corr) & (GPU_JOIN - 1)];
	if (j->corr != corr)
		*j = (struct gpu_join){ .corr = corr };
	if (dir >= 0) {
		j->dir = (uint8_t)dir;
		j->mem = (uint8_t)mem;
		j->dev_ns += dev;
		j->have_dev = 1;
	} else {
		j->api_ns = api;
		j->have_api = 1;
	}
	if (j->have_api && j->have_dev && j->dir < GPU_DIRS && j->mem < GPU_MEMS) {
		g->api_ns[j->dir][j->mem] += j->api_ns;
		g->dev_ns[j->dir][j->mem] += j->dev_ns;
		g->joined[j->dir][j->mem]++;
		j->corr = 0;
	}
}

static void keep_span(struct gpu *g, bool kernel, uint64_t a, uint64_t b)
{
	struct span **v = kernel ? &g->kernel_spans : &g->copy_spans;
	size_t *n = kernel ? &g->nkernel_spans : &g->ncopy_spans;

	if (b <= a)
		return;
	if (!*v)
		*v = xcalloc(GPU_SPANS, sizeof **v);
	if (*n == GPU_SPANS) {
		g->spans_cut = true;
		return;
	}
	(*v)[(*n)++] = (struct span){ a, b };
}

static int by_start(const void *x, const void *y)
{
	const struct span *a = x, *b = y;
	return a->a < b->a ? -1 : a->a > b->a;
}

/* The share of copy time during which some kernel ran: kernels merged into a union
 * of intervals, each copy measured against it. */
static void overlap(struct gpu *g)
{
	size_t nk = 0;
	uint64_t total = 0, over = 0;

	if (!g->ncopy_spans || !g->nkernel_spans)
		return;
	qsort(g->kernel_spans, g->nkernel_spans, sizeof *g->kernel_spans, by_start);
	for (size_t i = 0; i < g->nkernel_spans; i++) {
		struct span k = g->kernel_spans[i];
		if (nk && k.a <= g->kernel_spans[nk - 1].b) {
			if (k.b > g->kernel_spans[nk - 1].b)
				g->kernel_spans[nk - 1].b = k.b;
		} else {
			g->kernel_spans[nk++] = k;
		}
	}
	for (size_t i = 0; i < g->ncopy_spans; i++) {
		struct span c = g->copy_spans[i];
		size_t lo = 0, hi = nk;
		total += c.b - c.a;
		while (lo < hi) {	/* the first union interval that ends after the copy starts */
			size_t mid = (lo + hi) / 2;
			if (g->kernel_spans[mid].b <= c.a)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t k = lo; k < nk && g->kernel_spans[k].a < c.b; k++) {
			uint64_t a = c.a > g->kernel_spans[k].a ? c.a : g->kernel_spans[k].a;
			uint64_t b = c.b < g->kernel_spans[k].b ? c.b : g->kernel_spans[k].b;
			over += b - a;
		}
	}
	g->overlap = total ? (double)over / (double)total : 0;
}

/* The GPU's records (CUPTI): each one counted, then what it adds. */
static struct gpu *gpu_of(void *ctx)
{
	struct gpu *g = &((struct reading *)ctx)->m->gpu;

	g->records++;
	return g;
}

static void on_gpu_copy(void *ctx, const struct hmo_rec_gpu_copy *c)
{
	struct gpu *g = gpu_of(ctx);
	uint64_t ns = c->end > c->start ? c->end - c->start : 0;
	unsigned dir = c->dir < GPU_DIRS ? c->dir : 0, mem = host_side(c);
	unsigned cls = c->bytes ? 64u - (unsigned)__builtin_clzll(c->bytes) : 0;
	struct gpu_copies **x = &g->copies[dir][mem][cls];

	if (!*x)
		*x = xcalloc(1, sizeof **x);
	(*x)->count++;
	(*x)->bytes += c->bytes;
	(*x)->ns += ns;
	lh_add(&(*x)->dur, ns);
	if (!c->async && dir != HMO_GPU_DTOD && dir != HMO_GPU_PTOP) {
		g->sync_copies++;
		g->sync_bytes += c->bytes;
	}
	join(g, c->correlation, (int)dir, mem, 0, ns);
	if (dir != HMO_GPU_DTOD && dir != HMO_GPU_PTOP)
		keep_span(g, false, c->start, c->end);
}

static void on_gpu_memset(void *ctx, const struct hmo_rec_gpu_memset *s)
{
	struct gpu *g = gpu_of(ctx);

	g->memsets++;
	g->memset_bytes += s->bytes;
	g->memset_ns += s->end > s->start ? s->end - s->start : 0;
}

static void on_gpu_kernel(void *ctx, const struct hmo_rec_gpu_kernel *k, const char *name, uint32_t name_len)
{
	struct gpu *g = gpu_of(ctx);

	(void)name, (void)name_len;
	g->kernels++;
	g->kernel_ns += k->end > k->start ? k->end - k->start : 0;
	keep_span(g, true, k->start, k->end);
}

static void on_gpu_memory(void *ctx, const struct hmo_rec_gpu_memory *a)
{
	struct gpu *g = gpu_of(ctx);
	unsigned mem = a->mem < GPU_MEMS ? a->mem : 0;

	if (a->op == HMO_GPU_ALLOC) {
		g->allocs[mem]++;
		g->alloc_bytes[mem] += a->bytes;
	} else {
		g->frees[mem]++;
	}
}

static void on_gpu_api(void *ctx, const struct hmo_rec_gpu_api *a)
{
	join(gpu_of(ctx), a->correlation, -1, 0, a->end > a->start ? a->end - a->start : 0, 0);
}

static void on_gpu_info(void *ctx, const struct hmo_rec_gpu_info *i)
{
	struct gpu *g = gpu_of(ctx);

	if (i->dropped > g->dropped)
		g->dropped = i->dropped;
}

static void on_process(void *ctx, const struct hmo_rec_process *r, const char *exe, const char *cmdline,
		       const char *options)
{
	struct proc *p = ((struct reading *)ctx)->p;

	p->threshold = r->threshold;
	p->copy_min = r->copy_min;
	p->depth = r->backtrace_depth;
	free(p->exe);
	free(p->cmdline);
	free(p->options);
	p->exe = xstrndup(exe, r->exe_len);
	p->cmdline = xstrndup(cmdline, r->cmdline_len);
	p->argv0_len = (uint32_t)strlen(p->cmdline);
	for (uint32_t i = 0; i + 1 < r->cmdline_len; i++)
		if (p->cmdline[i] == '\0')
			p->cmdline[i] = ' ';
	p->options = xstrndup(options, r->options_len);
}

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

/* The model's copy of a module path (the N bytes at S, up to a NUL): one per distinct
 * path, however many records and processes name it. */
static const char *intern_path(struct model *m, const char *s, size_t n)
{
	n = strnlen(s, n);
	if ((m->npaths + 1) * 2 > m->cappaths) {
		size_t cap = m->cappaths ? m->cappaths * 2 : 256;
		char **t = xcalloc(cap, sizeof *t);
		for (size_t i = 0; i < m->cappaths; i++) {
			char *q = m->paths[i];
			if (!q)
				continue;
			size_t j = hash_bytes(q, strlen(q)) & (cap - 1);
			while (t[j])
				j = (j + 1) & (cap - 1);
			t[j] = q;
		}
		free(m->paths);
		m->paths = t;
		m->cappaths = cap;
	}
	size_t j = hash_bytes(s, n) & (m->cappaths - 1);
	for (; m->paths[j]; j = (j + 1) & (m->cappaths - 1))
		if (strncmp(m->paths[j], s, n) == 0 && m->paths[j][n] == '\0')
			return m->paths[j];
	m->paths[j] = xstrndup(s, n);
	m->npaths++;
	return m->paths[j];
}

static size_t mod_slot(const struct proc *p, uint64_t start, const char *path)
{
	return mix(start ^ (uint64_t)(uintptr_t)path * 0x9e3779b97f4a7c15ull) & (p->capmodset - 1);
}

/* Every generation (a dlopen, a dlclose) lists every object again: a record seen
 * before, same address and path, is found in the process's set and dropped, so that
 * reading takes time in proportion to the records and memory to the distinct ones. */
static void on_module(void *ctx, const struct hmo_rec_module *r, const char *name)
{
	struct model *m = ((struct reading *)ctx)->m;
	struct proc *p = ((struct reading *)ctx)->p;

	if (r->start >= r->end)
		return;
	const char *path = intern_path(m, name, r->path_len);
	if ((p->nmods + 1) * 2 > p->capmodset) {
		free(p->modset);
		p->capmodset = p->capmodset ? p->capmodset * 2 : 64;
		p->modset = xcalloc(p->capmodset, sizeof *p->modset);
		for (size_t i = 0; i < p->nmods; i++) {
			size_t j = mod_slot(p, p->mods[i].start, p->mods[i].path);
			while (p->modset[j])
				j = (j + 1) & (p->capmodset - 1);
			p->modset[j] = (uint32_t)i + 1;
		}
	}
	size_t j = mod_slot(p, r->start, path);
	for (; p->modset[j]; j = (j + 1) & (p->capmodset - 1)) {
		const struct module *x = &p->mods[p->modset[j] - 1];
		if (x->start == r->start && x->path == path)
			return;
	}
	if (p->nmods == UINT32_MAX - 1)
		return;
	if (p->nmods == p->capmods) {
		p->capmods = p->capmods ? p->capmods * 2 : 64;
		p->mods = xrealloc(p->mods, p->capmods * sizeof *p->mods);
	}
	p->modset[j] = (uint32_t)p->nmods + 1;
	p->mods[p->nmods++] = (struct module){ r->start, r->end, r->bias, path };
}

static void on_stack(void *ctx, const struct hmo_rec_stack *r, const void *pcs)
{
	struct reading *x = ctx;

	if (r->depth > 256)
		return;
	struct site *s = site_get(x->m, x->pi, r->id, true);
	if (!s || s->pcs)
		return;
	s->depth = r->depth;
	s->pcs = xcalloc(r->depth ? r->depth : 1, sizeof *s->pcs);
	memcpy(s->pcs, pcs, (size_t)r->depth * 8);
}

/* Keeps every stride-th sample; when the series is full, every other point goes
 * and the stride doubles, so a long run keeps its whole span at a coarser step. */
static void keep_point(struct proc *p, const struct hmo_rec_sample *s)
{
	if (!p->series)
		p->stride = 1;
	if (p->seen++ % p->stride)
		return;
	if (p->nseries == p->capseries && p->capseries < SERIES_MAX) {
		/* grown as it fills: a build's thousand short processes have a few points each */
		p->capseries = p->capseries ? 2 * p->capseries : 16;
		p->series = xrealloc(p->series, p->capseries * sizeof *p->series);
	}
	if (p->nseries == SERIES_MAX) {
		for (size_t i = 0; i < SERIES_MAX / 2; i++)
			p->series[i] = p->series[2 * i];
		p->nseries = SERIES_MAX / 2;
		p->stride *= 2;
	}
	p->series[p->nseries++] = (struct point){ s->t, s->rss, s->anon_huge, s->pool_live, s->pool_cached,
						  s->minflt };
}

static void on_sample(void *ctx, const struct hmo_rec_sample *s)
{
	struct proc *p = ((struct reading *)ctx)->p;

	((struct reading *)ctx)->m->time_series++;
	keep_point(p, s);
	if (!p->samples++)
		p->min_minflt = s->minflt;
	if (s->rss > p->peak_rss)
		p->peak_rss = s->rss;
	if (s->minflt > p->minflt)
		p->minflt = s->minflt;
	if (s->majflt > p->majflt)
		p->majflt = s->majflt;
	if (s->anon_huge > p->peak_anon_huge)
		p->peak_anon_huge = s->anon_huge;
	if (s->pool_live > p->peak_pool_live)
		p->peak_pool_live = s->pool_live;
	if (s->pool_cached > p->peak_pool_cached)
		p->peak_pool_cached = s->pool_cached;
}

static void on_counters(void *ctx, const struct hmo_rec_counters *c, const void *fns)
{
	struct proc *p = ((struct reading *)ctx)->p;
	struct hmo_rec_fn *fn = ((struct reading *)ctx)->fn;

	p->counted = true;
	for (uint32_t i = 0; i < c->nfn; i++) {
		struct hmo_rec_fn f;
		memcpy(&f, (const char *)fns + (size_t)i * sizeof f, sizeof f);
		if (f.fn >= FN_COUNT)
			continue;
		struct hmo_rec_fn *d = &fn[f.fn];
		d->fn = f.fn;
		d->calls += f.calls;
		d->bytes += f.bytes;
		d->large_calls += f.large_calls;
		d->large_bytes += f.large_bytes;
		d->lat_samples += f.lat_samples;
		for (int k = 0; k < HMO_TRACE_BUCKETS; k++) {
			d->hist[k] += f.hist[k];
			d->lat_hist[k] += f.lat_hist[k];
		}
	}
}

/* The latest time a record of the process carries; a time far beyond its start (a
 * damaged record) is not believed. */
static void on_time(void *ctx, uint64_t t)
{
	struct proc *p = ((struct reading *)ctx)->p;

	if (t > p->last_ns && t - p->start_ns < (uint64_t)1e15)
		p->last_ns = t;
}

static void on_end(void *ctx, const struct hmo_rec_end *e)
{
	struct proc *p = ((struct reading *)ctx)->p;

	p->end = *e;
	p->ended = true;
}

static void on_pool(void *ctx, const struct hmo_rec_pool *pool)
{
	((struct reading *)ctx)->p->pool = *pool;
}

static const struct tr_visitor model_visitor = {
	.time = on_time,
	.process = on_process,
	.module = on_module,
	.stack = on_stack,
	.event = on_event,
	.copy = on_copy,
	.sample = on_sample,
	.counters = on_counters,
	.end = on_end,
	.cuda = on_cuda,
	.gpu_copy = on_gpu_copy,
	.gpu_memset = on_gpu_memset,
	.gpu_kernel = on_gpu_kernel,
	.gpu_memory = on_gpu_memory,
	.gpu_api = on_gpu_api,
	.gpu_info = on_gpu_info,
	.pool = on_pool,
};

/* A new process in the model, for the trace R has open: a slot left by a folded
 * process, or a new one at the end. */
static uint32_t new_proc(struct model *m, const struct tr_reader *r, const char *path)
{
	uint32_t slot;

	if (m->nfree) {
		slot = m->free_slots[--m->nfree];
	} else {
		if (m->nprocs == m->capprocs) {
			m->capprocs = m->capprocs ? m->capprocs * 2 : 16;
			m->procs = xrealloc(m->procs, m->capprocs * sizeof *m->procs);
		}
		slot = (uint32_t)m->nprocs++;
	}
	struct proc *p = &m->procs[slot];
	memset(p, 0, sizeof *p);
	p->pid = r->hdr.pid;
	p->ppid = r->hdr.ppid;
	p->start_ns = p->last_ns = r->hdr.start_ns;
	p->start_real_ns = r->hdr.start_real_ns;
	p->source = xstrndup(path, strlen(path));
	p->seq = m->nkeys;
	return slot;
}

/* ---- folding --------------------------------------------------------------------- */

static void free_proc(struct proc *p)
{
	free(p->exe);
	free(p->cmdline);
	free(p->options);
	free(p->source);
	free(p->mods);
	free(p->modset);
	free(p->series);
	free(p->cuda);
	for (size_t i = 0; i < p->capsites; i++) {
		if (p->sites[i]) {
			free(p->sites[i]->pcs);
			free(p->sites[i]->copy_rate);
			free(p->sites[i]);
		}
	}
	free(p->sites);
}

/* The folded processes' copy of module X: the same object at the same offset, at an
 * address of its own in the pseudo-process. */
static const struct module *fold_module(struct folded *f, const struct module *x)
{
	struct proc *fp = &f->proc;
	uint64_t off = x->start - x->bias, size = x->end - x->start;
	uint64_t h = mix(off ^ size * 31 ^ (uint64_t)(uintptr_t)x->path * 0x9e3779b97f4a7c15ull);

	if ((fp->nmods + 1) * 2 > f->capmodset) {
		free(f->modset);
		f->capmodset = f->capmodset ? f->capmodset * 2 : 64;
		f->modset = xcalloc(f->capmodset, sizeof *f->modset);
		for (size_t i = 0; i < fp->nmods; i++) {
			const struct module *y = &fp->mods[i];
			size_t j = mix((y->start - y->bias) ^ (y->end - y->start) * 31 ^
				       (uint64_t)(uintptr_t)y->path * 0x9e3779b97f4a7c15ull) & (f->capmodset - 1);
			while (f->modset[j])
				j = (j + 1) & (f->capmodset - 1);
			f->modset[j] = (uint32_t)i + 1;
		}
	}
	size_t j = h & (f->capmodset - 1);
	for (; f->modset[j]; j = (j + 1) & (f->capmodset - 1)) {
		const struct module *y = &fp->mods[f->modset[j] - 1];
		if (y->path == x->path && y->start - y->bias == off && y->end - y->start == size)
			return y;
	}
	if (fp->nmods == fp->capmods) {
		fp->capmods = fp->capmods ? fp->capmods * 2 : 64;
		fp->mods = xrealloc(fp->mods, fp->capmods * sizeof *fp->mods);
	}
	/* from 2^62 up, 2 MiB apart: above any user-space address a frame can hold */
	if (!f->next_base)
		f->next_base = 1ull << 62;
	uint64_t start = f->next_base;
	f->next_base += ((size + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1)) + (2u << 20);
	f->modset[j] = (uint32_t)fp->nmods + 1;
	fp->mods[fp->nmods] = (struct module){ start, start + size, start - off, x->path };
	return &fp->mods[fp->nmods++];
}

static const struct proc *sorting_mods;

static int by_mod_start(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, k = *(const uint32_t *)b;
	uint64_t x = sorting_mods->mods[i].start, y = sorting_mods->mods[k].start;

	if (x != y)
		return x < y ? -1 : 1;
	return i < k ? -1 : i > k;
}

/* PC of process P, where the folded processes have its object; as it is when no
 * object of P holds it. BY: P's modules by start. */
static uint64_t fold_pc(struct folded *f, const struct proc *p, const uint32_t *by, uint64_t pc)
{
	size_t lo = 0, hi = p->nmods;

	while (lo < hi) {	/* the first module that starts after pc */
		size_t mid = (lo + hi) / 2;
		if (p->mods[by[mid]].start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k-- > 0;) {
		const struct module *x = &p->mods[by[k]];
		if (pc < x->end)
			return pc - x->start + fold_module(f, x)->start;
		if (lo - k > 8)	/* overlapping objects: give up after a few */
			break;
	}
	return pc;
}

static uint64_t hash_frames(uint32_t depth, const uint64_t *pcs)
{
	uint64_t h = mix(depth + 1);

	for (uint32_t i = 0; i < depth; i++)
		h = mix(h ^ pcs[i]) + i;
	return h;
}

/* The folded sites are keyed on their frames. */
static size_t hash_stack(const struct site *s)
{
	return hash_frames(s->depth, s->pcs);
}

/* The folded site of these frames (made when new), keyed on them. */
static struct site *fold_site(struct model *m, uint32_t depth, const uint64_t *pcs, bool have)
{
	struct proc *fp = &m->fold.proc;

	if ((fp->nsites + 1) * 2 > fp->capsites)
		grow_sites(fp, 256, hash_stack);
	size_t j = hash_frames(depth, pcs) & (fp->capsites - 1);
	for (; fp->sites[j]; j = (j + 1) & (fp->capsites - 1)) {
		const struct site *s = fp->sites[j];
		if (s->depth == depth && (s->pcs != NULL) == have &&
		    (depth == 0 || memcmp(s->pcs, pcs, (size_t)depth * 8) == 0))
			return fp->sites[j];
	}
	struct site *s = xcalloc(1, sizeof *s);
	s->proc = MODEL_FOLDED;
	s->id = ++m->fold.next_id;
	s->depth = depth;
	if (have) {
		s->pcs = xcalloc(depth ? depth : 1, sizeof *s->pcs);
		memcpy(s->pcs, pcs, (size_t)depth * 8);
	}
	fp->sites[j] = s;
	fp->nsites++;
	return s;
}

/* The per-process figures --openmetrics totals, added into the folded processes'
 * (their samples are gone, their share of the totals stays). */
static void fold_figures(struct proc *f, const struct proc *p)
{
	f->counted |= p->counted;
	for (int i = 0; i < FN_COUNT; i++) {
		f->fn[i].calls += p->fn[i].calls;
		f->fn[i].bytes += p->fn[i].bytes;
		f->fn[i].large_calls += p->fn[i].large_calls;
		f->fn[i].large_bytes += p->fn[i].large_bytes;
	}
	for (int k = 0; k < 3; k++)
		f->frames[k] += p->frames[k];
	if (p->cuda) {
		if (!f->cuda)
			f->cuda = xcalloc(1, sizeof *f->cuda);
		for (int op = 0; op < HMO_CUOP_COUNT; op++) {
			f->cuda->calls[op] += p->cuda->calls[op];
			f->cuda->bytes[op] += p->cuda->bytes[op];
			f->cuda->errors[op] += p->cuda->errors[op];
		}
		for (int k = 0; k < 2; k++) {
			f->cuda->dev_pool[k] += p->cuda->dev_pool[k];
			f->cuda->pinned_pool[k] += p->cuda->pinned_pool[k];
			/* as --openmetrics totals them: the processes whose staged bytes
			 * are the spans staged (no 2D copy) */
			if (!p->cuda->staged_2d)
				f->cuda->staged[k] += p->cuda->staged[k];
		}
	}
}

/* Process SLOT leaves the kept ones: its sites merge into the folded sites, its
 * figures into the folded totals, and its memory is freed. */
static void fold(struct model *m, uint32_t slot)
{
	struct proc *p = &m->procs[slot];
	struct folded *f = &m->fold;
	uint32_t *by = xcalloc(p->nmods + 1, sizeof *by);
	uint64_t pcs[256];

	for (uint32_t i = 0; i < p->nmods; i++)
		by[i] = i;
	sorting_mods = p;
	qsort(by, p->nmods, sizeof *by, by_mod_start);
	for (size_t i = 0; i < p->capsites; i++) {
		struct site *s = p->sites[i];
		if (!s)
			continue;
		uint32_t depth = s->pcs ? s->depth : 0;
		for (uint32_t k = 0; k < depth; k++)
			pcs[k] = fold_pc(f, p, by, s->pcs[k]);
		struct site *d = fold_site(m, depth, pcs, s->pcs != NULL);
		if (!d->procs++) {
			d->pid = s->pid;
			d->index = s->index;	/* the folded site takes its first one's */
			d->fn = s->fn;
		} else if (!d->allocs && s->allocs) {
			d->fn = s->fn;
		}
		d->allocs += s->allocs;
		d->alloc_bytes += s->alloc_bytes;
		d->faults += s->faults;
		d->pool_hits += s->pool_hits;
		d->pool_new += s->pool_new;
		d->copies += s->copies;
		d->copy_bytes += s->copy_bytes;
		d->copy_ns += s->copy_ns;
		d->leaked += s->leaked;
		d->leaked_bytes += s->leaked_bytes;
		if (s->copy_rate) {
			if (!d->copy_rate)
				d->copy_rate = xcalloc(1, sizeof *d->copy_rate);
			lh_merge(d->copy_rate, s->copy_rate);
		}
	}
	free(by);
	if (!f->count++)
		f->proc.exe = xstrndup("(folded processes)", 18);
	f->peak_rss = p->peak_rss > f->peak_rss ? p->peak_rss : f->peak_rss;
	f->minflt += p->minflt;
	fold_figures(&f->proc, p);
	m->keys[p->seq].slot = MODEL_FOLDED;
	free_proc(p);
	memset(p, 0, sizeof *p);
	m->free_slots[m->nfree++] = slot;
}

/* The heap of kept processes: the one the report would list last at the root
 * (lowest peak RSS; among equals, the later trace). */
static bool lower(const struct model *m, uint32_t a, uint32_t b)
{
	const struct proc *p = &m->procs[a], *q = &m->procs[b];

	if (p->peak_rss != q->peak_rss)
		return p->peak_rss < q->peak_rss;
	return p->seq > q->seq;
}

static void heap_push(struct model *m, uint32_t slot)
{
	size_t i = m->nheap++;

	for (; i && lower(m, slot, m->heap[(i - 1) / 2]); i = (i - 1) / 2)
		m->heap[i] = m->heap[(i - 1) / 2];
	m->heap[i] = slot;
}

static uint32_t heap_pop(struct model *m)
{
	uint32_t top = m->heap[0], last = m->heap[--m->nheap];
	size_t i = 0, n = m->nheap;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && lower(m, m->heap[c + 1], m->heap[c]))
			c++;
		if (!lower(m, m->heap[c], last))
			break;
		m->heap[i] = m->heap[c];
		i = c;
	}
	if (n)
		m->heap[i] = last;
	return top;
}

/* The trace of process SLOT is read: its leaks, its counters into the totals, its
 * key; then it joins the kept processes, and the lowest of them is folded when
 * there are too many. */
static void proc_done(struct model *m, uint32_t slot, const struct hmo_rec_fn *fn)
{
	struct proc *p = &m->procs[slot];

	for (size_t i = 0; i < m->caplive; i++) {
		struct live *l = &m->live[i];
		struct site *s;
		if (!l->key || !(s = site_get(m, l->proc, l->stack, false)))
			continue;
		s->leaked++;
		s->leaked_bytes += l->size;
	}
	free(m->live);
	m->live = NULL;
	m->nlive = m->caplive = 0;

	uint64_t thr = p->threshold ? p->threshold : 1u << 20;	/* HMO_THRESHOLD's default */
	unsigned tb = 64u - (unsigned)__builtin_clzll(thr);	/* the threshold's log2 bucket */
	m->counted |= p->counted;
	for (unsigned f = 0; f < FN_COUNT; f++) {
		const struct hmo_rec_fn *x = &fn[f];
		struct hmo_rec_fn *d = &m->calls[f];
		p->fn[f] = (struct proc_fn){ x->calls, x->bytes, x->large_calls, x->large_bytes };
		d->calls += x->calls;
		d->bytes += x->bytes;
		d->large_calls += x->large_calls;
		d->large_bytes += x->large_bytes;
		d->lat_samples += x->lat_samples;
		for (int k = 0; k < HMO_TRACE_BUCKETS; k++) {
			d->hist[k] += x->hist[k];
			d->lat_hist[k] += x->lat_hist[k];
		}
		if (f >= FN_MMAP || f == FN_FREE || f == FN_FREE_SIZED || f == FN_FREE_ALIGNED_SIZED ||
		    f == FN_MALLOC_USABLE_SIZE)
			continue;
		for (unsigned k = tb >= 2 ? tb - 2 : 0; k < tb; k++)
			p->unpooled += x->hist[k];
		p->pooled += x->large_calls;
	}

	if (!m->nkeys || p->start_ns < m->t0)
		m->t0 = p->start_ns;
	m->t1 = p->last_ns > m->t1 ? p->last_ns : m->t1;
	m->minflt += p->minflt;
	m->majflt += p->majflt;
	m->peak_rss = p->peak_rss > m->peak_rss ? p->peak_rss : m->peak_rss;
	m->peak_pool_live = p->peak_pool_live > m->peak_pool_live ? p->peak_pool_live : m->peak_pool_live;

	if (m->nkeys == m->capkeys) {
		m->capkeys = m->capkeys ? m->capkeys * 2 : 64;
		m->keys = xrealloc(m->keys, m->capkeys * sizeof *m->keys);
	}
	m->keys[m->nkeys++] = (struct proc_key){
		.pid = p->pid, .ppid = p->ppid, .slot = slot, .ended = p->ended,
		.pool_off = p->options && strstr(p->options, "HMO_POOL=off"), .how = p->end.how,
		.start_ns = p->start_ns, .last_ns = p->last_ns, .exe = intern_path(m, p->exe, strlen(p->exe)),
		.threshold = p->threshold, .unpooled = p->unpooled, .pooled = p->pooled, .samples = p->samples,
		.peak_rss = p->peak_rss, .peak_anon_huge = p->peak_anon_huge, .peak_pool_live = p->peak_pool_live,
		.dropped = p->end.dropped, .pool = p->pool,
	};

	if (!m->heap) {
		m->heap = xcalloc(MODEL_PROCS_KEPT + 1, sizeof *m->heap);
		m->free_slots = xcalloc(MODEL_PROCS_KEPT + 1, sizeof *m->free_slots);
	}
	heap_push(m, slot);
	if (m->nheap > MODEL_PROCS_KEPT)
		fold(m, heap_pop(m));
}

int model_read(struct model *m, const char *path)
{
	struct tr_reader r;

	m->files++;
	if (tr_open(&r, path) != 0) {
		fprintf(stderr, "hmo-report: %s\n", r.msg);
		m->files_failed++;
		return -1;
	}
	uint32_t slot = new_proc(m, &r, path);
	struct reading x = { m, &m->procs[slot], slot, xcalloc(FN_COUNT, sizeof *x.fn) };
	struct proc *p = x.p;
	int rc = tr_walk(&r, &model_visitor, &x);
	p->records = r.records;
	if (rc < 0) {
		fprintf(stderr, "hmo-report: warning: %s\n", r.msg);
		p->partial = true;
		m->warnings++;
	}
	tr_close(&r);
	if (!p->exe)
		p->exe = xstrndup("?", 1);
	proc_done(m, slot, x.fn);
	free(x.fn);
	return 0;
}

static int by_pid_then_start(const void *a, const void *b)
{
	const struct proc_key *p = *(const struct proc_key *const *)a, *q = *(const struct proc_key *const *)b;

	if (p->pid != q->pid)
		return p->pid < q->pid ? -1 : 1;
	if (p->ppid != q->ppid)
		return p->ppid < q->ppid ? -1 : 1;
	if (p->start_ns != q->start_ns)
		return p->start_ns < q->start_ns ? -1 : 1;
	return p < q ? -1 : p > q;
}

/* exec keeps the pid and the parent but runs a new program, which writes a trace of
 * its own: a trace without an end record that is followed by one of the same pid and
 * parent ended in exec, not killed. */
static void find_execs(struct model *m)
{
	struct proc_key **by = xcalloc(m->nkeys ? m->nkeys : 1, sizeof *by);

	for (size_t i = 0; i < m->nkeys; i++)
		by[i] = &m->keys[i];
	qsort(by, m->nkeys, sizeof *by, by_pid_then_start);
	for (size_t i = 0; i + 1 < m->nkeys; i++) {
		struct proc_key *k = by[i];
		if (!k->ended && by[i + 1]->pid == k->pid && by[i + 1]->ppid == k->ppid &&
		    by[i + 1]->start_ns >= k->last_ns) {
			k->exec = true;
			if (k->slot != MODEL_FOLDED) {
				m->procs[k->slot].exec_next = 1;
				m->procs[k->slot].exec_exe = by[i + 1]->exe;
			}
		}
	}
	free(by);
}

static int by_seq(const void *a, const void *b)
{
	const struct proc *p = a, *q = b;

	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

void model_finish(struct model *m)
{
	overlap(&m->gpu);
	find_execs(m);
	for (size_t i = 0; i < m->nkeys; i++) {
		const struct proc_key *k = &m->keys[i];
		if (k->slot != MODEL_FOLDED)
			continue;
		if (k->exec)
			m->fold.execs++;
		else if (!k->ended)
			m->fold.none++;
		else if (k->how == HMO_END_SIGNAL)
			m->fold.signals++;
		else
			m->fold.exits++;
	}
	if (!m->fold.count)
		return;
	/* the kept processes in trace order, without the slots folded ones left */
	size_t n = 0;
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i].source)
			m->procs[n++] = m->procs[i];
	m->nprocs = n;
	m->nfree = m->nheap = 0;
	qsort(m->procs, n, sizeof *m->procs, by_seq);
	for (uint32_t i = 0; i < n; i++) {
		struct proc *p = &m->procs[i];
		m->keys[p->seq].slot = i;
		for (size_t j = 0; j < p->capsites; j++)
			if (p->sites[j])
				p->sites[j]->proc = i;
	}
}

void model_free(struct model *m)
{
	for (size_t i = 0; i < m->nprocs; i++)
		free_proc(&m->procs[i]);
	free(m->procs);
	free_proc(&m->fold.proc);
	free(m->fold.modset);
	free(m->heap);
	free(m->free_slots);
	free(m->keys);
	for (size_t i = 0; i < m->cappaths; i++)
		free(m->paths[i]);
	free(m->paths);
	free(m->live);
	for (int d = 0; d < GPU_DIRS; d++)
		for (int k = 0; k < GPU_MEMS; k++)
			for (int c = 0; c < 65; c++)
				free(m->gpu.copies[d][k][c]);
	free(m->gpu.join);
	free(m->gpu.copy_spans);
	free(m->gpu.kernel_spans);
	memset(m, 0, sizeof *m);
}
