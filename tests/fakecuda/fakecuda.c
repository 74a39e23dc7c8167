/* fakecuda.c: a fake libcuda.so.1 for the tests, never installed.
 *
 * A fake is only worth what it refuses. This one is strict where the driver is, so
 * that a test run once without hmo and once with it shows every difference hmo makes:
 *
 * - Contexts: primary contexts per device, retained and released by count, reset;
 *   contexts made by cuCtxCreate, destroyed by cuCtxDestroy; a per-thread stack of
 *   current contexts (push, pop, set). A context's handle may be handed out again
 *   after it is destroyed, as the driver's may; cuCtxGetId tells them apart.
 * - Streams and events belong to the context current when they were made. Recording
 *   an event on a stream of another context, or using a stream or event of a context
 *   that has gone, gives CUDA_ERROR_INVALID_HANDLE. Creating one, or allocating, with
 *   no context current gives CUDA_ERROR_INVALID_CONTEXT.
 * - Memory belongs to its context and goes with it: device and pinned memory are
 *   their own mappings, unmapped when freed or when their context goes, so a pointer
 *   used after that faults. Device memory is inaccessible (PROT_NONE) but while the
 *   fake itself moves bytes in or out of it: host code that reads or writes it, as
 *   if it were host memory, faults, as it would on a GPU. A second free, or a free of an interior pointer, gives
 *   CUDA_ERROR_INVALID_VALUE.
 * - Work: a stream queues its work and runs it later, at a synchronisation (stream,
 *   event, context, a synchronous call), or when an event is queried a second time.
 *   An asynchronous copy from pageable memory takes its source at once (the driver
 *   stages it) and its DMA runs later, in stream order; one to pageable memory
 *   returns with the bytes in place; from or to pinned memory it reads and writes the
 *   host side when it runs.
 *   A host function (cuLaunchHostFunc) runs without the fake's lock, so it may block
 *   on another thread's driver calls, as on a GPU.
 * - Capture: cuStreamBeginCapture (any mode, the per-thread default stream too)
 *   records the stream's work into a graph instead of running it; a synchronisation
 *   of a capturing stream gives CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED and invalidates
 *   the capture; the legacy stream while a blocking stream captures gives
 *   CUDA_ERROR_STREAM_CAPTURE_IMPLICIT; an event recorded in a capture cannot be
 *   waited for (CUDA_ERROR_CAPTURED_EVENT). cuGraphLaunch queues the recorded work.
 * - Host registration: overlapping registrations give 712, an unregister of what was
 *   not registered 713.
 * - IPC: an export through any pointer inside an allocation exports the allocation.
 * - Calls that are unsafe during a capture (allocations, frees, host registration,
 *   synchronous copies)
 *   give CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED and invalidate it: from any thread
 *   while a capture in global mode is under way, from its own thread in thread-local
 *   mode; relaxed mode allows them.
 * - A forked child cannot use the driver: every call there gives
 *   CUDA_ERROR_NOT_INITIALIZED.
 * - A sticky error (fakecuda_sticky, as after an illegal address in a kernel) makes
 *   every later call on the context return it.
 *
 * Every call is counted by name (fakecuda_count). cuGetProcAddress hands out distinct
 * per-thread-stream variants where the real driver has them.
 *
 * FAKECUDA_STUB=1 makes cuInit fail as the toolkit's stub library does (34);
 * FAKECUDA_NODEV=1 as a machine without a GPU (100); FAKECUDA_MEM=BYTES sets each
 * device's memory (default 1 GiB); FAKECUDA_DEVICES=N (1 or 2) the device count;
 * FAKECUDA_GPA_DLSYM=1 makes cuGetProcAddress resolve names with
 * dlsym(RTLD_DEFAULT), as some drivers and GPU-sharing interposers do. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "preload/cuda/defs.h"

#define API __attribute__((visibility("default")))

enum {
	E_INVALID_CONTEXT = 201, E_INVALID_HANDLE = 400, E_NOT_READY = 600, E_ALREADY_REGISTERED = 712,
	E_NOT_REGISTERED = 713, E_CAPTURE_UNSUPPORTED = 900, E_CAPTURE_INVALIDATED = 901,
	E_CAPTURE_IMPLICIT = 906, E_CAPTURED_EVENT = 907,
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;	/* a host function finished */

/* ---- call counts -------------------------------------------------------------- */

struct count { char name[48]; unsigned long n; };
static struct count counts[256];
static pthread_mutex_t count_mu = PTHREAD_MUTEX_INITIALIZER;

static void count(const char *name)
{
	pthread_mutex_lock(&count_mu);
	for (int i = 0; i < 256; i++) {
		if (!counts[i].name[0])
			snprintf(counts[i].name, sizeof counts[i].name, "%s", name);
		if (!strcmp(counts[i].name, name)) {
			counts[i].n++;
			break;
		}
	}
	pthread_mutex_unlock(&count_mu);
}

API unsigned long fakecuda_count(const char *name)
{
	unsigned long n = 0;

	pthread_mutex_lock(&count_mu);
	for (int i = 0; i < 256 && counts[i].name[0]; i++)
		if (!strcmp(counts[i].name, name))
			n = counts[i].n;
	pthread_mutex_unlock(&count_mu);
	return n;
}

/* ---- contexts ------------------------------------------------------------------- */

#define MAXDEV 2
#define MAXCTX 64

struct CUstream_st;
struct CUctx_st {
	int dev;
	bool primary, alive;
	CUresult sticky;		/* fakecuda_sticky: every call on it fails so */
	int refs;			/* primary: retains not yet released */
	unsigned long long id;		/* new at every creation, reset included */
	struct CUstream_st *legacy;	/* each thread's per-thread stream: per_thread() */
};
static struct CUctx_st ctxs[MAXCTX];	/* 0..MAXDEV-1: the primary contexts */
static unsigned long long next_id = 1;
static int ndev = 1;
static size_t dev_total = (size_t)1 << 30, dev_used[MAXDEV];
static int init_state;	/* 0 not yet, 1 ok, else the error */
static pid_t init_pid;	/* the process that initialised the driver */

static __thread struct CUctx_st *stack[16];
static __thread int depth;

static struct CUctx_st *current(void)
{
	struct CUctx_st *c = depth ? stack[depth - 1] : NULL;
	return c && c->alive ? c : NULL;
}

/* ---- allocations ------------------------------------------------------------- */

enum kind { DEVICE, PINNED, REGISTERED };
struct alloc { uintptr_t p; size_t n, mapped; enum kind k; unsigned flags; struct CUctx_st *ctx; bool exported; };
static struct alloc *allocs;
static size_t nallocs, capallocs;

API size_t fakecuda_device_bytes(void)
{
	return dev_used[0];
}

static struct alloc *find(uintptr_t p, bool inside)
{
	for (size_t i = 0; i < nallocs; i++)
		if (allocs[i].p == p || (inside && p > allocs[i].p && p < allocs[i].p + allocs[i].n))
			return &allocs[i];
	return NULL;
}

static void add(uintptr_t p, size_t n, size_t mapped, enum kind k, unsigned flags)
{
	if (nallocs == capallocs) {
		capallocs = capallocs ? capallocs * 2 : 64;
		allocs = realloc(allocs, capallocs * sizeof *allocs);
	}
	allocs[nallocs++] = (struct alloc){ p, n, mapped, k, flags, current(), false };
}

/* Gives an allocation back: its mapping goes (a pointer into it faults from now on). */
static void drop(struct alloc *a)
{
	if (a->k == DEVICE)
		dev_used[a->ctx ? a->ctx->dev : 0] -= a->n;
	if (a->k != REGISTERED)
		munmap((void *)a->p, a->mapped);
	*a = allocs[--nallocs];
}

static void *map(size_t n, size_t *mapped)
{
	*mapped = (n + 4095) & ~(size_t)4095;
	void *m = mmap(NULL, *mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

static bool pinned(const void *p)
{
	struct alloc *a = find((uintptr_t)p, true);
	return a && a->k != DEVICE;
}

/* Device memory is PROT_NONE but while the fake itself moves bytes in or out of it
 * (with mu held): the pages of [p, p + n), when p is in a device allocation, are
 * opened for that (only those pages: a copy of one row of a 2D copy opens one or two
 * pages, not the whole allocation, which made the 2D copies slow). */
static void dev_access(const void *p, size_t n, int prot)
{
	struct alloc *x = p && n ? find((uintptr_t)p, true) : NULL;
	if (x && x->k == DEVICE) {
		uintptr_t lo = (uintptr_t)p & ~(uintptr_t)4095;
		uintptr_t hi = ((uintptr_t)p + n + 4095) & ~(uintptr_t)4095;
		mprotect((void *)lo, hi - lo, prot);
	}
}

static void dmove(void *dst, const void *src, size_t n)
{
	dev_access(dst, n, PROT_READ | PROT_WRITE);
	dev_access(src, n, PROT_READ | PROT_WRITE);
	memmove(dst, src, n);
	dev_access(dst, n, PROT_NONE);
	dev_access(src, n, PROT_NONE);
}

static void dset(void *dst, int c, size_t n)
{
	dev_access(dst, n, PROT_READ | PROT_WRITE);
	memset(dst, c, n);
	dev_access(dst, n, PROT_NONE);
}

/* ---- streams --------------------------------------------------------------------- */

enum op_kind { OP_COPY, OP_SET, OP_HOST, OP_NOP };
/* An op of the legacy stream waits for the work queued before it on every blocking
 * stream of its context (deps: each stream's length then, by index in streams[]);
 * an op of another blocking stream for the legacy stream's (legacy_at + 1). */
struct op {
	enum op_kind k;
	void *dst;
	const void *src;
	size_t n;
	int c;
	void (*fn)(void *);
	void *arg;
	size_t *deps;
	int ndeps;
	size_t legacy_at;
	void *owned;	/* freed once the op has run: a copy of a pageable source */
};
struct ops { struct op *v; size_t n, cap; };
struct CUstream_st {
	struct CUctx_st *ctx;
	unsigned long long ctx_id;	/* of its context when it was made */
	struct ops q;
	size_t done;
	bool nonblocking, busy, dead, asked;
	int capture;			/* CU_STREAM_CAPTURE_STATUS_* */
	int mode;
	pthread_t cap_thread;		/* the thread that began the capture */
	struct ops graph;		/* what the capture recorded */
};
/* An event recorded on the legacy stream also waits for the work queued before it on
 * every blocking stream of its context, as the legacy default stream does. */
struct CUevent_st {
	struct CUctx_st *ctx;
	unsigned long long ctx_id;
	struct CUstream_st *s;
	size_t at;
	bool recorded, asked, captured, dead;
	size_t *others;
	int nothers;
};
struct graph { struct ops ops; };
#define MAXSTREAMS 4096
static struct CUstream_st *streams[MAXSTREAMS];
static int nstreams;
static __thread bool no_host;	/* a query: run what can run, but no host function */

static struct CUstream_st *new_stream(struct CUctx_st *c, bool nonblocking);

/* The calling thread's per-thread default stream of context c. */
static __thread struct { struct CUctx_st *c; unsigned long long id; struct CUstream_st *s; } pts[16];

static struct CUstream_st *per_thread(struct CUctx_st *c)
{
	int free_slot = -1;
	for (int i = 0; i < 16; i++) {
		if (pts[i].c == c && pts[i].id == c->id && !pts[i].s->dead)
			return pts[i].s;
		if (free_slot < 0 && (!pts[i].c || !pts[i].c->alive || pts[i].id != pts[i].c->id))
			free_slot = i;
	}
	struct CUstream_st *n = new_stream(c, false);
	if (free_slot >= 0)
		pts[free_slot].c = c, pts[free_slot].id = c->id, pts[free_slot].s = n;
	return n;
}

static bool ctx_ok(const struct CUctx_st *c, unsigned long long id)
{
	return c && c->alive && c->id == id;
}

/* The stream a handle names for the current context (pt: the per-thread variant of
 * the call), or NULL with *rc set. */
static struct CUstream_st *S(CUstream s, bool pt, CUresult *rc)
{
	struct CUctx_st *c = current();

	if (!s || s == (CUstream)1 || s == (CUstream)2) {
		if (!c) {
			*rc = E_INVALID_CONTEXT;
			return NULL;
		}
		return s == (CUstream)2 || (!s && pt) ? per_thread(c) : c->legacy;
	}
	if (s->dead || !ctx_ok(s->ctx, s->ctx_id)) {
		*rc = E_INVALID_HANDLE;
		return NULL;
	}
	return s;
}

static void push_op(struct ops *q, struct op o)
{
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 64;
		q->v = realloc(q->v, q->cap * sizeof *q->v);
	}
	q->v[q->n++] = o;
}

static void exec(const struct op *o)
{
	if (o->k == OP_COPY)
		dmove(o->dst, o->src, o->n);
	else if (o->k == OP_SET)
		dset(o->dst, o->c, o->n);
}

static void run(struct CUstream_st *s, size_t upto);

/* Runs what op o of s waits for on other streams; false when a query (no_host) left
 * some of it undone. */
static bool run_deps(struct CUstream_st *s, const struct op *o)
{
	bool ok = true;
	for (int i = 0; i < o->ndeps; i++) {
		if (o->deps[i]) {
			run(streams[i], o->deps[i]);
			ok &= streams[i]->done >= o->deps[i];
		}
	}
	if (o->legacy_at) {
		run(s->ctx->legacy, o->legacy_at - 1);
		ok &= s->ctx->legacy->done >= o->legacy_at - 1;
	}
	return ok;
}

/* Runs s's work up to position upto, each op after what it waits for. A host
 * function runs without the lock (and not at all for a query: a GPU never runs one
 * in the caller's thread); another thread that needs the same stream meanwhile waits
 * for it. Called with mu held. */
static void run(struct CUstream_st *s, size_t upto)
{
	while (s->done < upto && s->done < s->q.n) {
		if (s->busy) {
			if (no_host)
				return;
			pthread_cond_wait(&cv, &mu);
			continue;
		}
		struct op o = s->q.v[s->done];
		if (o.k == OP_HOST && no_host)
			return;
		s->busy = true;	/* its dependencies may run host functions, unlocked */
		bool ready = run_deps(s, &o);
		if (!ready) {
			s->busy = false;
			pthread_cond_broadcast(&cv);
			return;
		}
		if (o.k == OP_HOST) {
			pthread_mutex_unlock(&mu);
			o.fn(o.arg);
			pthread_mutex_lock(&mu);
		} else {
			exec(&o);
		}
		free(o.deps);
		free(o.owned);
		s->done++;
		s->busy = false;
		pthread_cond_broadcast(&cv);
	}
}

/* Runs what a new op on s would wait for, and s's own earlier work: a copy that takes
 * its host side at once comes after them. */
static void drain_for(struct CUstream_st *s)
{
	if (s == s->ctx->legacy) {
		for (int i = 0; i < nstreams; i++)
			if (streams[i]->ctx == s->ctx && !streams[i]->nonblocking && !streams[i]->dead &&
			    !streams[i]->capture)
				run(streams[i], SIZE_MAX);
	} else if (!s->nonblocking) {
		run(s->ctx->legacy, SIZE_MAX);
	}
	run(s, SIZE_MAX);
}

static void run_ctx(struct CUctx_st *c)
{
	for (int i = 0; i < nstreams; i++)
		if (streams[i]->ctx == c && !streams[i]->dead)
			run(streams[i], SIZE_MAX);
}

static struct CUstream_st *new_stream(struct CUctx_st *c, bool nonblocking)
{
	struct CUstream_st *n = calloc(1, sizeof *n);
	n->ctx = c;
	n->ctx_id = c->id;
	n->nonblocking = nonblocking;
	if (nstreams < MAXSTREAMS)
		streams[nstreams++] = n;
	return n;
}

/* Whether the legacy stream of c may be used now: not while a blocking stream of c
 * captures (that would be an implicit dependency); such a capture is invalidated. */
static CUresult legacy_ok(struct CUctx_st *c)
{
	CUresult rc = 0;
	for (int i = 0; i < nstreams; i++) {
		struct CUstream_st *s = streams[i];
		if (s->ctx == c && !s->dead && s->capture == 1 && !s->nonblocking && s != c->legacy) {
			s->capture = 2;
			rc = E_CAPTURE_IMPLICIT;
		}
	}
	return rc;
}

/* A synchronisation of s: refused (and the capture invalidated) while s captures. */
static CUresult sync_stream(struct CUstream_st *s)
{
	if (s->capture) {
		s->capture = 2;
		return E_CAPTURE_UNSUPPORTED;
	}
	if (s == s->ctx->legacy) {
		CUresult rc = legacy_ok(s->ctx);
		if (rc)
			return rc;
	}
	drain_for(s);
	return 0;
}

/* Queues o on s, or records it into s's capture. Work on the legacy stream waits for
 * the work queued before it on every blocking stream of its context, and work on a
 * blocking stream for the legacy stream's: recorded with the op, and run before it,
 * never earlier. */
static void enqueue(struct CUstream_st *s, struct op o)
{
	o.deps = NULL;
	o.ndeps = 0;
	o.legacy_at = 0;
	if (s->capture == 1) {
		push_op(&s->graph, o);
		return;
	}
	if (s == s->ctx->legacy) {
		o.deps = calloc((size_t)nstreams, sizeof *o.deps);
		o.ndeps = nstreams;
		for (int i = 0; i < nstreams; i++)
			if (streams[i]->ctx == s->ctx && streams[i] != s && !streams[i]->nonblocking &&
			    !streams[i]->dead && !streams[i]->capture)
				o.deps[i] = streams[i]->q.n;
	} else if (!s->nonblocking) {
		o.legacy_at = s->ctx->legacy->q.n + 1;
	}
	s->asked = false;
	push_op(&s->q, o);
}

API size_t fakecuda_pending(void)
{
	pthread_mutex_lock(&mu);
	size_t n = 0;
	for (int i = 0; i < nstreams; i++)
		if (!streams[i]->dead)
			n += streams[i]->q.n - streams[i]->done;
	pthread_mutex_unlock(&mu);
	return n;
}

/* ---- the driver API ------------------------------------------------------------- */

#define ENTER(name) count(name); pthread_mutex_lock(&mu); if (init_pid && getpid() != init_pid) LEAVE(CUDA_ERROR_NOT_INITIALIZED)
#define LEAVE(rc) do { CUresult r_ = (rc); pthread_mutex_unlock(&mu); return r_; } while (0)
#define NEED_INIT() if (init_state != 1) LEAVE(init_state ? init_state : CUDA_ERROR_NOT_INITIALIZED)
#define NEED_CTX() NEED_INIT(); if (!current()) LEAVE(E_INVALID_CONTEXT); if (current()->sticky) LEAVE(current()->sticky)
/* The start of a call on a stream: counted, locked, checked (NEED_INIT or NEED_CTX), and
 * `s` the stream that hs names (pt: the per-thread variant of the call), or the
 * driver's error for it. */
#define STREAM_CALL(name, need, hs, pt) \
	CUresult rc = 0; \
	ENTER(name); \
	need(); \
	struct CUstream_st *s = S(hs, pt, &rc); \
	if (!s) \
		LEAVE(rc)

API CUresult cuInit(unsigned flags)
{
	(void)flags;
	ENTER("cuInit");
	if (!init_state) {
		const char *m = getenv("FAKECUDA_MEM"), *d = getenv("FAKECUDA_DEVICES");
		init_state = getenv("FAKECUDA_STUB") ? CUDA_ERROR_STUB_LIBRARY
			   : getenv("FAKECUDA_NODEV") ? CUDA_ERROR_NO_DEVICE : 1;
		if (m)
			dev_total = strtoull(m, NULL, 10);
		if (d && atoi(d) == 2)
			ndev = 2;
		for (int i = 0; i < MAXDEV; i++)
			ctxs[i] = (struct CUctx_st){ .dev = i, .primary = true };
		init_pid = getpid();
	}
	LEAVE(init_state == 1 ? CUDA_SUCCESS : init_state);
}

API CUresult cuDriverGetVersion(int *v) { count("cuDriverGetVersion"); *v = 13000; return CUDA_SUCCESS; }
API CUresult cuDeviceGetCount(int *n) { ENTER("cuDeviceGetCount"); NEED_INIT(); *n = ndev; LEAVE(0); }
API CUresult cuDeviceGet(CUdevice *d, int i)
{
	ENTER("cuDeviceGet");
	NEED_INIT();
	*d = i;
	LEAVE(i >= 0 && i < ndev ? 0 : CUDA_ERROR_INVALID_VALUE);
}

static void ctx_start(struct CUctx_st *c)
{
	c->alive = true;
	c->id = next_id++;
	c->legacy = new_stream(c, false);
}

/* A context goes: its work is run, its memory unmapped, its streams and events
 * invalid from now on; it leaves every thread's... well, this thread's stack. */
static void ctx_end(struct CUctx_st *c)
{
	run_ctx(c);
	for (size_t i = nallocs; i-- > 0;)
		if (allocs[i].ctx == c)
			drop(&allocs[i]);
	for (int i = 0; i < nstreams; i++)
		if (streams[i]->ctx == c)
			streams[i]->dead = true;
	c->alive = false;
}

API CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d)
{
	ENTER("cuDevicePrimaryCtxRetain");
	NEED_INIT();
	if (d < 0 || d >= ndev)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	if (!ctxs[d].alive)
		ctx_start(&ctxs[d]);
	ctxs[d].refs++;
	*c = &ctxs[d];
	LEAVE(0);
}

static CUresult primary_release(const char *name, CUdevice d)
{
	ENTER(name);
	NEED_INIT();
	if (d < 0 || d >= ndev)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	if (ctxs[d].refs == 0)
		LEAVE(E_INVALID_CONTEXT);
	if (--ctxs[d].refs == 0 && ctxs[d].alive)
		ctx_end(&ctxs[d]);
	LEAVE(0);
}

API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) { return primary_release("cuDevicePrimaryCtxRelease_v2", d); }
API CUresult cuDevicePrimaryCtxRelease(CUdevice d) { return primary_release("cuDevicePrimaryCtxRelease", d); }

/* A reset frees everything the primary context holds; the retains stay, and it
 * starts again, as a new context (a new id), if any are held. */
static CUresult primary_reset(const char *name, CUdevice d)
{
	ENTER(name);
	NEED_INIT();
	if (d < 0 || d >= ndev)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	if (ctxs[d].alive)
		ctx_end(&ctxs[d]);
	if (ctxs[d].refs)
		ctx_start(&ctxs[d]);
	LEAVE(0);
}

API CUresult cuDevicePrimaryCtxReset_v2(CUdevice d) { return primary_reset("cuDevicePrimaryCtxReset_v2", d); }
API CUresult cuDevicePrimaryCtxReset(CUdevice d) { return primary_reset("cuDevicePrimaryCtxReset", d); }

API CUresult cuDevicePrimaryCtxGetState(CUdevice d, unsigned *flags, int *active)
{
	ENTER("cuDevicePrimaryCtxGetState");
	NEED_INIT();
	if (d < 0 || d >= ndev)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	*flags = 0;
	*active = ctxs[d].alive;
	LEAVE(0);
}

API CUresult cuCtxCreate_v2(CUcontext *out, unsigned flags, CUdevice d)
{
	(void)flags;
	ENTER("cuCtxCreate_v2");
	NEED_INIT();
	if (d < 0 || d >= ndev || depth == 16)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	/* the first free slot: a destroyed context's handle comes back, as it may */
	for (int i = MAXDEV; i < MAXCTX; i++) {
		if (ctxs[i].alive)
			continue;
		ctxs[i] = (struct CUctx_st){ .dev = d };
		ctx_start(&ctxs[i]);
		stack[depth++] = &ctxs[i];
		*out = &ctxs[i];
		LEAVE(0);
	}
	LEAVE(CUDA_ERROR_OUT_OF_MEMORY);
}

static CUresult ctx_destroy(const char *name, CUcontext c)
{
	ENTER(name);
	NEED_INIT();
	if (!c || c < &ctxs[MAXDEV] || c >= &ctxs[MAXCTX] || !c->alive)
		LEAVE(E_INVALID_CONTEXT);
	ctx_end(c);
	if (depth && stack[depth - 1] == c)
		depth--;
	LEAVE(0);
}

API CUresult cuCtxDestroy_v2(CUcontext c) { return ctx_destroy("cuCtxDestroy_v2", c); }
API CUresult cuCtxDestroy(CUcontext c) { return ctx_destroy("cuCtxDestroy", c); }

API CUresult cuCtxPushCurrent_v2(CUcontext c)
{
	ENTER("cuCtxPushCurrent_v2");
	if (!c || !c->alive || depth == 16)
		LEAVE(E_INVALID_CONTEXT);
	stack[depth++] = c;
	LEAVE(0);
}

API CUresult cuCtxPopCurrent_v2(CUcontext *c)
{
	ENTER("cuCtxPopCurrent_v2");
	if (!depth)
		LEAVE(E_INVALID_CONTEXT);
	depth--;
	if (c)
		*c = stack[depth];
	LEAVE(0);
}

API CUresult cuCtxSetCurrent(CUcontext c)
{
	ENTER("cuCtxSetCurrent");
	if (c && !c->alive)
		LEAVE(E_INVALID_CONTEXT);
	if (!c)
		depth = depth ? depth - 1 : 0;
	else if (depth)
		stack[depth - 1] = c;
	else
		stack[depth++] = c;
	LEAVE(0);
}

API CUresult cuCtxGetCurrent(CUcontext *c)
{
	ENTER("cuCtxGetCurrent");
	*c = current();
	LEAVE(0);
}

API CUresult cuCtxGetDevice(CUdevice *d)
{
	ENTER("cuCtxGetDevice");
	NEED_CTX();
	*d = current()->dev;
	LEAVE(0);
}

API CUresult cuCtxGetId(CUcontext c, unsigned long long *id)
{
	ENTER("cuCtxGetId");
	NEED_INIT();
	if (!c)
		c = current();
	if (!c)
		LEAVE(E_INVALID_CONTEXT);
	if (!c->alive)
		LEAVE(709);	/* CUDA_ERROR_CONTEXT_IS_DESTROYED */
	if (c->sticky)
		LEAVE(c->sticky);
	*id = c->id;
	LEAVE(0);
}

API CUresult cuCtxSynchronize(void)
{
	ENTER("cuCtxSynchronize");
	NEED_CTX();
	for (int i = 0; i < nstreams; i++) {
		struct CUstream_st *s = streams[i];
		if (s->ctx == current() && !s->dead && s->capture) {
			s->capture = 2;
			LEAVE(E_CAPTURE_UNSUPPORTED);
		}
	}
	run_ctx(current());
	LEAVE(0);
}

/* Whether p is the start of a device allocation that exists now. */
API int fakecuda_is_live(CUdeviceptr p)
{
	pthread_mutex_lock(&mu);
	struct alloc *a = find((uintptr_t)p, false);
	int live = a && a->k == DEVICE;
	pthread_mutex_unlock(&mu);
	return live;
}

/* Called with mu held and a context current. */
static CUresult dev_alloc(CUdeviceptr *p, size_t n)
{
	int d = current()->dev;
	size_t mapped;

	if (!p || !n)
		return CUDA_ERROR_INVALID_VALUE;
	if (n > dev_total - dev_used[d])
		return CUDA_ERROR_OUT_OF_MEMORY;
	void *m = map(n, &mapped);
	if (!m)
		return CUDA_ERROR_OUT_OF_MEMORY;
	memset(m, 0xcd, n);
	mprotect(m, mapped, PROT_NONE);	/* the host never sees device memory */
	add((uintptr_t)m, n, mapped, DEVICE, 0);
	dev_used[d] += n;
	*p = (CUdeviceptr)(uintptr_t)m;
	return 0;
}

/* A call that is unsafe during a capture: refused, and the capture invalidated, when
 * one forbids it (see the top). */
static CUresult unsafe(void)
{
	CUresult rc = 0;
	for (int i = 0; i < nstreams; i++) {
		struct CUstream_st *s = streams[i];
		if (!s->dead && s->capture == 1 &&
		    (s->mode == 0 || (s->mode == 1 && pthread_equal(s->cap_thread, pthread_self())))) {
			s->capture = 2;
			rc = E_CAPTURE_UNSUPPORTED;
		}
	}
	return rc;
}
#define SAFE() do { CUresult u_ = unsafe(); if (u_) LEAVE(u_); } while (0)

/* Every later call on the current context fails with code. */
API void fakecuda_sticky(int code)
{
	pthread_mutex_lock(&mu);
	if (current())
		current()->sticky = code;
	pthread_mutex_unlock(&mu);
}

API CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n)
{
	ENTER("cuMemAlloc_v2");
	NEED_CTX();
	SAFE();
	LEAVE(dev_alloc(p, n));
}

API CUresult cuMemAllocPitch_v2(CUdeviceptr *p, size_t *pitch, size_t w, size_t h, unsigned elem)
{
	ENTER("cuMemAllocPitch_v2");
	NEED_CTX();
	SAFE();
	if (!pitch || !w || !h || (elem != 4 && elem != 8 && elem != 16) || w > SIZE_MAX / 2)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	size_t pi = (w + 511) & ~(size_t)511;
	if (h > SIZE_MAX / pi)
		LEAVE(CUDA_ERROR_OUT_OF_MEMORY);
	CUresult rc = dev_alloc(p, pi * h);
	if (rc == 0)
		*pitch = pi;
	LEAVE(rc);
}

static CUresult dev_free(CUdeviceptr p)
{
	struct alloc *a = find((uintptr_t)p, false);
	if (!a || a->k != DEVICE)
		return CUDA_ERROR_INVALID_VALUE;
	if (a->ctx)
		run_ctx(a->ctx);	/* cuMemFree waits for the context's work */
	a = find((uintptr_t)p, false);	/* host functions may have run */
	if (!a || a->k != DEVICE)
		return CUDA_ERROR_INVALID_VALUE;
	drop(a);
	return 0;
}

API CUresult cuMemFree_v2(CUdeviceptr p)
{
	ENTER("cuMemFree_v2");
	NEED_INIT();
	SAFE();
	LEAVE(dev_free(p));
}

static CUresult host_alloc(void **p, size_t n, unsigned flags)
{
	size_t mapped;

	NEED_CTX();
	SAFE();
	if (!p || !n)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	void *m = map(n, &mapped);
	if (!m)
		LEAVE(CUDA_ERROR_OUT_OF_MEMORY);
	add((uintptr_t)m, n, mapped, PINNED, flags);
	*p = m;
	LEAVE(0);
}

API CUresult cuMemAllocHost_v2(void **p, size_t n) { ENTER("cuMemAllocHost_v2"); return host_alloc(p, n, 0); }
API CUresult cuMemHostAlloc(void **p, size_t n, unsigned flags) { ENTER("cuMemHostAlloc"); return host_alloc(p, n, flags); }

API unsigned fakecuda_host_flags(void *p)
{
	pthread_mutex_lock(&mu);
	struct alloc *a = find((uintptr_t)p, false);
	unsigned f = a ? a->flags : ~0u;
	pthread_mutex_unlock(&mu);
	return f;
}

API CUresult cuMemFreeHost(void *p)
{
	ENTER("cuMemFreeHost");
	NEED_INIT();
	SAFE();
	struct alloc *a = find((uintptr_t)p, false);
	if (!a || a->k != PINNED)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	if (a->ctx)
		run_ctx(a->ctx);
	a = find((uintptr_t)p, false);
	if (!a || a->k != PINNED)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	drop(a);
	LEAVE(0);
}

API CUresult cuMemHostRegister_v2(void *p, size_t n, unsigned flags)
{
	ENTER("cuMemHostRegister_v2");
	NEED_CTX();
	SAFE();
	if (!p || !n)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	for (size_t i = 0; i < nallocs; i++)
		if (allocs[i].k != DEVICE && (uintptr_t)p < allocs[i].p + allocs[i].n && (uintptr_t)p + n > allocs[i].p)
			LEAVE(E_ALREADY_REGISTERED);
	add((uintptr_t)p, n, 0, REGISTERED, flags);
	LEAVE(0);
}

API CUresult cuMemHostUnregister(void *p)
{
	ENTER("cuMemHostUnregister");
	NEED_INIT();
	struct alloc *a = find((uintptr_t)p, false);
	if (!a || a->k != REGISTERED)
		LEAVE(E_NOT_REGISTERED);
	if (a->ctx)
		run_ctx(a->ctx);
	a = find((uintptr_t)p, false);
	if (a && a->k == REGISTERED)
		drop(a);
	LEAVE(0);
}

/* Whether [p, p+n) is device memory that exists. */
static bool dev_range(const void *p, size_t n)
{
	struct alloc *a = find((uintptr_t)p, true);
	return a && a->k == DEVICE && n <= a->n - ((uintptr_t)p - a->p);
}

/* A copy. Synchronous ones run after the work of the legacy stream and its blocking
 * streams; asynchronous ones from or to pageable memory run at once after the
 * stream's earlier work (the driver stages them); between device and pinned memory
 * they are queued (or recorded, in a capture). */
static CUresult copy(const char *name, void *dst, const void *src, size_t n, CUstream hs, bool async, bool pt,
		     const void *host, const void *dev)
{
	CUresult rc = 0;

	ENTER(name);
	NEED_CTX();
	struct CUstream_st *s = S(async ? hs : NULL, pt, &rc);
	if (!s)
		LEAVE(rc);
	if (n && (!dev_range(dev, n) || !host))
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	if (s == s->ctx->legacy && (rc = legacy_ok(s->ctx)) != 0)
		LEAVE(rc);
	if (!async)
		SAFE();	/* a synchronous copy is unsafe during a capture */
	if (s->capture) {
		if (!async)
			LEAVE((s->capture = 2, E_CAPTURE_UNSUPPORTED));
		enqueue(s, (struct op){ .k = OP_COPY, .dst = dst, .src = src, .n = n });
		LEAVE(0);
	}
	if (async && !pinned(host) && src == host) {
		/* pageable source: taken now, its DMA queued */
		void *copy = n ? malloc(n) : NULL;
		if (n && !copy)
			LEAVE(CUDA_ERROR_OUT_OF_MEMORY);
		if (n)
			memcpy(copy, src, n);
		enqueue(s, (struct op){ .k = OP_COPY, .dst = dst, .src = copy, .n = n, .owned = copy });
	} else if (!async || !pinned(host)) {
		drain_for(s);	/* the host side is taken now, after the work it follows */
		dmove(dst, src, n);
	} else {
		enqueue(s, (struct op){ .k = OP_COPY, .dst = dst, .src = src, .n = n });
	}
	LEAVE(0);
}

#define D(p) ((void *)(uintptr_t)(p))
#define H2D(name, async, pt) copy(name, D(d), h, n, s, async, pt, h, D(d))
#define D2H(name, async, pt) copy(name, h, D(d), n, s, async, pt, h, D(d))
API CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *h, size_t n) { CUstream s = NULL; return H2D("cuMemcpyHtoD_v2", false, false); }
API CUresult cuMemcpyDtoH_v2(void *h, CUdeviceptr d, size_t n) { CUstream s = NULL; return D2H("cuMemcpyDtoH_v2", false, false); }
API CUresult cuMemcpyHtoD_v2_ptds(CUdeviceptr d, const void *h, size_t n) { CUstream s = NULL; return H2D("cuMemcpyHtoD_v2_ptds", false, true); }
API CUresult cuMemcpyDtoH_v2_ptds(void *h, CUdeviceptr d, size_t n) { CUstream s = NULL; return D2H("cuMemcpyDtoH_v2_ptds", false, true); }
API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *h, size_t n, CUstream s) { return H2D("cuMemcpyHtoDAsync_v2", true, false); }
API CUresult cuMemcpyDtoHAsync_v2(void *h, CUdeviceptr d, size_t n, CUstream s) { return D2H("cuMemcpyDtoHAsync_v2", true, false); }
API CUresult cuMemcpyHtoDAsync_v2_ptsz(CUdeviceptr d, const void *h, size_t n, CUstream s) { return H2D("cuMemcpyHtoDAsync_v2_ptsz", true, true); }
API CUresult cuMemcpyDtoHAsync_v2_ptsz(void *h, CUdeviceptr d, size_t n, CUstream s) { return D2H("cuMemcpyDtoHAsync_v2_ptsz", true, true); }

/* A synchronous copy between pointers the driver knows (device, or with unified
 * addressing any), on the legacy stream: after the work it follows. check: both sides
 * must be device memory. */
static CUresult sync_copy(const char *name, CUdeviceptr dst, CUdeviceptr src, size_t n, bool check)
{
	CUresult rc = 0;
	ENTER(name);
	NEED_CTX();
	if (check && n && (!dev_range(D(dst), n) || !dev_range(D(src), n)))
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	struct CUstream_st *s = S(NULL, false, &rc);
	if ((rc = legacy_ok(s->ctx)) != 0)
		LEAVE(rc);
	SAFE();
	drain_for(s);
	dmove(D(dst), D(src), n);
	LEAVE(0);
}

API CUresult cuMemcpyDtoD_v2(CUdeviceptr a, CUdeviceptr b, size_t n) { return sync_copy("cuMemcpyDtoD_v2", a, b, n, true); }

static const void *p2_src(const CUDA_MEMCPY2D *c)
{
	return (const char *)(c->srcMemoryType == CU_MEMORYTYPE_HOST ? c->srcHost : D(c->srcDevice)) +
	       c->srcY * c->srcPitch + c->srcXInBytes;
}

static void *p2_dst(const CUDA_MEMCPY2D *c)
{
	return (char *)(c->dstMemoryType == CU_MEMORYTYPE_HOST ? c->dstHost : D(c->dstDevice)) +
	       c->dstY * c->dstPitch + c->dstXInBytes;
}

/* The bytes a 2D side spans, or 0 when it overflows. */
static size_t span2d(size_t x, size_t y, size_t pitch, size_t w, size_t h)
{
	if (!h)
		return 0;
	if (y > SIZE_MAX / (pitch ? pitch : 1) - 1 || h - 1 > (SIZE_MAX - x - w) / (pitch ? pitch : 1))
		return 0;
	return (h - 1) * pitch + w;
}

static CUresult copy2d(const char *name, const CUDA_MEMCPY2D *c, CUstream hs, bool async, bool pt)
{
	CUresult rc = 0;

	ENTER(name);
	NEED_CTX();
	if (!c || c->WidthInBytes > c->srcPitch || c->WidthInBytes > c->dstPitch)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	struct CUstream_st *s = S(async ? hs : NULL, pt, &rc);
	if (!s)
		LEAVE(rc);
	if (c->WidthInBytes && c->Height) {
		if (!span2d(c->srcXInBytes, c->srcY, c->srcPitch, c->WidthInBytes, c->Height) ||
		    !span2d(c->dstXInBytes, c->dstY, c->dstPitch, c->WidthInBytes, c->Height))
			LEAVE(CUDA_ERROR_INVALID_VALUE);
		if ((c->srcMemoryType == CU_MEMORYTYPE_DEVICE &&
		     !dev_range(p2_src(c), (c->Height - 1) * c->srcPitch + c->WidthInBytes)) ||
		    (c->dstMemoryType == CU_MEMORYTYPE_DEVICE &&
		     !dev_range(p2_dst(c), (c->Height - 1) * c->dstPitch + c->WidthInBytes)))
			LEAVE(CUDA_ERROR_INVALID_VALUE);
	}
	if (s == s->ctx->legacy && (rc = legacy_ok(s->ctx)) != 0)
		LEAVE(rc);
	const void *host = c->srcMemoryType == CU_MEMORYTYPE_HOST ? c->srcHost
			 : c->dstMemoryType == CU_MEMORYTYPE_HOST ? c->dstHost : NULL;
	if (s->capture && !async)
		LEAVE((s->capture = 2, E_CAPTURE_UNSUPPORTED));
	bool defer = s->capture || (async && (!host || pinned(host)));
	if (!defer && async && host && host == c->srcHost && c->srcMemoryType == CU_MEMORYTYPE_HOST) {
		/* pageable source: its rows taken now, their DMA queued */
		size_t w = c->WidthInBytes;
		char *copy = w && c->Height ? malloc(w * c->Height) : NULL;
		if (w && c->Height && !copy)
			LEAVE(CUDA_ERROR_OUT_OF_MEMORY);
		for (size_t y = 0; y < c->Height; y++)
			memcpy(copy + y * w, (const char *)p2_src(c) + y * c->srcPitch, w);
		for (size_t y = 0; y < c->Height; y++)
			enqueue(s, (struct op){ .k = OP_COPY, .dst = (char *)p2_dst(c) + y * c->dstPitch,
						.src = copy + y * w, .n = w, .owned = y + 1 == c->Height ? copy : NULL });
		LEAVE(0);
	}
	if (!defer)
		drain_for(s);
	for (size_t y = 0; y < c->Height; y++) {
		void *d = (char *)p2_dst(c) + y * c->dstPitch;
		const void *sr = (const char *)p2_src(c) + y * c->srcPitch;
		if (defer)
			enqueue(s, (struct op){ .k = OP_COPY, .dst = d, .src = sr, .n = c->WidthInBytes });
		else
			dmove(d, sr, c->WidthInBytes);
	}
	LEAVE(0);
}

API CUresult cuMemcpy2D_v2(const CUDA_MEMCPY2D *c) { return copy2d("cuMemcpy2D_v2", c, NULL, false, false); }
API CUresult cuMemcpy2D_v2_ptds(const CUDA_MEMCPY2D *c) { return copy2d("cuMemcpy2D_v2_ptds", c, NULL, false, true); }
API CUresult cuMemcpy2DAsync_v2(const CUDA_MEMCPY2D *c, CUstream s) { return copy2d("cuMemcpy2DAsync_v2", c, s, true, false); }
API CUresult cuMemcpy2DAsync_v2_ptsz(const CUDA_MEMCPY2D *c, CUstream s) { return copy2d("cuMemcpy2DAsync_v2_ptsz", c, s, true, true); }

API CUresult cuMemsetD8_v2(CUdeviceptr d, unsigned char c, size_t n)
{
	CUresult rc = 0;
	ENTER("cuMemsetD8_v2");
	NEED_CTX();
	if (n && !dev_range(D(d), n))
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	struct CUstream_st *s = S(NULL, false, &rc);
	if ((rc = legacy_ok(s->ctx)) != 0)
		LEAVE(rc);
	drain_for(s);
	dset(D(d), c, n);
	LEAVE(0);
}

API CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char c, size_t n, CUstream hs)
{
	STREAM_CALL("cuMemsetD8Async", NEED_CTX, hs, false);
	if (n && !dev_range(D(d), n))
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	enqueue(s, (struct op){ .k = OP_SET, .dst = D(d), .n = n, .c = c });
	LEAVE(0);
}

static CUresult host_func(const char *name, CUstream hs, void (*fn)(void *), void *arg, bool pt)
{
	STREAM_CALL(name, NEED_CTX, hs, pt);
	if (!fn)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	enqueue(s, (struct op){ .k = OP_HOST, .fn = fn, .arg = arg });
	LEAVE(0);
}

API CUresult cuLaunchHostFunc(CUstream s, void (*fn)(void *), void *arg) { return host_func("cuLaunchHostFunc", s, fn, arg, false); }
API CUresult cuLaunchHostFunc_ptsz(CUstream s, void (*fn)(void *), void *arg) { return host_func("cuLaunchHostFunc_ptsz", s, fn, arg, true); }

static CUresult stream_create(const char *name, CUstream *out, unsigned flags)
{
	ENTER(name);
	NEED_CTX();
	if (!out || nstreams == 1024)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	*out = new_stream(current(), flags & 1);	/* CU_STREAM_NON_BLOCKING */
	LEAVE(0);
}

API CUresult cuStreamCreate(CUstream *s, unsigned flags) { return stream_create("cuStreamCreate", s, flags); }
API CUresult cuStreamCreateWithPriority(CUstream *s, unsigned flags, int prio)
{
	(void)prio;
	return stream_create("cuStreamCreateWithPriority", s, flags);
}

API CUresult cuStreamDestroy_v2(CUstream hs)
{
	CUresult rc = 0;
	ENTER("cuStreamDestroy_v2");
	NEED_INIT();
	if (!hs || hs == (CUstream)1 || hs == (CUstream)2)
		LEAVE(E_INVALID_HANDLE);
	struct CUstream_st *s = S(hs, false, &rc);
	if (!s)
		LEAVE(rc);
	run(s, SIZE_MAX);
	s->dead = true;	/* kept: events may still name it */
	LEAVE(0);
}

static CUresult stream_sync(const char *name, CUstream hs, bool pt)
{
	STREAM_CALL(name, NEED_INIT, hs, pt);
	LEAVE(sync_stream(s));
}

API CUresult cuStreamSynchronize(CUstream s) { return stream_sync("cuStreamSynchronize", s, false); }
API CUresult cuStreamSynchronize_ptsz(CUstream s) { return stream_sync("cuStreamSynchronize_ptsz", s, true); }

static CUresult stream_ctx(const char *name, CUstream hs, CUcontext *out, bool pt)
{
	STREAM_CALL(name, NEED_INIT, hs, pt);
	if (!out)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	*out = s->ctx;
	LEAVE(0);
}

API CUresult cuStreamGetCtx(CUstream s, CUcontext *c) { return stream_ctx("cuStreamGetCtx", s, c, false); }
API CUresult cuStreamGetCtx_ptsz(CUstream s, CUcontext *c) { return stream_ctx("cuStreamGetCtx_ptsz", s, c, true); }

static CUresult begin_capture(const char *name, CUstream hs, int mode, bool pt)
{
	STREAM_CALL(name, NEED_CTX, hs, pt);
	if (s == s->ctx->legacy)
		LEAVE(E_CAPTURE_UNSUPPORTED);	/* the legacy stream cannot be captured */
	if (s->capture)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	run(s, SIZE_MAX);
	s->capture = 1;
	s->mode = mode;
	s->cap_thread = pthread_self();
	s->graph = (struct ops){ 0 };
	LEAVE(0);
}

API CUresult cuStreamBeginCapture_v2(CUstream s, int mode) { return begin_capture("cuStreamBeginCapture_v2", s, mode, false); }
API CUresult cuStreamBeginCapture_v2_ptsz(CUstream s, int mode) { return begin_capture("cuStreamBeginCapture_v2_ptsz", s, mode, true); }

static CUresult end_capture(const char *name, CUstream hs, void **graph, bool pt)
{
	STREAM_CALL(name, NEED_INIT, hs, pt);
	if (!s->capture)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	bool ok = s->capture == 1;
	s->capture = 0;
	if (!ok) {
		free(s->graph.v);
		*graph = NULL;
		LEAVE(E_CAPTURE_INVALIDATED);
	}
	struct graph *g = calloc(1, sizeof *g);
	g->ops = s->graph;
	*graph = g;
	LEAVE(0);
}

API CUresult cuStreamEndCapture(CUstream s, void **g) { return end_capture("cuStreamEndCapture", s, g, false); }
API CUresult cuStreamEndCapture_ptsz(CUstream s, void **g) { return end_capture("cuStreamEndCapture_ptsz", s, g, true); }

static CUresult is_capturing(const char *name, CUstream hs, int *status, bool pt)
{
	STREAM_CALL(name, NEED_INIT, hs, pt);
	if (s == s->ctx->legacy) {
		/* the legacy stream is never captured; asked about while a blocking stream
		 * captures, it says so (that capture is not invalidated) */
		*status = 0;
		for (int i = 0; i < nstreams; i++)
			if (streams[i]->ctx == s->ctx && !streams[i]->dead && streams[i]->capture == 1 &&
			    !streams[i]->nonblocking && streams[i] != s)
				LEAVE(E_CAPTURE_IMPLICIT);
		LEAVE(0);
	}
	*status = s->capture;
	LEAVE(0);
}

API CUresult cuStreamIsCapturing(CUstream s, int *st) { return is_capturing("cuStreamIsCapturing", s, st, false); }
API CUresult cuStreamIsCapturing_ptsz(CUstream s, int *st) { return is_capturing("cuStreamIsCapturing_ptsz", s, st, true); }

API CUresult cuGraphInstantiateWithFlags(void **exec, void *graph, unsigned long long flags)
{
	(void)flags;
	ENTER("cuGraphInstantiateWithFlags");
	if (!exec || !graph)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	*exec = graph;
	LEAVE(0);
}

static CUresult graph_launch(const char *name, void *exec, CUstream hs, bool pt)
{
	STREAM_CALL(name, NEED_CTX, hs, pt);
	struct graph *g = exec;
	for (size_t i = 0; g && i < g->ops.n; i++)
		enqueue(s, g->ops.v[i]);
	LEAVE(g ? 0 : CUDA_ERROR_INVALID_VALUE);
}

API CUresult cuGraphLaunch(void *exec, CUstream s) { return graph_launch("cuGraphLaunch", exec, s, false); }
API CUresult cuGraphLaunch_ptsz(void *exec, CUstream s) { return graph_launch("cuGraphLaunch_ptsz", exec, s, true); }
API CUresult cuGraphDestroy(void *g) { count("cuGraphDestroy"); (void)g; return 0; }
API CUresult cuGraphExecDestroy(void *g) { count("cuGraphExecDestroy"); (void)g; return 0; }

API CUresult cuEventCreate(CUevent *e, unsigned flags)
{
	(void)flags;
	ENTER("cuEventCreate");
	NEED_CTX();
	*e = calloc(1, sizeof **e);
	(*e)->ctx = current();
	(*e)->ctx_id = current()->id;
	LEAVE(0);
}

static bool event_ok(CUevent e)
{
	return e && !e->dead && ctx_ok(e->ctx, e->ctx_id);
}

API CUresult cuEventDestroy_v2(CUevent e)
{
	ENTER("cuEventDestroy_v2");
	if (!event_ok(e))
		LEAVE(E_INVALID_HANDLE);
	e->dead = true;	/* kept, so a later use is seen */
	LEAVE(0);
}

static CUresult record(const char *name, CUevent e, CUstream hs, bool pt)
{
	STREAM_CALL(name, NEED_INIT, hs, pt);
	if (!event_ok(e) || e->ctx != s->ctx)
		LEAVE(E_INVALID_HANDLE);	/* event and stream of different contexts */
	if (s == s->ctx->legacy && (rc = legacy_ok(s->ctx)) != 0)
		LEAVE(rc);
	if (s->capture) {
		/* a node of the graph: the event does not track this stream's work */
		e->captured = true;
		enqueue(s, (struct op){ .k = OP_NOP });
		LEAVE(0);
	}
	e->s = s;
	e->at = s->q.n;
	e->recorded = true;
	e->asked = false;
	e->captured = false;
	e->nothers = 0;
	free(e->others);
	e->others = NULL;
	if (s == s->ctx->legacy) {
		e->others = calloc((size_t)nstreams, sizeof *e->others);
		for (int i = 0; i < nstreams; i++, e->nothers++)
			e->others[i] = streams[i]->ctx == s->ctx && !streams[i]->nonblocking ? streams[i]->q.n : 0;
	}
	LEAVE(0);
}

API CUresult cuEventRecord(CUevent e, CUstream s) { return record("cuEventRecord", e, s, false); }
API CUresult cuEventRecord_ptsz(CUevent e, CUstream s) { return record("cuEventRecord_ptsz", e, s, true); }

static bool event_done(CUevent e)
{
	if (e->s->done < e->at)
		return false;
	for (int i = 0; i < e->nothers; i++)
		if (streams[i]->done < e->others[i])
			return false;
	return true;
}

static void event_run(CUevent e)
{
	run(e->s, e->at);
	for (int i = 0; i < e->nothers; i++)
		run(streams[i], e->others[i]);
}

/* An event that can be waited for: a live one, of a context not in error, not last
 * recorded in a capture. */
#define EVENT_WAITABLE(e) \
	if (!event_ok(e)) \
		LEAVE(E_INVALID_HANDLE); \
	if ((e)->ctx->sticky) \
		LEAVE((e)->ctx->sticky); \
	if ((e)->captured) \
		LEAVE(E_CAPTURED_EVENT)

/* Not ready the first time it is asked about pending work; the second time, the work
 * runs, but no host function (a GPU never runs one in the caller's thread): done
 * unless one is in the way. */
API CUresult cuEventQuery(CUevent e)
{
	ENTER("cuEventQuery");
	EVENT_WAITABLE(e);
	if (!e->recorded || event_done(e))
		LEAVE(0);
	if (!e->asked) {
		e->asked = true;
		LEAVE(E_NOT_READY);
	}
	no_host = true;
	event_run(e);
	no_host = false;
	LEAVE(event_done(e) ? 0 : E_NOT_READY);
}

API CUresult cuEventSynchronize(CUevent e)
{
	ENTER("cuEventSynchronize");
	EVENT_WAITABLE(e);
	if (e->recorded)
		event_run(e);
	LEAVE(0);
}

API CUresult cuMemGetAddressRange_v2(CUdeviceptr *base, size_t *size, CUdeviceptr p)
{
	ENTER("cuMemGetAddressRange_v2");
	NEED_INIT();
	struct alloc *a = find((uintptr_t)p, true);
	if (!a || a->k != DEVICE)
		LEAVE(CUDA_ERROR_NOT_FOUND);
	if (base)
		*base = a->p;
	if (size)
		*size = a->n;
	LEAVE(0);
}

API CUresult cuPointerGetAttribute(void *out, int attr, CUdeviceptr p)
{
	ENTER("cuPointerGetAttribute");
	NEED_INIT();
	struct alloc *a = find((uintptr_t)p, true);
	if (!a)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	switch (attr) {
	case CU_POINTER_ATTRIBUTE_CONTEXT: *(CUcontext *)out = a->ctx; break;
	case CU_POINTER_ATTRIBUTE_MEMORY_TYPE: *(unsigned *)out = a->k == DEVICE ? CU_MEMORYTYPE_DEVICE : CU_MEMORYTYPE_HOST; break;
	case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR: *(CUdeviceptr *)out = a->p; break;
	case CU_POINTER_ATTRIBUTE_RANGE_SIZE: *(size_t *)out = a->n; break;
	default: LEAVE(CUDA_ERROR_INVALID_VALUE);
	}
	LEAVE(0);
}

API CUresult cuPointerGetAttributes(unsigned n, int *attrs, void **data, CUdeviceptr p)
{
	for (unsigned i = 0; i < n; i++) {
		CUresult rc = cuPointerGetAttribute(data[i], attrs[i], p);
		if (rc != CUDA_SUCCESS)
			return rc;
	}
	count("cuPointerGetAttributes");
	return CUDA_SUCCESS;
}

/* Stream-ordered, managed and VMM allocations: device memory like any other here. */
static CUresult plain_alloc(const char *name, CUdeviceptr *p, size_t n)
{
	ENTER(name);
	NEED_CTX();
	LEAVE(dev_alloc(p, n));
}
API CUresult cuMemAllocAsync(CUdeviceptr *p, size_t n, CUstream s) { (void)s; return plain_alloc("cuMemAllocAsync", p, n); }
API CUresult cuMemAllocAsync_ptsz(CUdeviceptr *p, size_t n, CUstream s) { (void)s; return plain_alloc("cuMemAllocAsync_ptsz", p, n); }
API CUresult cuMemFreeAsync(CUdeviceptr p, CUstream s) { (void)s; ENTER("cuMemFreeAsync"); NEED_INIT(); LEAVE(dev_free(p)); }
API CUresult cuMemFreeAsync_ptsz(CUdeviceptr p, CUstream s) { (void)s; ENTER("cuMemFreeAsync_ptsz"); NEED_INIT(); LEAVE(dev_free(p)); }
API CUresult cuMemAllocManaged(CUdeviceptr *p, size_t n, unsigned f) { (void)f; return plain_alloc("cuMemAllocManaged", p, n); }
API CUresult cuMemCreate(unsigned long long *h, size_t n, const void *prop, unsigned long long f)
{
	(void)prop; (void)f;
	CUdeviceptr p = 0;
	CUresult rc = plain_alloc("cuMemCreate", &p, n);
	*h = p;
	return rc;
}
API CUresult cuMemRelease(unsigned long long h) { ENTER("cuMemRelease"); NEED_INIT(); LEAVE(dev_free(h)); }
API CUresult cuMemMap(CUdeviceptr p, size_t n, size_t off, unsigned long long h, unsigned long long f)
{
	(void)p; (void)n; (void)off; (void)h; (void)f;
	count("cuMemMap");
	return CUDA_SUCCESS;
}

API CUresult cuMemGetInfo_v2(size_t *free_, size_t *total)
{
	ENTER("cuMemGetInfo_v2");
	NEED_CTX();
	*free_ = dev_total - dev_used[current()->dev];
	*total = dev_total;
	LEAVE(0);
}

API CUresult cuIpcGetMemHandle(void *handle, CUdeviceptr p)
{
	ENTER("cuIpcGetMemHandle");
	NEED_INIT();
	struct alloc *a = find((uintptr_t)p, true);
	if (!a || a->k != DEVICE)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	a->exported = true;	/* the allocation, whichever pointer inside it was given */
	memcpy(handle, &a->p, sizeof a->p);
	LEAVE(0);
}

/* Whether the allocation holding p was exported through IPC. */
API int fakecuda_exported(CUdeviceptr p)
{
	pthread_mutex_lock(&mu);
	struct alloc *a = find((uintptr_t)p, true);
	int x = a && a->exported;
	pthread_mutex_unlock(&mu);
	return x;
}

API CUresult cuGetErrorString(CUresult e, const char **s) { (void)e; *s = "fake CUDA error"; return 0; }
API CUresult cuGetErrorName(CUresult e, const char **s) { (void)e; *s = "CUDA_ERROR_FAKE"; return 0; }

/* ---- the rest of what FFmpeg's loader (nv-codec-headers) resolves ---------------- */

API CUresult cuDeviceGetAttribute(int *v, int attr, CUdevice d)
{
	ENTER("cuDeviceGetAttribute");
	NEED_INIT();
	if (!v || d < 0 || d >= ndev)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	*v = attr == 14 ? 512 : 0;	/* CU_DEVICE_ATTRIBUTE_TEXTURE_ALIGNMENT */
	LEAVE(0);
}

API CUresult cuDeviceGetName(char *name, int len, CUdevice d)
{
	ENTER("cuDeviceGetName");
	NEED_INIT();
	if (!name || len < 1 || d < 0 || d >= ndev)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	snprintf(name, (size_t)len, "fake GPU %d", d);
	LEAVE(0);
}

API CUresult cuDeviceComputeCapability(int *major, int *minor, CUdevice d)
{
	ENTER("cuDeviceComputeCapability");
	NEED_INIT();
	if (d < 0 || d >= ndev)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	*major = 9;
	*minor = 0;
	LEAVE(0);
}

API CUresult cuCtxSetLimit(int limit, size_t value) { (void)limit; (void)value; ENTER("cuCtxSetLimit"); NEED_CTX(); LEAVE(0); }

/* The flags of an active primary context cannot change (708). */
static CUresult set_flags(const char *name, CUdevice d, unsigned flags)
{
	(void)flags;
	ENTER(name);
	NEED_INIT();
	if (d < 0 || d >= ndev)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	LEAVE(ctxs[d].alive ? 708 : 0);
}

API CUresult cuDevicePrimaryCtxSetFlags(CUdevice d, unsigned f) { return set_flags("cuDevicePrimaryCtxSetFlags", d, f); }
API CUresult cuDevicePrimaryCtxSetFlags_v2(CUdevice d, unsigned f)
{
	(void)f;
	ENTER("cuDevicePrimaryCtxSetFlags_v2");	/* _v2 may change an active context's */
	NEED_INIT();
	LEAVE(d < 0 || d >= ndev ? CUDA_ERROR_INVALID_VALUE : 0);
}

API CUresult cuStreamQuery(CUstream hs)
{
	STREAM_CALL("cuStreamQuery", NEED_INIT, hs, false);
	if (s->capture)
		LEAVE((s->capture = 2, E_CAPTURE_UNSUPPORTED));
	/* as cuEventQuery: not ready when first asked, then what can run has run */
	if (s->done < s->q.n && !s->asked) {
		s->asked = true;
		LEAVE(E_NOT_READY);
	}
	no_host = true;
	run(s, SIZE_MAX);
	no_host = false;
	LEAVE(s->done < s->q.n ? E_NOT_READY : 0);
}

/* Unified copies (device pointers, or host pointers the driver knows). */
API CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t n) { return sync_copy("cuMemcpy", dst, src, n, false); }

static CUresult copy_async(const char *name, void *dst, const void *src, size_t n, CUstream hs)
{
	STREAM_CALL(name, NEED_CTX, hs, false);
	if (s == s->ctx->legacy && (rc = legacy_ok(s->ctx)) != 0)
		LEAVE(rc);
	enqueue(s, (struct op){ .k = OP_COPY, .dst = dst, .src = src, .n = n });
	LEAVE(0);
}

API CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) { return copy_async("cuMemcpyAsync", D(dst), D(src), n, s); }
API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) { return copy_async("cuMemcpyDtoDAsync_v2", D(dst), D(src), n, s); }

/* cuStreamAddCallback: a host function with the stream and a status. */
struct callback { void (*fn)(CUstream, CUresult, void *); CUstream s; void *arg; };
static void run_callback(void *p)
{
	struct callback *c = p;
	c->fn(c->s, 0, c->arg);
	free(c);
}

API CUresult cuStreamAddCallback(CUstream s, void (*fn)(CUstream, CUresult, void *), void *arg, unsigned flags)
{
	(void)flags;
	struct callback *c = malloc(sizeof *c);
	if (!c || !fn) {
		free(c);
		return CUDA_ERROR_INVALID_VALUE;
	}
	*c = (struct callback){ fn, s, arg };
	CUresult rc = host_func("cuStreamAddCallback", s, run_callback, c, false);
	if (rc)
		free(c);
	return rc;
}

/* Arrays: device memory of width x height x channels x 4 bytes here. */
struct array_desc { size_t w, h; int format; unsigned channels; };
struct array3d_desc { size_t w, h, depth; int format; unsigned channels, flags; };
static CUresult array_alloc(const char *name, CUarray *a, size_t w, size_t h, size_t dz, unsigned ch)
{
	CUdeviceptr p = 0;
	ENTER(name);
	NEED_CTX();
	if (!a || !w || !ch)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	h = h ? h : 1;
	dz = dz ? dz : 1;
	if (h > SIZE_MAX / w / dz / 4 / ch)
		LEAVE(CUDA_ERROR_OUT_OF_MEMORY);
	CUresult rc = dev_alloc(&p, w * h * dz * 4 * ch);
	*a = (CUarray)D(p);
	LEAVE(rc);
}
API CUresult cuArrayCreate_v2(CUarray *a, const struct array_desc *d)
{
	return array_alloc("cuArrayCreate_v2", a, d->w, d->h, 1, d->channels);
}
API CUresult cuArray3DCreate_v2(CUarray *a, const struct array3d_desc *d)
{
	return array_alloc("cuArray3DCreate_v2", a, d->w, d->h, d->depth, d->channels);
}
API CUresult cuArrayDestroy(CUarray a) { ENTER("cuArrayDestroy"); NEED_INIT(); LEAVE(dev_free((CUdeviceptr)(uintptr_t)a)); }

/* What needs kernels, modules, textures or graphics interop: not supported here. */
#define UNSUPPORTED(name) API CUresult name(void) { count(#name); return CUDA_ERROR_NOT_SUPPORTED; }
UNSUPPORTED(cuLaunchKernel)
UNSUPPORTED(cuLinkCreate)
UNSUPPORTED(cuLinkAddData)
UNSUPPORTED(cuLinkComplete)
UNSUPPORTED(cuLinkDestroy)
UNSUPPORTED(cuModuleLoadData)
UNSUPPORTED(cuModuleUnload)
UNSUPPORTED(cuModuleGetFunction)
UNSUPPORTED(cuModuleGetGlobal)
UNSUPPORTED(cuTexObjectCreate)
UNSUPPORTED(cuTexObjectDestroy)
UNSUPPORTED(cuGLGetDevices_v2)
UNSUPPORTED(cuGraphicsGLRegisterImage)
UNSUPPORTED(cuGraphicsUnregisterResource)
UNSUPPORTED(cuGraphicsMapResources)
UNSUPPORTED(cuGraphicsUnmapResources)
UNSUPPORTED(cuGraphicsSubResourceGetMappedArray)
UNSUPPORTED(cuGraphicsResourceGetMappedPointer_v2)

/* ---- cuGetProcAddress --------------------------------------------------------- */

struct entry { const char *name, *sym, *sym_pt; void *plain, *ptds; int since; };
/* (the versions are simplified: an entry has had its present ABI since `since`) */
#define E(n, f) { n, #f, #f, (void *)f, (void *)f, 3020 }
#define EP(n, f, g) { n, #f, #g, (void *)f, (void *)g, 3020 }
#define EV(n, f, v) { n, #f, #f, (void *)f, (void *)f, v }
static const struct entry table[] = {
	E("cuInit", cuInit), E("cuDriverGetVersion", cuDriverGetVersion),
	E("cuDeviceGetCount", cuDeviceGetCount), E("cuDeviceGet", cuDeviceGet),
	E("cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain), E("cuCtxSetCurrent", cuCtxSetCurrent),
	E("cuCtxGetCurrent", cuCtxGetCurrent), E("cuCtxSynchronize", cuCtxSynchronize),
	E("cuCtxGetDevice", cuCtxGetDevice), EV("cuCtxGetId", cuCtxGetId, 12000),
	E("cuCtxCreate", cuCtxCreate_v2), E("cuCtxDestroy", cuCtxDestroy_v2),
	E("cuCtxPushCurrent", cuCtxPushCurrent_v2), E("cuCtxPopCurrent", cuCtxPopCurrent_v2),
	EV("cuDevicePrimaryCtxReset", cuDevicePrimaryCtxReset_v2, 11000),
	EV("cuDevicePrimaryCtxRelease", cuDevicePrimaryCtxRelease_v2, 11000),
	E("cuDevicePrimaryCtxGetState", cuDevicePrimaryCtxGetState),
	E("cuMemAlloc", cuMemAlloc_v2), E("cuMemFree", cuMemFree_v2), E("cuMemAllocPitch", cuMemAllocPitch_v2),
	E("cuMemAllocHost", cuMemAllocHost_v2), E("cuMemHostAlloc", cuMemHostAlloc), E("cuMemFreeHost", cuMemFreeHost),
	E("cuMemHostRegister", cuMemHostRegister_v2), E("cuMemHostUnregister", cuMemHostUnregister),
	EP("cuMemcpyHtoD", cuMemcpyHtoD_v2, cuMemcpyHtoD_v2_ptds),
	EP("cuMemcpyDtoH", cuMemcpyDtoH_v2, cuMemcpyDtoH_v2_ptds), E("cuMemcpyDtoD", cuMemcpyDtoD_v2),
	EP("cuMemcpyHtoDAsync", cuMemcpyHtoDAsync_v2, cuMemcpyHtoDAsync_v2_ptsz),
	EP("cuMemcpyDtoHAsync", cuMemcpyDtoHAsync_v2, cuMemcpyDtoHAsync_v2_ptsz),
	EP("cuMemcpy2D", cuMemcpy2D_v2, cuMemcpy2D_v2_ptds),
	EP("cuMemcpy2DAsync", cuMemcpy2DAsync_v2, cuMemcpy2DAsync_v2_ptsz),
	E("cuMemsetD8Async", cuMemsetD8Async), E("cuMemsetD8", cuMemsetD8_v2), EP("cuLaunchHostFunc", cuLaunchHostFunc, cuLaunchHostFunc_ptsz),
	E("cuStreamCreate", cuStreamCreate), E("cuStreamCreateWithPriority", cuStreamCreateWithPriority),
	E("cuStreamDestroy", cuStreamDestroy_v2),
	EP("cuStreamSynchronize", cuStreamSynchronize, cuStreamSynchronize_ptsz),
	EP("cuStreamBeginCapture", cuStreamBeginCapture_v2, cuStreamBeginCapture_v2_ptsz),
	EP("cuStreamEndCapture", cuStreamEndCapture, cuStreamEndCapture_ptsz),
	EP("cuStreamIsCapturing", cuStreamIsCapturing, cuStreamIsCapturing_ptsz),
	E("cuGraphInstantiateWithFlags", cuGraphInstantiateWithFlags),
	EP("cuGraphLaunch", cuGraphLaunch, cuGraphLaunch_ptsz), E("cuGraphDestroy", cuGraphDestroy),
	E("cuGraphExecDestroy", cuGraphExecDestroy),
	E("cuEventCreate", cuEventCreate), E("cuEventDestroy", cuEventDestroy_v2),
	EP("cuEventRecord", cuEventRecord, cuEventRecord_ptsz), E("cuEventQuery", cuEventQuery),
	E("cuEventSynchronize", cuEventSynchronize), E("cuMemGetAddressRange", cuMemGetAddressRange_v2),
	E("cuPointerGetAttribute", cuPointerGetAttribute), E("cuMemGetInfo", cuMemGetInfo_v2),
	E("cuIpcGetMemHandle", cuIpcGetMemHandle), E("cuGetErrorString", cuGetErrorString),
	E("cuPointerGetAttributes", cuPointerGetAttributes),
	EP("cuMemAllocAsync", cuMemAllocAsync, cuMemAllocAsync_ptsz), EP("cuMemFreeAsync", cuMemFreeAsync, cuMemFreeAsync_ptsz),
	E("cuMemAllocManaged", cuMemAllocManaged), E("cuMemCreate", cuMemCreate), E("cuMemRelease", cuMemRelease),
	E("cuMemMap", cuMemMap), E("cuArrayCreate", cuArrayCreate_v2), E("cuArray3DCreate", cuArray3DCreate_v2),
	E("cuArrayDestroy", cuArrayDestroy), E("cuStreamQuery", cuStreamQuery), E("cuMemcpy", cuMemcpy),
	E("cuMemcpyAsync", cuMemcpyAsync), E("cuDeviceGetAttribute", cuDeviceGetAttribute),
	EP("cuStreamGetCtx", cuStreamGetCtx, cuStreamGetCtx_ptsz),
};

API CUresult cuGetProcAddress_v2(const char *sym, void **pfn, int version, cuuint64_t flags, int *status);
API CUresult cuGetProcAddress(const char *sym, void **pfn, int version, cuuint64_t flags);

static CUresult lookup(const char *sym, void **pfn, int version, cuuint64_t flags, int *status)
{
	bool by_name = getenv("FAKECUDA_GPA_DLSYM") != NULL;

	*pfn = NULL;
	if (!strcmp(sym, "cuGetProcAddress")) {
		/* the 5-argument _v2 from CUDA 12, the 4-argument one before */
		const char *name = version >= 12000 ? "cuGetProcAddress_v2" : "cuGetProcAddress";
		*pfn = by_name ? dlsym(RTLD_DEFAULT, name)
			       : version >= 12000 ? (void *)cuGetProcAddress_v2 : (void *)cuGetProcAddress;
		return 0;
	}
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		if (strcmp(table[i].name, sym))
			continue;
		if (version < table[i].since) {
			/* the older ABI: the un-suffixed primary-context calls */
			if (!strcmp(sym, "cuDevicePrimaryCtxRelease"))
				*pfn = (void *)cuDevicePrimaryCtxRelease;
			else if (!strcmp(sym, "cuDevicePrimaryCtxReset"))
				*pfn = (void *)cuDevicePrimaryCtxReset;
			if (status)
				*status = *pfn ? 0 : 2;
			return *pfn ? 0 : CUDA_ERROR_NOT_FOUND;
		}
		bool pt = flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
		/* resolved by name, the way some drivers and interposers do: whatever the
		 * process's first definition of that name is */
		*pfn = by_name ? dlsym(RTLD_DEFAULT, pt ? table[i].sym_pt : table[i].sym)
			       : pt ? table[i].ptds : table[i].plain;
		if (status)
			*status = 0;
		return 0;
	}
	if (status)
		*status = 1;
	return CUDA_ERROR_NOT_FOUND;
}

API CUresult cuGetProcAddress_v2(const char *sym, void **pfn, int version, cuuint64_t flags, int *status)
{
	count("cuGetProcAddress_v2");
	return lookup(sym, pfn, version, flags, status);
}

API CUresult cuGetProcAddress(const char *sym, void **pfn, int version, cuuint64_t flags)
{
	count("cuGetProcAddress");
	return lookup(sym, pfn, version, flags, NULL);
}
