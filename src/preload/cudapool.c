/* cudapool.c: the driver wrappers, and the device and pinned-memory pools behind them.
 *
 * Device memory (cuMemAlloc_v2/cuMemFree_v2, which cudaMalloc/cudaFree reach) and
 * pinned host memory (cuMemAllocHost_v2, cuMemHostAlloc, cuMemFreeHost: cudaMallocHost,
 * cudaHostAlloc, cudaFreeHost) are cached: a freed block is kept, and the next request
 * of the same rounded size (and, for host memory, the same flags) gets it back without
 * a driver call. Sizes are rounded up to 512 bytes, and above 1 MiB to 2 MiB.
 *
 * A block is never handed out again before the work that used it has finished. The
 * free records an event on the legacy default stream, which every blocking stream
 * synchronises with, and a block is reused only once its event has completed. When
 * the program uses streams that do not synchronise with the legacy stream
 * (non-blocking streams, or the per-thread default stream variants), the free
 * synchronises the context instead, as the real cuMemFree does.
 *
 * Blocks belong to the context that was current when they were made, and go back
 * only to that context; when a context is destroyed or a primary context reset or
 * released, the pool forgets every block (the driver frees them with it).
 *
 * Free cached memory is capped (HMO_CUDA_POOL_MAX, HMO_CUDA_HOST_POOL_MAX); when the
 * driver runs out of memory, every cached block is released and the allocation is
 * tried again. Blocks handed to cuIpcGetMemHandle are never cached: they are freed
 * for real. Queries of the range of a pooled pointer (cuMemGetAddressRange,
 * cuPointerGetAttribute) are answered with the size the program asked for.
 *
 * Everything here holds one mutex: these calls cost microseconds in the driver
 * anyway, and a pool hit stays well under one. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "cuda.h"
#include "internal.h"

enum { BLOCK_FREE, BLOCK_LIVE, BLOCK_CACHED };

struct block {
	uintptr_t p;
	size_t size;		/* what the driver allocated: the rounded size */
	size_t want;		/* what the program asked for */
	unsigned flags;		/* cuMemHostAlloc flags (host blocks) */
	bool host, exported;
	int state;
	CUcontext ctx;		/* current when it was made */
	CUevent ev;		/* recorded at free; NULL if none could be made */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct block *blocks;
static size_t nblocks, capblocks;
static struct hmo_cu_pool_stats ps;
static bool nonblocking_seen;
static bool warned_full;

/* hmo's own driver calls, resolved once the program has reached the driver. */
static struct {
	CUresult (*event_create)(CUevent *, unsigned);
	CUresult (*event_record)(CUevent, CUstream);
	CUresult (*event_query)(CUevent);
	CUresult (*ctx_sync)(void);
	CUresult (*ctx_current)(CUcontext *);
	bool done;
} drv;

static void resolve_driver(void)
{
	if (drv.done)
		return;
	*(void **)&drv.event_create = hmo_cu_driver("cuEventCreate", "cuEventCreate", false);
	*(void **)&drv.event_record = hmo_cu_driver("cuEventRecord", "cuEventRecord", false);
	*(void **)&drv.event_query = hmo_cu_driver("cuEventQuery", "cuEventQuery", false);
	*(void **)&drv.ctx_sync = hmo_cu_driver("cuCtxSynchronize", "cuCtxSynchronize", false);
	*(void **)&drv.ctx_current = hmo_cu_driver("cuCtxGetCurrent", "cuCtxGetCurrent", false);
	drv.done = true;
}

static uint64_t now_ns(void)
{
	return hmo_now_ns();
}

/* Counts a call, and traces it when HMO_TRACE is on: ptr is the device (or pinned
 * host) pointer it concerned, flags HMO_CUDA_*. */
static void note_ex(enum cu_op op, uint64_t bytes, uint64_t t0, CUresult rc, uint64_t ptr, unsigned flags)
{
	struct hmo_cu_stat *s = &hmo_cu_stats[op];

	__atomic_fetch_add(&s->calls, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->bytes, bytes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->ns, now_ns() - t0, __ATOMIC_RELAXED);
	if (rc != CUDA_SUCCESS)
		__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
	if (HMO_UNLIKELY(hmo_tracing))
		hmo_trace_cuda(op, t0, bytes, ptr, flags, rc);
}

static void note(enum cu_op op, uint64_t bytes, uint64_t t0, CUresult rc)
{
	note_ex(op, bytes, t0, rc, 0, 0);
}

/* A copy that went through the staging ring. */
static void note_staged(enum cu_op op, uint64_t bytes, uint64_t t0, CUresult rc, uint64_t dev)
{
	struct hmo_cu_stat *s = &hmo_cu_stats[op];

	__atomic_fetch_add(&s->staged, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->staged_bytes, bytes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->staged_ns, now_ns() - t0, __ATOMIC_RELAXED);
	note_ex(op, bytes, t0, rc, dev, HMO_CUDA_STAGED);
}

int hmo_cu_state(void)
{
	return __atomic_load_n(&ps.state, __ATOMIC_ACQUIRE);
}

static bool pooling(void)
{
	return hmo_opt.cuda_pool && ps.state == 1;
}

static size_t round_size(size_t n)
{
	if (n <= ((size_t)1 << 20))
		return (n + 511) & ~(size_t)511;
	return (n + ((size_t)2 << 20) - 1) & ~(((size_t)2 << 20) - 1);
}

/* ---- blocks ---------------------------------------------------------------------- */

static struct block *find_block(uintptr_t p, bool host, bool inside)
{
	for (size_t i = 0; i < nblocks; i++) {
		struct block *b = &blocks[i];
		if (b->state == BLOCK_LIVE && b->host == host &&
		    (b->p == p || (inside && p > b->p && p < b->p + b->want)))
			return b;
	}
	return NULL;
}

static struct block *new_block(void)
{
	for (size_t i = 0; i < nblocks; i++)
		if (blocks[i].state == BLOCK_FREE)
			return &blocks[i];
	if (nblocks == capblocks) {
		size_t cap = capblocks ? capblocks * 2 : 256;
		hmo_guard_enter();
		struct block *t = hmo_real.realloc(blocks, cap * sizeof *t);
		hmo_guard_leave();
		if (!t)
			return NULL;
		blocks = t;
		capblocks = cap;
	}
	memset(&blocks[nblocks], 0, sizeof blocks[0]);
	return &blocks[nblocks++];
}

static CUcontext current(void)
{
	CUcontext c = NULL;

	if (drv.ctx_current && drv.ctx_current(&c) != CUDA_SUCCESS)
		c = NULL;
	return c;
}

/* A cached block of exactly `size` (and flags), of the current context, whose last
 * use has finished. */
static struct block *reuse(size_t size, bool host, unsigned flags, CUcontext ctx)
{
	for (size_t i = 0; i < nblocks; i++) {
		struct block *b = &blocks[i];
		if (b->state != BLOCK_CACHED || b->host != host || b->size != size || b->flags != flags ||
		    b->ctx != ctx)
			continue;
		if (b->ev && drv.event_query && drv.event_query(b->ev) != CUDA_SUCCESS)
			continue;	/* still in use on the device */
		return b;
	}
	return NULL;
}

static uint64_t *cached_of(bool host)
{
	return host ? &ps.host_cached : &ps.dev_cached;
}

/* Gives cached blocks back to the driver, oldest first, until at most `keep`
 * bytes stay cached; every one of them with keep = 0. Called with mu held. */
static void release(bool host, uint64_t keep)
{
	CUresult (*free_dev)(CUdeviceptr) = hmo_cu_next(CU_MEM_FREE, 0);
	CUresult (*free_host)(void *) = hmo_cu_next(CU_MEM_FREE_HOST, 0);

	for (size_t i = 0; i < nblocks && *cached_of(host) > keep; i++) {
		struct block *b = &blocks[i];
		if (b->state != BLOCK_CACHED || b->host != host)
			continue;
		CUresult rc = host ? (free_host ? free_host((void *)b->p) : CUDA_ERROR_NOT_INITIALIZED)
				   : (free_dev ? free_dev((CUdeviceptr)b->p) : CUDA_ERROR_NOT_INITIALIZED);
		if (rc != CUDA_SUCCESS)
			continue;
		*cached_of(host) -= b->size;
		if (!host)
			ps.dev_released += b->size;
		b->state = BLOCK_FREE;
		/* the event is kept with the slot for the next block */
	}
}

/* The free of a pooled block: cached after its work is ordered behind an event (or
 * the context synchronised), then the cache is trimmed to its cap. */
static void cache(struct block *b)
{
	if (hmo_cu_pt_seen || nonblocking_seen || !drv.event_record) {
		if (drv.ctx_sync)
			drv.ctx_sync();
	} else {
		if (!b->ev && drv.event_create && drv.event_create(&b->ev, 2 /* CU_EVENT_DISABLE_TIMING */) != 0)
			b->ev = NULL;
		if (b->ev && drv.event_record(b->ev, NULL) != CUDA_SUCCESS && drv.ctx_sync)
			drv.ctx_sync();
	}
	b->state = BLOCK_CACHED;
	*cached_of(b->host) += b->size;
	if (!b->host && ps.dev_cached > ps.dev_peak_cached)
		ps.dev_peak_cached = ps.dev_cached;
	release(b->host, b->host ? hmo_opt.cuda_host_pool_max : hmo_opt.cuda_pool_max);
}

/* ---- device memory ------------------------------------------------------------------- */

/* HMO_CUPTI: libhmo-cupti.so, beside libhmo, started once CUDA is up. */
static void start_cupti(void)
{
	static int once;
	Dl_info info;
	char path[4096];

	if (!hmo_opt.cupti || __atomic_exchange_n(&once, 1, __ATOMIC_ACQ_REL))
		return;
	if (!dladdr((void *)&start_cupti, &info) || !info.dli_fname) {
		hmo_warn("hmo: CUPTI unavailable: cannot tell where libhmo is");
		return;
	}
	const char *slash = strrchr(info.dli_fname, '/');
	size_t dir = slash ? (size_t)(slash - info.dli_fname) + 1 : 0;
	if (dir + sizeof "libhmo-cupti.so" > sizeof path)
		return;
	memcpy(path, info.dli_fname, dir);
	memcpy(path + dir, "libhmo-cupti.so", sizeof "libhmo-cupti.so");
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	int (*start)(void) = h ? (int (*)(void))dlsym(h, "hmo_cupti_start") : NULL;
	if (!start) {
		char line[4200];
		struct fmt_buf w;
		fmt_init(&w, line, sizeof line);
		fmt_str(&w, "hmo: CUPTI unavailable: cannot load ");
		fmt_str(&w, path);
		fmt_str(&w, " (");
		fmt_str(&w, dlerror() ? "see dlerror" : "no hmo_cupti_start");
		fmt_str(&w, "); the GPU is not traced");
		hmo_warn(w.p);
		return;
	}
	(void)start();	/* it says itself why it could not start */
}

CUresult cu_wrap_init(unsigned flags)
{
	CUresult (*real)(unsigned) = hmo_cu_next(CU_INIT, 0);
	uint64_t t0 = now_ns();

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	CUresult rc = real(flags);
	pthread_mutex_lock(&mu);
	if (ps.state == 0)
		ps.state = rc == CUDA_SUCCESS ? 1 : rc;	/* decided once */
	pthread_mutex_unlock(&mu);
	note(CU_INIT, 0, t0, rc);
	if (rc == CUDA_SUCCESS)
		start_cupti();
	return rc;
}

CUresult cu_wrap_mem_alloc(CUdeviceptr *p, size_t n)
{
	CUresult (*real)(CUdeviceptr *, size_t) = hmo_cu_next(CU_MEM_ALLOC, 0);
	uint64_t t0 = now_ns();
	CUresult rc;

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	if (!pooling() || !p || !n) {
		rc = real(p, n);
		note(CU_MEM_ALLOC, n, t0, rc);
		return rc;
	}
	size_t size = round_size(n);
	pthread_mutex_lock(&mu);
	resolve_driver();
	CUcontext ctx = current();
	struct block *b = reuse(size, false, 0, ctx);
	if (b) {
		ps.dev_hits++;
		ps.dev_cached -= b->size;
		b->state = BLOCK_LIVE;
		b->want = n;
		*p = (CUdeviceptr)b->p;
		pthread_mutex_unlock(&mu);
		note_ex(CU_MEM_ALLOC, n, t0, CUDA_SUCCESS, *p, HMO_CUDA_POOL_HIT);
		return CUDA_SUCCESS;
	}
	CUdeviceptr d = 0;
	rc = real(&d, size);
	if (rc == CUDA_ERROR_OUT_OF_MEMORY && ps.dev_cached) {
		/* Out of memory: wait for the cached blocks' work, give them all back, and
		 * try once more. */
		if (drv.ctx_sync)
			drv.ctx_sync();
		release(false, 0);
		ps.dev_oom_retries++;
		rc = real(&d, size);
	}
	if (rc == CUDA_SUCCESS && (b = new_block()) != NULL) {
		*b = (struct block){ .p = (uintptr_t)d, .size = size, .want = n, .state = BLOCK_LIVE, .ev = b->ev,
				     .ctx = ctx };
		ps.dev_misses++;
		*p = d;
	} else if (rc == CUDA_SUCCESS) {
		*p = d;		/* no room to record it: the program's, unpooled */
	}
	pthread_mutex_unlock(&mu);
	note_ex(CU_MEM_ALLOC, n, t0, rc, d, rc == CUDA_SUCCESS ? HMO_CUDA_POOL_NEW : 0);
	return rc;
}

CUresult cu_wrap_mem_free(CUdeviceptr p)
{
	CUresult (*real)(CUdeviceptr) = hmo_cu_next(CU_MEM_FREE, 0);
	uint64_t t0 = now_ns();

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	pthread_mutex_lock(&mu);
	struct block *b = p ? find_block((uintptr_t)p, false, false) : NULL;
	if (b && !b->exported) {
		resolve_driver();
		cache(b);
		pthread_mutex_unlock(&mu);
		note_ex(CU_MEM_FREE, 0, t0, CUDA_SUCCESS, p, 0);
		return CUDA_SUCCESS;
	}
	if (b)
		b->state = BLOCK_FREE;	/* exported through IPC: freed for real */
	pthread_mutex_unlock(&mu);
	CUresult rc = real(p);
	note(CU_MEM_FREE, 0, t0, rc);
	return rc;
}

/* ---- pinned host memory ------------------------------------------------------------- */

static CUresult host_alloc(enum cu_op op, void **p, size_t n, unsigned flags)
{
	uint64_t t0 = now_ns();
	CUresult rc;
	void *h = NULL;

	if (!hmo_cu_next(op, 0))
		return CUDA_ERROR_NOT_INITIALIZED;
	if (!pooling() || !p || !n) {
		rc = op == CU_MEM_ALLOC_HOST ? ((CUresult (*)(void **, size_t))hmo_cu_next(op, 0))(p, n)
					     : ((CUresult (*)(void **, size_t, unsigned))hmo_cu_next(op, 0))(p, n, flags);
		note(op, n, t0, rc);
		return rc;
	}
	size_t size = round_size(n);
	pthread_mutex_lock(&mu);
	resolve_driver();
	CUcontext ctx = current();
	struct block *b = reuse(size, true, flags, ctx);
	if (b) {
		ps.host_hits++;
		ps.host_cached -= b->size;
		b->state = BLOCK_LIVE;
		b->want = n;
		*p = (void *)b->p;
		pthread_mutex_unlock(&mu);
		note_ex(op, n, t0, CUDA_SUCCESS, (uintptr_t)*p, HMO_CUDA_POOL_HIT);
		return CUDA_SUCCESS;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		rc = op == CU_MEM_ALLOC_HOST ? ((CUresult (*)(void **, size_t))hmo_cu_next(op, 0))(&h, size)
					     : ((CUresult (*)(void **, size_t, unsigned))hmo_cu_next(op, 0))(&h, size, flags);
		if (rc != CUDA_ERROR_OUT_OF_MEMORY || !ps.host_cached)
			break;
		if (drv.ctx_sync)
			drv.ctx_sync();
		release(true, 0);
	}
	if (rc == CUDA_SUCCESS && (b = new_block()) != NULL) {
		*b = (struct block){ .p = (uintptr_t)h, .size = size, .want = n, .flags = flags, .host = true,
				     .state = BLOCK_LIVE, .ev = b->ev, .ctx = ctx };
		ps.host_misses++;
	}
	if (rc == CUDA_SUCCESS)
		*p = h;
	pthread_mutex_unlock(&mu);
	note_ex(op, n, t0, rc, (uintptr_t)h, rc == CUDA_SUCCESS ? HMO_CUDA_POOL_NEW : 0);
	return rc;
}

CUresult cu_wrap_mem_alloc_host(void **p, size_t n)
{
	return host_alloc(CU_MEM_ALLOC_HOST, p, n, 0);
}

CUresult cu_wrap_mem_host_alloc(void **p, size_t n, unsigned flags)
{
	return host_alloc(CU_MEM_HOST_ALLOC, p, n, flags);
}

CUresult cu_wrap_mem_free_host(void *p)
{
	CUresult (*real)(void *) = hmo_cu_next(CU_MEM_FREE_HOST, 0);
	uint64_t t0 = now_ns();

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	pthread_mutex_lock(&mu);
	struct block *b = p ? find_block((uintptr_t)p, true, false) : NULL;
	if (b) {
		resolve_driver();
		cache(b);
		pthread_mutex_unlock(&mu);
		note(CU_MEM_FREE_HOST, 0, t0, CUDA_SUCCESS);
		return CUDA_SUCCESS;
	}
	pthread_mutex_unlock(&mu);
	CUresult rc = real(p);
	note(CU_MEM_FREE_HOST, 0, t0, rc);
	return rc;
}

/* ---- memory hmo does not pool: counted, passed through ---------------------------------
 * Stream-ordered allocation (cudaMallocAsync and mempools), managed memory, and the
 * virtual memory management calls keep their own semantics. */

#define PASS(name, op, v, params, args, bytes)                               \
	CUresult name params                                                 \
	{                                                                    \
		CUresult (*real) params = hmo_cu_next(op, v);                \
		uint64_t t0 = now_ns();                                      \
		if (!real)                                                   \
			return CUDA_ERROR_NOT_INITIALIZED;                   \
		CUresult rc = real args;                                     \
		note(op, bytes, t0, rc);                                     \
		return rc;                                                   \
	}

PASS(cu_wrap_mem_alloc_async, CU_MEM_ALLOC_ASYNC, 0, (CUdeviceptr *p, size_t n, CUstream s), (p, n, s), n)
PASS(cu_wrap_mem_alloc_async_pt, CU_MEM_ALLOC_ASYNC, 1, (CUdeviceptr *p, size_t n, CUstream s), (p, n, s), n)
PASS(cu_wrap_mem_free_async, CU_MEM_FREE_ASYNC, 0, (CUdeviceptr p, CUstream s), (p, s), 0)
PASS(cu_wrap_mem_free_async_pt, CU_MEM_FREE_ASYNC, 1, (CUdeviceptr p, CUstream s), (p, s), 0)
PASS(cu_wrap_mem_alloc_managed, CU_MEM_ALLOC_MANAGED, 0, (CUdeviceptr *p, size_t n, unsigned f), (p, n, f), n)
PASS(cu_wrap_mem_create, CU_MEM_CREATE, 0,
     (unsigned long long *h, size_t n, const void *prop, unsigned long long f), (h, n, prop, f), n)
PASS(cu_wrap_mem_map, CU_MEM_MAP, 0,
     (CUdeviceptr p, size_t n, size_t off, unsigned long long h, unsigned long long f), (p, n, off, h, f), n)

/* cudaPointerGetAttributes reaches this: the range attributes of a pooled block are
 * the pool's, the others the driver's. */
CUresult cu_wrap_ptr_attrs(unsigned n, int *attrs, void **data, CUdeviceptr p)
{
	CUresult (*real)(unsigned, int *, void **, CUdeviceptr) = hmo_cu_next(CU_PTR_ATTRS, 0);
	uint64_t t0 = now_ns();

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	CUresult rc = real(n, attrs, data, p);
	if (rc == CUDA_SUCCESS && attrs && data) {
		pthread_mutex_lock(&mu);
		struct block *b = find_block((uintptr_t)p, false, true);
		for (unsigned i = 0; b && i < n; i++) {
			if (!data[i])
				continue;
			if (attrs[i] == CU_POINTER_ATTRIBUTE_RANGE_START_ADDR)
				*(CUdeviceptr *)data[i] = (CUdeviceptr)b->p;
			else if (attrs[i] == CU_POINTER_ATTRIBUTE_RANGE_SIZE)
				*(size_t *)data[i] = b->want;
		}
		pthread_mutex_unlock(&mu);
	}
	note(CU_PTR_ATTRS, 0, t0, rc);
	return rc;
}

/* ---- contexts going away ------------------------------------------------------------ */

/* The driver frees a context's memory with it: the pool forgets every block (all of
 * them, whatever their context: simple, and a context going away is rare) before
 * the call, so nothing stale is handed out after it. Cached blocks are freed for
 * real first, while their context still exists. */
static void forget_all(void)
{
	if (drv.ctx_sync)
		drv.ctx_sync();	/* no DMA in flight from what is unregistered next */
	hmo_pin_forget();
	pthread_mutex_lock(&mu);
	release(false, 0);
	release(true, 0);
	for (size_t i = 0; i < nblocks; i++) {
		blocks[i].state = BLOCK_FREE;
		blocks[i].ev = NULL;	/* destroyed with its context */
	}
	ps.dev_cached = ps.host_cached = 0;
	pthread_mutex_unlock(&mu);
}

#define CTX_GONE(name, op, type)                                              \
	CUresult name(type x)                                                 \
	{                                                                     \
		CUresult (*real)(type) = hmo_cu_next(op, 0);                  \
		uint64_t t0 = now_ns();                                       \
		if (!real)                                                    \
			return CUDA_ERROR_NOT_INITIALIZED;                    \
		forget_all();                                                 \
		CUresult rc = real(x);                                        \
		note(op, 0, t0, rc);                                          \
		return rc;                                                    \
	}

CTX_GONE(cu_wrap_ctx_destroy, CU_CTX_DESTROY, CUcontext)
CTX_GONE(cu_wrap_primary_reset, CU_PRIMARY_RESET, CUdevice)
CTX_GONE(cu_wrap_primary_release, CU_PRIMARY_RELEASE, CUdevice)

/* ---- copies: staged, registered or passed through; counted either way ---------------- */

/* The asynchronous copies that staging queues, of the caller's variant. */
static void *async_fn(enum cu_op op, int v)
{
	static void *fn[2][2];
	int k = op == CU_HTOD_ASYNC ? 0 : 1;

	if (!__atomic_load_n(&fn[k][v], __ATOMIC_ACQUIRE)) {
		void *p = hmo_cu_real[op][v];
		if (!p)
			p = op == CU_HTOD_ASYNC
				    ? hmo_cu_driver("cuMemcpyHtoDAsync", v ? "cuMemcpyHtoDAsync_v2_ptsz" : "cuMemcpyHtoDAsync_v2", v)
				    : hmo_cu_driver("cuMemcpyDtoHAsync", v ? "cuMemcpyDtoHAsync_v2_ptsz" : "cuMemcpyDtoHAsync_v2", v);
		__atomic_store_n(&fn[k][v], p, __ATOMIC_RELEASE);
	}
	return fn[k][v];
}

/* H2D and D2H, synchronous or not: staged when the host side is pageable and large,
 * else straight to the driver; counted either way. */
static CUresult htod(enum cu_op op, int v, CUdeviceptr d, const void *h, size_t n, CUstream s)
{
	uint64_t t0 = now_ns();
	CUresult rc;

	bool reg = hmo_pin_registered(h, n);
	if (!reg && hmo_stage_htod(async_fn(CU_HTOD_ASYNC, v), v, d, h, n, s, &rc)) {
		note_staged(op, n, t0, rc, d);
		return rc;
	}
	if (op == CU_HTOD_ASYNC) {
		CUresult (*real)(CUdeviceptr, const void *, size_t, CUstream) = hmo_cu_next(op, v);
		rc = real ? real(d, h, n, s) : CUDA_ERROR_NOT_INITIALIZED;
		if (reg && rc == CUDA_SUCCESS)
			rc = hmo_pin_wait(s, v);	/* the source is the program's again on return */
	} else {
		CUresult (*real)(CUdeviceptr, const void *, size_t) = hmo_cu_next(op, v);
		rc = real ? real(d, h, n) : CUDA_ERROR_NOT_INITIALIZED;
	}
	note_ex(op, n, t0, rc, d, reg ? HMO_CUDA_REGISTERED : 0);
	return rc;
}

static CUresult dtoh(enum cu_op op, int v, void *h, CUdeviceptr d, size_t n, CUstream s)
{
	uint64_t t0 = now_ns();
	CUresult rc;

	bool reg = hmo_pin_registered(h, n);
	if (!reg && hmo_stage_dtoh(async_fn(CU_DTOH_ASYNC, v), v, h, d, n, s, &rc)) {
		note_staged(op, n, t0, rc, d);
		return rc;
	}
	if (op == CU_DTOH_ASYNC) {
		CUresult (*real)(void *, CUdeviceptr, size_t, CUstream) = hmo_cu_next(op, v);
		rc = real ? real(h, d, n, s) : CUDA_ERROR_NOT_INITIALIZED;
		if (reg && rc == CUDA_SUCCESS)
			rc = hmo_pin_wait(s, v);	/* the data is in place on return */
	} else {
		CUresult (*real)(void *, CUdeviceptr, size_t) = hmo_cu_next(op, v);
		rc = real ? real(h, d, n) : CUDA_ERROR_NOT_INITIALIZED;
	}
	note_ex(op, n, t0, rc, d, reg ? HMO_CUDA_REGISTERED : 0);
	return rc;
}

CUresult cu_wrap_htod(CUdeviceptr d, const void *h, size_t n) { return htod(CU_HTOD, 0, d, h, n, NULL); }
CUresult cu_wrap_htod_pt(CUdeviceptr d, const void *h, size_t n) { return htod(CU_HTOD, 1, d, h, n, NULL); }
CUresult cu_wrap_dtoh(void *h, CUdeviceptr d, size_t n) { return dtoh(CU_DTOH, 0, h, d, n, NULL); }
CUresult cu_wrap_dtoh_pt(void *h, CUdeviceptr d, size_t n) { return dtoh(CU_DTOH, 1, h, d, n, NULL); }
CUresult cu_wrap_htod_async(CUdeviceptr d, const void *h, size_t n, CUstream s)
{
	return htod(CU_HTOD_ASYNC, 0, d, h, n, s);
}
CUresult cu_wrap_htod_async_pt(CUdeviceptr d, const void *h, size_t n, CUstream s)
{
	return htod(CU_HTOD_ASYNC, 1, d, h, n, s);
}
CUresult cu_wrap_dtoh_async(void *h, CUdeviceptr d, size_t n, CUstream s)
{
	return dtoh(CU_DTOH_ASYNC, 0, h, d, n, s);
}
CUresult cu_wrap_dtoh_async_pt(void *h, CUdeviceptr d, size_t n, CUstream s)
{
	return dtoh(CU_DTOH_ASYNC, 1, h, d, n, s);
}

/* cuMemcpy2D and its Async form: staged between pageable memory and the device. */
static CUresult copy2d(enum cu_op op, int v, const CUDA_MEMCPY2D *c, CUstream s)
{
	static void *async[2];
	uint64_t t0 = now_ns(), n = c ? c->WidthInBytes * c->Height : 0;
	CUresult rc;

	if (!__atomic_load_n(&async[v], __ATOMIC_ACQUIRE)) {
		void *p = hmo_cu_real[CU_2D_ASYNC][v];
		if (!p)
			p = hmo_cu_driver("cuMemcpy2DAsync", v ? "cuMemcpy2DAsync_v2_ptsz" : "cuMemcpy2DAsync_v2", v);
		__atomic_store_n(&async[v], p, __ATOMIC_RELEASE);
	}
	/* the host side of a host<->device 2D copy, when it lies in one registered region */
	bool reg = false;
	if (c && c->Height && c->srcMemoryType != c->dstMemoryType) {
		bool up = c->srcMemoryType == CU_MEMORYTYPE_HOST;
		const char *h = up ? (const char *)c->srcHost + c->srcY * c->srcPitch + c->srcXInBytes
				   : (const char *)c->dstHost + c->dstY * c->dstPitch + c->dstXInBytes;
		size_t span = (c->Height - 1) * (up ? c->srcPitch : c->dstPitch) + c->WidthInBytes;
		reg = (up || c->dstMemoryType == CU_MEMORYTYPE_HOST) && hmo_pin_registered(h, span);
	}
	if (!reg && hmo_stage_2d(async[v], v, c, s, &rc)) {
		note_staged(op, n, t0, rc, c->srcMemoryType == CU_MEMORYTYPE_DEVICE ? c->srcDevice : c->dstDevice);
		return rc;
	}
	if (op == CU_2D_ASYNC) {
		CUresult (*real)(const CUDA_MEMCPY2D *, CUstream) = hmo_cu_next(op, v);
		rc = real ? real(c, s) : CUDA_ERROR_NOT_INITIALIZED;
		if (reg && rc == CUDA_SUCCESS)
			rc = hmo_pin_wait(s, v);
	} else {
		CUresult (*real)(const CUDA_MEMCPY2D *) = hmo_cu_next(op, v);
		rc = real ? real(c) : CUDA_ERROR_NOT_INITIALIZED;
	}
	note(op, n, t0, rc);
	return rc;
}

CUresult cu_wrap_copy2d(const CUDA_MEMCPY2D *c) { return copy2d(CU_2D, 0, c, NULL); }
CUresult cu_wrap_copy2d_pt(const CUDA_MEMCPY2D *c) { return copy2d(CU_2D, 1, c, NULL); }
CUresult cu_wrap_copy2d_async(const CUDA_MEMCPY2D *c, CUstream s) { return copy2d(CU_2D_ASYNC, 0, c, s); }
CUresult cu_wrap_copy2d_async_pt(const CUDA_MEMCPY2D *c, CUstream s) { return copy2d(CU_2D_ASYNC, 1, c, s); }

/* ---- queries ----------------------------------------------------------------------------- */

CUresult cu_wrap_range(CUdeviceptr *base, size_t *size, CUdeviceptr p)
{
	CUresult (*real)(CUdeviceptr *, size_t *, CUdeviceptr) = hmo_cu_next(CU_RANGE, 0);
	uint64_t t0 = now_ns();

	pthread_mutex_lock(&mu);
	struct block *b = find_block((uintptr_t)p, false, true);
	if (b) {
		if (base)
			*base = (CUdeviceptr)b->p;
		if (size)
			*size = b->want;
		pthread_mutex_unlock(&mu);
		note(CU_RANGE, 0, t0, CUDA_SUCCESS);
		return CUDA_SUCCESS;
	}
	pthread_mutex_unlock(&mu);
	CUresult rc = real ? real(base, size, p) : CUDA_ERROR_NOT_INITIALIZED;
	note(CU_RANGE, 0, t0, rc);
	return rc;
}

CUresult cu_wrap_ptr_attr(void *out, int attr, CUdeviceptr p)
{
	CUresult (*real)(void *, int, CUdeviceptr) = hmo_cu_next(CU_PTR_ATTR, 0);
	uint64_t t0 = now_ns();

	if (out && (attr == CU_POINTER_ATTRIBUTE_RANGE_START_ADDR || attr == CU_POINTER_ATTRIBUTE_RANGE_SIZE)) {
		pthread_mutex_lock(&mu);
		struct block *b = find_block((uintptr_t)p, false, true);
		if (b) {
			if (attr == CU_POINTER_ATTRIBUTE_RANGE_START_ADDR)
				*(CUdeviceptr *)out = (CUdeviceptr)b->p;
			else
				*(size_t *)out = b->want;
			pthread_mutex_unlock(&mu);
			note(CU_PTR_ATTR, 0, t0, CUDA_SUCCESS);
			return CUDA_SUCCESS;
		}
		pthread_mutex_unlock(&mu);
	}
	CUresult rc = real ? real(out, attr, p) : CUDA_ERROR_NOT_INITIALIZED;
	note(CU_PTR_ATTR, 0, t0, rc);
	return rc;
}

CUresult cu_wrap_mem_info(size_t *free_, size_t *total)
{
	CUresult (*real)(size_t *, size_t *) = hmo_cu_next(CU_MEM_INFO, 0);
	uint64_t t0 = now_ns();

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	CUresult rc = real(free_, total);
	note(CU_MEM_INFO, 0, t0, rc);
	if (rc == CUDA_SUCCESS && free_ && total) {
		pthread_mutex_lock(&mu);
		ps.mem_free = *free_;
		ps.mem_total = *total;
		pthread_mutex_unlock(&mu);
	}
	if (rc == CUDA_SUCCESS && free_ && total && *total && *free_ < *total / 10 &&
	    !__atomic_exchange_n(&warned_full, true, __ATOMIC_RELAXED) && hmo_opt.stats.kind != HMO_OUT_OFF) {
		char line[160];
		struct fmt_buf w;
		fmt_init(&w, line, sizeof line);
		fmt_str(&w, "hmo: GPU memory is over 90% used (");
		fmt_bytes(&w, *free_);
		fmt_str(&w, " free of ");
		fmt_bytes(&w, *total);
		fmt_str(&w, ")");
		hmo_warn(w.p);
	}
	return rc;
}

CUresult cu_wrap_ipc_get(void *handle, CUdeviceptr p)
{
	CUresult (*real)(void *, CUdeviceptr) = hmo_cu_next(CU_IPC_GET, 0);
	uint64_t t0 = now_ns();

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	pthread_mutex_lock(&mu);
	struct block *b = find_block((uintptr_t)p, false, false);
	if (b)
		b->exported = true;	/* shared with another process: never cached */
	pthread_mutex_unlock(&mu);
	CUresult rc = real(handle, p);
	note(CU_IPC_GET, 0, t0, rc);
	return rc;
}

/* Streams that do not synchronise with the legacy stream (CU_STREAM_NON_BLOCKING)
 * change how frees are made safe (see the top). */
CUresult cu_wrap_stream_create(CUstream *s, unsigned flags)
{
	CUresult (*real)(CUstream *, unsigned) = hmo_cu_next(CU_STREAM_CREATE, 0);
	uint64_t t0 = now_ns();

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	if (flags & 1)
		__atomic_store_n(&nonblocking_seen, true, __ATOMIC_RELAXED);
	CUresult rc = real(s, flags);
	note(CU_STREAM_CREATE, 0, t0, rc);
	return rc;
}

CUresult cu_wrap_stream_create_prio(CUstream *s, unsigned flags, int prio)
{
	CUresult (*real)(CUstream *, unsigned, int) = hmo_cu_next(CU_STREAM_CREATE_PRIO, 0);
	uint64_t t0 = now_ns();

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	if (flags & 1)
		__atomic_store_n(&nonblocking_seen, true, __ATOMIC_RELAXED);
	CUresult rc = real(s, flags, prio);
	note(CU_STREAM_CREATE_PRIO, 0, t0, rc);
	return rc;
}

void hmo_cu_pool_stats(struct hmo_cu_pool_stats *out)
{
	pthread_mutex_lock(&mu);
	*out = ps;
	pthread_mutex_unlock(&mu);
}

/* ---- exported, for programs linked to libcuda ------------------------------------- */

#define EXPORT_ALIAS(name, target) \
	extern __typeof__(target) name __attribute__((alias(#target), visibility("default")))

EXPORT_ALIAS(cuInit, cu_wrap_init);
EXPORT_ALIAS(cuMemAlloc_v2, cu_wrap_mem_alloc);
EXPORT_ALIAS(cuMemFree_v2, cu_wrap_mem_free);
EXPORT_ALIAS(cuMemAllocHost_v2, cu_wrap_mem_alloc_host);
EXPORT_ALIAS(cuMemHostAlloc, cu_wrap_mem_host_alloc);
EXPORT_ALIAS(cuMemFreeHost, cu_wrap_mem_free_host);
EXPORT_ALIAS(cuMemcpyHtoD_v2, cu_wrap_htod);
EXPORT_ALIAS(cuMemcpyDtoH_v2, cu_wrap_dtoh);
EXPORT_ALIAS(cuMemcpyHtoDAsync_v2, cu_wrap_htod_async);
EXPORT_ALIAS(cuMemcpyDtoHAsync_v2, cu_wrap_dtoh_async);
EXPORT_ALIAS(cuMemcpy2D_v2, cu_wrap_copy2d);
EXPORT_ALIAS(cuMemcpy2DAsync_v2, cu_wrap_copy2d_async);
EXPORT_ALIAS(cuMemcpyHtoD_v2_ptds, cu_wrap_htod_pt);
EXPORT_ALIAS(cuMemcpyDtoH_v2_ptds, cu_wrap_dtoh_pt);
EXPORT_ALIAS(cuMemcpyHtoDAsync_v2_ptsz, cu_wrap_htod_async_pt);
EXPORT_ALIAS(cuMemcpyDtoHAsync_v2_ptsz, cu_wrap_dtoh_async_pt);
EXPORT_ALIAS(cuMemcpy2D_v2_ptds, cu_wrap_copy2d_pt);
EXPORT_ALIAS(cuMemcpy2DAsync_v2_ptsz, cu_wrap_copy2d_async_pt);
EXPORT_ALIAS(cuMemGetAddressRange_v2, cu_wrap_range);
EXPORT_ALIAS(cuPointerGetAttribute, cu_wrap_ptr_attr);
EXPORT_ALIAS(cuMemGetInfo_v2, cu_wrap_mem_info);
EXPORT_ALIAS(cuIpcGetMemHandle, cu_wrap_ipc_get);
EXPORT_ALIAS(cuStreamCreate, cu_wrap_stream_create);
EXPORT_ALIAS(cuPointerGetAttributes, cu_wrap_ptr_attrs);
EXPORT_ALIAS(cuMemAllocAsync, cu_wrap_mem_alloc_async);
EXPORT_ALIAS(cuMemAllocAsync_ptsz, cu_wrap_mem_alloc_async_pt);
EXPORT_ALIAS(cuMemFreeAsync, cu_wrap_mem_free_async);
EXPORT_ALIAS(cuMemFreeAsync_ptsz, cu_wrap_mem_free_async_pt);
EXPORT_ALIAS(cuMemAllocManaged, cu_wrap_mem_alloc_managed);
EXPORT_ALIAS(cuMemCreate, cu_wrap_mem_create);
EXPORT_ALIAS(cuMemMap, cu_wrap_mem_map);
EXPORT_ALIAS(cuCtxDestroy_v2, cu_wrap_ctx_destroy);
EXPORT_ALIAS(cuDevicePrimaryCtxReset_v2, cu_wrap_primary_reset);
EXPORT_ALIAS(cuDevicePrimaryCtxRelease_v2, cu_wrap_primary_release);
EXPORT_ALIAS(cuStreamCreateWithPriority, cu_wrap_stream_create_prio);
