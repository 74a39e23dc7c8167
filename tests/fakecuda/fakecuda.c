/* fakecuda.c: a fake libcuda.so.1 for the tests, never installed.
 *
 * "Device" memory is host memory. Streams queue their work and run it later: at a
 * synchronisation (stream, event, context, or any synchronous call), or when an
 * event is queried a second time. A copy from pageable host memory takes its source
 * at once, as the real driver does; from pinned memory (cuMemAllocHost, cuMemHostAlloc,
 * cuMemHostRegister) it reads the source when it runs, so a caller that overwrites a
 * pinned source too early sees the difference, as on a GPU. Every call is counted by
 * name (fakecuda_count), and cuGetProcAddress hands out distinct per-thread-stream
 * variants where the real driver has them.
 *
 * FAKECUDA_STUB=1 makes cuInit fail as the toolkit's stub library does (34);
 * FAKECUDA_NODEV=1 as a machine without a GPU (100); FAKECUDA_MEM=BYTES sets the
 * device's memory (default 1 GiB), so that out-of-memory can be tested. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preload/cudadefs.h"

#define API __attribute__((visibility("default")))

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- call counts -------------------------------------------------------------- */

struct count { char name[48]; unsigned long n; };
static struct count counts[128];
static pthread_mutex_t count_mu = PTHREAD_MUTEX_INITIALIZER;

static void count(const char *name)
{
	pthread_mutex_lock(&count_mu);
	for (int i = 0; i < 128; i++) {
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
	for (int i = 0; i < 128 && counts[i].name[0]; i++)
		if (!strcmp(counts[i].name, name))
			n = counts[i].n;
	pthread_mutex_unlock(&count_mu);
	return n;
}

/* ---- allocations ------------------------------------------------------------- */

enum kind { DEVICE, PINNED, REGISTERED };
struct alloc { uintptr_t p; size_t n; enum kind k; unsigned flags; };
static struct alloc *allocs;
static size_t nallocs, capallocs;
static size_t device_used, device_total = (size_t)1 << 30;
static int init_state;	/* 0 not yet, 1 ok, else the error */

API size_t fakecuda_device_bytes(void)
{
	return device_used;
}

static struct alloc *find(uintptr_t p, bool inside)
{
	for (size_t i = 0; i < nallocs; i++)
		if (allocs[i].p == p || (inside && p > allocs[i].p && p < allocs[i].p + allocs[i].n))
			return &allocs[i];
	return NULL;
}

static void add(uintptr_t p, size_t n, enum kind k, unsigned flags)
{
	if (nallocs == capallocs) {
		capallocs = capallocs ? capallocs * 2 : 64;
		allocs = realloc(allocs, capallocs * sizeof *allocs);
	}
	allocs[nallocs++] = (struct alloc){ p, n, k, flags };
}

static void drop(struct alloc *a)
{
	*a = allocs[--nallocs];
}

static bool pinned(const void *p)
{
	struct alloc *a = find((uintptr_t)p, true);
	return a && a->k != DEVICE;
}

/* ---- streams --------------------------------------------------------------------- */

enum op_kind { OP_COPY, OP_SET, OP_EVENT };
struct op { enum op_kind k; void *dst; const void *src; size_t n; int c; struct CUevent_st *ev; };
struct CUstream_st { struct op *ops; size_t n, cap, done; bool nonblocking; };
/* An event recorded on the legacy stream also waits for the work queued before it on
 * every other stream, as the legacy default stream does with blocking streams. */
struct CUevent_st { struct CUstream_st *s; size_t at; bool recorded, asked; size_t others[256]; int nothers; };
static struct CUstream_st legacy;
static struct CUstream_st *streams[256];
static int nstreams;

static struct CUstream_st *S(CUstream s)
{
	return s ? s : &legacy;
}

static void run(struct CUstream_st *s, size_t upto)
{
	for (; s->done < upto && s->done < s->n; s->done++) {
		struct op *o = &s->ops[s->done];
		if (o->k == OP_COPY)
			memmove(o->dst, o->src, o->n);
		else if (o->k == OP_SET)
			memset(o->dst, o->c, o->n);
	}
}

static void run_all(void)
{
	run(&legacy, SIZE_MAX);
	for (int i = 0; i < nstreams; i++)
		run(streams[i], SIZE_MAX);
}

static bool event_done(struct CUevent_st *e)
{
	if (e->s->done < e->at)
		return false;
	for (int i = 0; i < e->nothers; i++)
		if (streams[i]->done < e->others[i])
			return false;
	return true;
}

static void event_run(struct CUevent_st *e)
{
	run(e->s, e->at);
	for (int i = 0; i < e->nothers; i++)
		run(streams[i], e->others[i]);
}

API size_t fakecuda_pending(void)
{
	pthread_mutex_lock(&mu);
	size_t n = legacy.n - legacy.done;
	for (int i = 0; i < nstreams; i++)
		n += streams[i]->n - streams[i]->done;
	pthread_mutex_unlock(&mu);
	return n;
}

static void queue(struct CUstream_st *s, struct op o)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->ops = realloc(s->ops, s->cap * sizeof *s->ops);
	}
	s->ops[s->n++] = o;
}

/* ---- the driver API ------------------------------------------------------------- */

#define ENTER(name) count(name); pthread_mutex_lock(&mu)
#define LEAVE(rc) do { CUresult r_ = (rc); pthread_mutex_unlock(&mu); return r_; } while (0)

API CUresult cuInit(unsigned flags)
{
	(void)flags;
	ENTER("cuInit");
	if (!init_state) {
		const char *m = getenv("FAKECUDA_MEM");
		init_state = getenv("FAKECUDA_STUB") ? CUDA_ERROR_STUB_LIBRARY
			   : getenv("FAKECUDA_NODEV") ? CUDA_ERROR_NO_DEVICE : 1;
		if (m)
			device_total = strtoull(m, NULL, 10);
	}
	LEAVE(init_state == 1 ? CUDA_SUCCESS : init_state);
}

#define NEED_INIT() if (init_state != 1) LEAVE(init_state ? init_state : CUDA_ERROR_NOT_INITIALIZED)

API CUresult cuDriverGetVersion(int *v) { count("cuDriverGetVersion"); *v = 13000; return CUDA_SUCCESS; }
API CUresult cuDeviceGetCount(int *n) { ENTER("cuDeviceGetCount"); NEED_INIT(); *n = 1; LEAVE(0); }
API CUresult cuDeviceGet(CUdevice *d, int i) { ENTER("cuDeviceGet"); NEED_INIT(); *d = i; LEAVE(i == 0 ? 0 : CUDA_ERROR_INVALID_VALUE); }
static struct CUctx_st { int x; } ctx;
API CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d) { (void)d; ENTER("cuDevicePrimaryCtxRetain"); NEED_INIT(); *c = &ctx; LEAVE(0); }
API CUresult cuCtxSetCurrent(CUcontext c) { (void)c; count("cuCtxSetCurrent"); return 0; }
API CUresult cuCtxGetCurrent(CUcontext *c) { count("cuCtxGetCurrent"); *c = init_state == 1 ? &ctx : NULL; return 0; }
API CUresult cuCtxSynchronize(void) { ENTER("cuCtxSynchronize"); run_all(); LEAVE(0); }

/* Resetting the primary context frees every allocation made in it. */
API CUresult cuDevicePrimaryCtxReset_v2(CUdevice d)
{
	(void)d;
	ENTER("cuDevicePrimaryCtxReset_v2");
	run_all();
	for (size_t i = nallocs; i-- > 0;) {
		if (allocs[i].k == REGISTERED)
			continue;
		if (allocs[i].k == DEVICE)
			device_used -= allocs[i].n;
		free((void *)allocs[i].p);
		drop(&allocs[i]);
	}
	LEAVE(0);
}

API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) { (void)d; count("cuDevicePrimaryCtxRelease_v2"); return 0; }

/* Whether p is the start of a device allocation that exists now. */
API int fakecuda_is_live(CUdeviceptr p)
{
	pthread_mutex_lock(&mu);
	struct alloc *a = find((uintptr_t)p, false);
	int live = a && a->k == DEVICE;
	pthread_mutex_unlock(&mu);
	return live;
}

API CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n)
{
	ENTER("cuMemAlloc_v2");
	NEED_INIT();
	if (!n)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	if (device_used + n > device_total)
		LEAVE(CUDA_ERROR_OUT_OF_MEMORY);
	void *m = aligned_alloc(256, (n + 255) & ~(size_t)255);
	if (!m)
		LEAVE(CUDA_ERROR_OUT_OF_MEMORY);
	memset(m, 0xcd, n);
	add((uintptr_t)m, n, DEVICE, 0);
	device_used += n;
	*p = (CUdeviceptr)(uintptr_t)m;
	LEAVE(0);
}

API CUresult cuMemFree_v2(CUdeviceptr p)
{
	ENTER("cuMemFree_v2");
	NEED_INIT();
	struct alloc *a = find((uintptr_t)p, false);
	if (!a || a->k != DEVICE)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	run_all();	/* cuMemFree synchronises */
	device_used -= a->n;
	free((void *)a->p);
	drop(a);
	LEAVE(0);
}

static CUresult host_alloc(void **p, size_t n, unsigned flags)
{
	NEED_INIT();
	void *m = aligned_alloc(4096, (n + 4095) & ~(size_t)4095);
	if (!m)
		LEAVE(CUDA_ERROR_OUT_OF_MEMORY);
	add((uintptr_t)m, n, PINNED, flags);
	*p = m;
	LEAVE(0);
}

API CUresult cuMemAllocHost_v2(void **p, size_t n) { ENTER("cuMemAllocHost_v2"); return host_alloc(p, n, 0); }
API CUresult cuMemHostAlloc(void **p, size_t n, unsigned flags) { ENTER("cuMemHostAlloc"); return host_alloc(p, n, flags); }

API unsigned fakecuda_host_flags(void *p)
{
	struct alloc *a = find((uintptr_t)p, false);
	return a ? a->flags : ~0u;
}

API CUresult cuMemFreeHost(void *p)
{
	ENTER("cuMemFreeHost");
	NEED_INIT();
	struct alloc *a = find((uintptr_t)p, false);
	if (!a || a->k != PINNED)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	run_all();
	free(p);
	drop(a);
	LEAVE(0);
}

API CUresult cuMemHostRegister_v2(void *p, size_t n, unsigned flags)
{
	ENTER("cuMemHostRegister_v2");
	NEED_INIT();
	for (size_t i = 0; i < nallocs; i++)
		if (allocs[i].k != DEVICE && (uintptr_t)p < allocs[i].p + allocs[i].n && (uintptr_t)p + n > allocs[i].p)
			LEAVE(712);	/* CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED */
	add((uintptr_t)p, n, REGISTERED, flags);
	LEAVE(0);
}

API CUresult cuMemHostUnregister(void *p)
{
	ENTER("cuMemHostUnregister");
	struct alloc *a = find((uintptr_t)p, false);
	if (!a || a->k != REGISTERED)
		LEAVE(713);	/* CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED */
	run_all();
	drop(a);
	LEAVE(0);
}

/* A copy: synchronous ones drain every stream first and run at once; asynchronous
 * ones from or to pageable memory run at once as well (the driver stages them), and
 * between device and pinned memory they are queued. */
static CUresult copy(const char *name, void *dst, const void *src, size_t n, CUstream s, bool async,
		     const void *host)
{
	ENTER(name);
	NEED_INIT();
	if (!async || !pinned(host)) {
		if (!async)
			run_all();
		else
			run(S(s), SIZE_MAX);
		memmove(dst, src, n);
	} else {
		queue(S(s), (struct op){ OP_COPY, dst, src, n, 0, NULL });
	}
	LEAVE(0);
}

#define D(p) ((void *)(uintptr_t)(p))
API CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *h, size_t n) { return copy("cuMemcpyHtoD_v2", D(d), h, n, NULL, false, h); }
API CUresult cuMemcpyDtoH_v2(void *h, CUdeviceptr d, size_t n) { return copy("cuMemcpyDtoH_v2", h, D(d), n, NULL, false, h); }
API CUresult cuMemcpyDtoD_v2(CUdeviceptr a, CUdeviceptr b, size_t n) { return copy("cuMemcpyDtoD_v2", D(a), D(b), n, NULL, false, NULL); }
API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *h, size_t n, CUstream s) { return copy("cuMemcpyHtoDAsync_v2", D(d), h, n, s, true, h); }
API CUresult cuMemcpyDtoHAsync_v2(void *h, CUdeviceptr d, size_t n, CUstream s) { return copy("cuMemcpyDtoHAsync_v2", h, D(d), n, s, true, h); }
API CUresult cuMemcpyHtoDAsync_v2_ptsz(CUdeviceptr d, const void *h, size_t n, CUstream s) { return copy("cuMemcpyHtoDAsync_v2_ptsz", D(d), h, n, s, true, h); }
API CUresult cuMemcpyDtoHAsync_v2_ptsz(void *h, CUdeviceptr d, size_t n, CUstream s) { return copy("cuMemcpyDtoHAsync_v2_ptsz", h, D(d), n, s, true, h); }
API CUresult cuMemcpyHtoD_v2_ptds(CUdeviceptr d, const void *h, size_t n) { return copy("cuMemcpyHtoD_v2_ptds", D(d), h, n, NULL, false, h); }
API CUresult cuMemcpyDtoH_v2_ptds(void *h, CUdeviceptr d, size_t n) { return copy("cuMemcpyDtoH_v2_ptds", h, D(d), n, NULL, false, h); }

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

static CUresult copy2d(const char *name, const CUDA_MEMCPY2D *c, CUstream s, bool async)
{
	ENTER(name);
	NEED_INIT();
	if (c->WidthInBytes > c->srcPitch || c->WidthInBytes > c->dstPitch)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	const void *host = c->srcMemoryType == CU_MEMORYTYPE_HOST ? c->srcHost
			 : c->dstMemoryType == CU_MEMORYTYPE_HOST ? c->dstHost : NULL;
	bool defer = async && host && pinned(host);
	if (!async)
		run_all();
	else if (!defer)
		run(S(s), SIZE_MAX);
	for (size_t y = 0; y < c->Height; y++) {
		void *d = (char *)p2_dst(c) + y * c->dstPitch;
		const void *sr = (const char *)p2_src(c) + y * c->srcPitch;
		if (defer)
			queue(S(s), (struct op){ OP_COPY, d, sr, c->WidthInBytes, 0, NULL });
		else
			memmove(d, sr, c->WidthInBytes);
	}
	LEAVE(0);
}

API CUresult cuMemcpy2D_v2(const CUDA_MEMCPY2D *c) { return copy2d("cuMemcpy2D_v2", c, NULL, false); }
API CUresult cuMemcpy2DAsync_v2(const CUDA_MEMCPY2D *c, CUstream s) { return copy2d("cuMemcpy2DAsync_v2", c, s, true); }
API CUresult cuMemcpy2DAsync_v2_ptsz(const CUDA_MEMCPY2D *c, CUstream s) { return copy2d("cuMemcpy2DAsync_v2_ptsz", c, s, true); }

API CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char c, size_t n, CUstream s)
{
	ENTER("cuMemsetD8Async");
	queue(S(s), (struct op){ OP_SET, D(d), NULL, n, c, NULL });
	LEAVE(0);
}

API CUresult cuStreamCreate(CUstream *s, unsigned flags)
{
	ENTER("cuStreamCreate");
	NEED_INIT();
	struct CUstream_st *n = calloc(1, sizeof *n);
	n->nonblocking = flags & 1;	/* CU_STREAM_NON_BLOCKING */
	if (nstreams < 256)
		streams[nstreams++] = n;
	*s = n;
	LEAVE(0);
}

API CUresult cuStreamDestroy_v2(CUstream s)
{
	ENTER("cuStreamDestroy_v2");
	run(S(s), SIZE_MAX);
	LEAVE(0);	/* kept: events may still name it */
}

API CUresult cuStreamSynchronize(CUstream s) { ENTER("cuStreamSynchronize"); run(S(s), SIZE_MAX); LEAVE(0); }
API CUresult cuStreamSynchronize_ptsz(CUstream s) { ENTER("cuStreamSynchronize_ptsz"); run(S(s), SIZE_MAX); LEAVE(0); }

API CUresult cuEventCreate(CUevent *e, unsigned flags)
{
	(void)flags;
	ENTER("cuEventCreate");
	*e = calloc(1, sizeof **e);
	LEAVE(0);
}

API CUresult cuEventDestroy_v2(CUevent e) { ENTER("cuEventDestroy_v2"); (void)e; LEAVE(0); }

static CUresult record(const char *name, CUevent e, CUstream s)
{
	ENTER(name);
	e->s = S(s);
	e->at = e->s->n;
	e->recorded = true;
	e->asked = false;
	e->nothers = 0;
	if (e->s == &legacy)
		for (int i = 0; i < nstreams; i++, e->nothers++)
			e->others[i] = streams[i]->nonblocking ? 0 : streams[i]->n;
	LEAVE(0);
}

API CUresult cuEventRecord(CUevent e, CUstream s) { return record("cuEventRecord", e, s); }
API CUresult cuEventRecord_ptsz(CUevent e, CUstream s) { return record("cuEventRecord_ptsz", e, s); }

/* Not ready the first time it is asked about pending work; done the second. */
API CUresult cuEventQuery(CUevent e)
{
	ENTER("cuEventQuery");
	if (!e->recorded || event_done(e))
		LEAVE(0);
	if (!e->asked) {
		e->asked = true;
		LEAVE(CUDA_ERROR_NOT_READY);
	}
	event_run(e);
	LEAVE(0);
}

API CUresult cuEventSynchronize(CUevent e)
{
	ENTER("cuEventSynchronize");
	if (e->recorded)
		event_run(e);
	LEAVE(0);
}

API CUresult cuMemGetAddressRange_v2(CUdeviceptr *base, size_t *size, CUdeviceptr p)
{
	ENTER("cuMemGetAddressRange_v2");
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
	struct alloc *a = find((uintptr_t)p, true);
	if (!a)
		LEAVE(CUDA_ERROR_INVALID_VALUE);
	switch (attr) {
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
static CUresult plain_alloc(CUdeviceptr *p, size_t n)
{
	return cuMemAlloc_v2(p, n);
}
API CUresult cuMemAllocAsync(CUdeviceptr *p, size_t n, CUstream s) { (void)s; count("cuMemAllocAsync"); return plain_alloc(p, n); }
API CUresult cuMemAllocAsync_ptsz(CUdeviceptr *p, size_t n, CUstream s) { (void)s; count("cuMemAllocAsync_ptsz"); return plain_alloc(p, n); }
API CUresult cuMemFreeAsync(CUdeviceptr p, CUstream s) { (void)s; count("cuMemFreeAsync"); return cuMemFree_v2(p); }
API CUresult cuMemFreeAsync_ptsz(CUdeviceptr p, CUstream s) { (void)s; count("cuMemFreeAsync_ptsz"); return cuMemFree_v2(p); }
API CUresult cuMemAllocManaged(CUdeviceptr *p, size_t n, unsigned f) { (void)f; count("cuMemAllocManaged"); return plain_alloc(p, n); }
API CUresult cuMemCreate(unsigned long long *h, size_t n, const void *prop, unsigned long long f)
{
	(void)prop; (void)f;
	count("cuMemCreate");
	CUdeviceptr p;
	CUresult rc = plain_alloc(&p, n);
	*h = p;
	return rc;
}
API CUresult cuMemMap(CUdeviceptr p, size_t n, size_t off, unsigned long long h, unsigned long long f)
{
	(void)p; (void)n; (void)off; (void)h; (void)f;
	count("cuMemMap");
	return CUDA_SUCCESS;
}

API CUresult cuMemGetInfo_v2(size_t *free_, size_t *total)
{
	ENTER("cuMemGetInfo_v2");
	NEED_INIT();
	*free_ = device_total - device_used;
	*total = device_total;
	LEAVE(0);
}

API CUresult cuIpcGetMemHandle(void *handle, CUdeviceptr p)
{
	ENTER("cuIpcGetMemHandle");
	struct alloc *a = find((uintptr_t)p, false);
	if (!a || a->k != DEVICE)
		LEAVE(CUDA_ERROR_INVALID_VALUE);	/* only whole allocations can be exported */
	memcpy(handle, &p, sizeof p);
	LEAVE(0);
}

API CUresult cuGetErrorString(CUresult e, const char **s) { (void)e; *s = "fake CUDA error"; return 0; }

/* ---- cuGetProcAddress --------------------------------------------------------- */

struct entry { const char *name; void *plain, *ptds; int since; };
/* (the table's versions are simplified: every entry has had its present ABI since 3.2) */
#define E(n, f) { n, (void *)f, (void *)f, 3020 }
#define EP(n, f, g) { n, (void *)f, (void *)g, 3020 }
static const struct entry table[] = {
	E("cuInit", cuInit), E("cuDriverGetVersion", cuDriverGetVersion),
	E("cuDeviceGetCount", cuDeviceGetCount), E("cuDeviceGet", cuDeviceGet),
	E("cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain), E("cuCtxSetCurrent", cuCtxSetCurrent),
	E("cuCtxGetCurrent", cuCtxGetCurrent), E("cuCtxSynchronize", cuCtxSynchronize),
	E("cuDevicePrimaryCtxReset", cuDevicePrimaryCtxReset_v2), E("cuDevicePrimaryCtxRelease", cuDevicePrimaryCtxRelease_v2),
	E("cuMemAlloc", cuMemAlloc_v2), E("cuMemFree", cuMemFree_v2), E("cuMemAllocHost", cuMemAllocHost_v2),
	E("cuMemHostAlloc", cuMemHostAlloc), E("cuMemFreeHost", cuMemFreeHost),
	E("cuMemHostRegister", cuMemHostRegister_v2), E("cuMemHostUnregister", cuMemHostUnregister),
	EP("cuMemcpyHtoD", cuMemcpyHtoD_v2, cuMemcpyHtoD_v2_ptds),
	EP("cuMemcpyDtoH", cuMemcpyDtoH_v2, cuMemcpyDtoH_v2_ptds), E("cuMemcpyDtoD", cuMemcpyDtoD_v2),
	EP("cuMemcpyHtoDAsync", cuMemcpyHtoDAsync_v2, cuMemcpyHtoDAsync_v2_ptsz),
	EP("cuMemcpyDtoHAsync", cuMemcpyDtoHAsync_v2, cuMemcpyDtoHAsync_v2_ptsz),
	E("cuMemcpy2D", cuMemcpy2D_v2), EP("cuMemcpy2DAsync", cuMemcpy2DAsync_v2, cuMemcpy2DAsync_v2_ptsz),
	E("cuMemsetD8Async", cuMemsetD8Async),
	E("cuStreamCreate", cuStreamCreate), E("cuStreamDestroy", cuStreamDestroy_v2),
	EP("cuStreamSynchronize", cuStreamSynchronize, cuStreamSynchronize_ptsz),
	E("cuEventCreate", cuEventCreate), E("cuEventDestroy", cuEventDestroy_v2),
	EP("cuEventRecord", cuEventRecord, cuEventRecord_ptsz), E("cuEventQuery", cuEventQuery),
	E("cuEventSynchronize", cuEventSynchronize), E("cuMemGetAddressRange", cuMemGetAddressRange_v2),
	E("cuPointerGetAttribute", cuPointerGetAttribute), E("cuMemGetInfo", cuMemGetInfo_v2),
	E("cuIpcGetMemHandle", cuIpcGetMemHandle), E("cuGetErrorString", cuGetErrorString),
	E("cuPointerGetAttributes", cuPointerGetAttributes),
	EP("cuMemAllocAsync", cuMemAllocAsync, cuMemAllocAsync_ptsz), EP("cuMemFreeAsync", cuMemFreeAsync, cuMemFreeAsync_ptsz),
	E("cuMemAllocManaged", cuMemAllocManaged), E("cuMemCreate", cuMemCreate), E("cuMemMap", cuMemMap),
};

API CUresult cuGetProcAddress_v2(const char *sym, void **pfn, int version, cuuint64_t flags, int *status);

static CUresult lookup(const char *sym, void **pfn, int version, cuuint64_t flags, int *status)
{
	*pfn = NULL;
	if (!strcmp(sym, "cuGetProcAddress")) {
		*pfn = (void *)cuGetProcAddress_v2;
		return 0;
	}
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		if (strcmp(table[i].name, sym))
			continue;
		if (version < table[i].since) {
			if (status)
				*status = 2;
			return CUDA_ERROR_NOT_FOUND;
		}
		*pfn = (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) ? table[i].ptds : table[i].plain;
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
