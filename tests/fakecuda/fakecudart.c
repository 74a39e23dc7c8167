/* fakecudart.c: a fake libcudart.so.13 for the tests, never installed. Its symbols
 * carry the version libcudart.so.13 (fakecudart.map), as the real runtime's do. Like
 * the real runtime it reaches the driver only through cuGetProcAddress_v2, found
 * with one dlsym on a dlopen of libcuda.so.1, so it exercises the same hook layers
 * that a program linked with -cudart shared does. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "preload/cuda/defs.h"

#define API __attribute__((visibility("default")))

static struct {
	CUresult (*init)(unsigned);
	CUresult (*alloc)(CUdeviceptr *, size_t);
	CUresult (*free_)(CUdeviceptr);
	CUresult (*alloc_host)(void **, size_t);
	CUresult (*host_alloc)(void **, size_t, unsigned);
	CUresult (*free_host)(void *);
	CUresult (*register_)(void *, size_t, unsigned);
	CUresult (*unregister)(void *);
	CUresult (*htod)(CUdeviceptr, const void *, size_t);
	CUresult (*dtoh)(void *, CUdeviceptr, size_t);
	CUresult (*dtod)(CUdeviceptr, CUdeviceptr, size_t);
	CUresult (*htod_async)(CUdeviceptr, const void *, size_t, CUstream);
	CUresult (*dtoh_async)(void *, CUdeviceptr, size_t, CUstream);
	CUresult (*copy2d)(const CUDA_MEMCPY2D *);
	CUresult (*copy2d_async)(const CUDA_MEMCPY2D *, CUstream);
	CUresult (*stream_create)(CUstream *, unsigned);
	CUresult (*stream_sync)(CUstream);
	CUresult (*ctx_sync)(void);
	CUresult (*range)(CUdeviceptr *, size_t *, CUdeviceptr);
	CUresult (*mem_info)(size_t *, size_t *);
	CUresult (*reset)(CUdevice);
	CUresult (*retain)(CUcontext *, CUdevice);
	CUresult (*alloc_async)(CUdeviceptr *, size_t, CUstream);
	CUresult (*free_async)(CUdeviceptr, CUstream);
	CUresult (*memset8)(CUdeviceptr, unsigned char, size_t);
	CUresult (*set_current)(CUcontext);
} drv;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static cudaError_t init_error;

static void start(void)
{
	void *h = dlopen("libcuda.so.1", RTLD_NOW);
	CUresult (*gpa)(const char *, void **, int, cuuint64_t, int *);
	const char *ptsz = getenv("FAKECUDART_PTSZ");	/* the per-thread default stream variants */
	cuuint64_t flags = ptsz ? CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM : 0;

	if (!h || !(*(void **)&gpa = dlsym(h, "cuGetProcAddress_v2"))) {
		init_error = 35;	/* cudaErrorInsufficientDriver */
		return;
	}
#define GET(f, name) gpa(name, (void **)&drv.f, 13000, flags, NULL)
	GET(init, "cuInit"); GET(alloc, "cuMemAlloc"); GET(free_, "cuMemFree");
	GET(alloc_host, "cuMemAllocHost"); GET(host_alloc, "cuMemHostAlloc"); GET(free_host, "cuMemFreeHost");
	GET(register_, "cuMemHostRegister"); GET(unregister, "cuMemHostUnregister");
	GET(htod, "cuMemcpyHtoD"); GET(dtoh, "cuMemcpyDtoH"); GET(dtod, "cuMemcpyDtoD");
	GET(htod_async, "cuMemcpyHtoDAsync"); GET(dtoh_async, "cuMemcpyDtoHAsync");
	GET(copy2d, "cuMemcpy2D"); GET(copy2d_async, "cuMemcpy2DAsync");
	GET(stream_create, "cuStreamCreate"); GET(stream_sync, "cuStreamSynchronize");
	GET(ctx_sync, "cuCtxSynchronize"); GET(range, "cuMemGetAddressRange"); GET(mem_info, "cuMemGetInfo");
	GET(reset, "cuDevicePrimaryCtxReset");
	GET(retain, "cuDevicePrimaryCtxRetain"); GET(alloc_async, "cuMemAllocAsync"); GET(free_async, "cuMemFreeAsync");
	GET(memset8, "cuMemsetD8"); GET(set_current, "cuCtxSetCurrent");
	/* as the runtime does: device 0's primary context, retained and made current */
	CUcontext c;
	if (!drv.init || drv.init(0) != 0 || drv.retain(&c, 0) != 0 || drv.set_current(c) != 0)
		init_error = 100;	/* cudaErrorNoDevice */
}

#define READY() do { pthread_once(&once, start); if (init_error) return init_error; } while (0)
#define RT(call) ((call) == 0 ? cudaSuccess : cudaErrorMemoryAllocation)

API cudaError_t cudaGetDeviceCount(int *n) { pthread_once(&once, start); *n = init_error ? 0 : 1; return init_error; }
API cudaError_t cudaMalloc(void **p, size_t n) { READY(); return RT(drv.alloc((CUdeviceptr *)p, n)); }
API cudaError_t cudaFree(void *p) { READY(); return p ? RT(drv.free_((CUdeviceptr)(uintptr_t)p)) : 0; }
API cudaError_t cudaMallocHost(void **p, size_t n) { READY(); return RT(drv.alloc_host(p, n)); }
API cudaError_t cudaHostAlloc(void **p, size_t n, unsigned f) { READY(); return RT(drv.host_alloc(p, n, f)); }
API cudaError_t cudaFreeHost(void *p) { READY(); return RT(drv.free_host(p)); }
API cudaError_t cudaHostRegister(void *p, size_t n, unsigned f) { READY(); return drv.register_(p, n, f); }
API cudaError_t cudaHostUnregister(void *p) { READY(); return drv.unregister(p); }
API cudaError_t cudaStreamCreate(cudaStream_t *s) { READY(); return drv.stream_create(s, 0); }
API cudaError_t cudaStreamSynchronize(cudaStream_t s) { READY(); return drv.stream_sync(s); }
API cudaError_t cudaDeviceSynchronize(void) { READY(); return drv.ctx_sync(); }
API cudaError_t cudaMemset(void *p, int c, size_t n)
{
	READY();
	return drv.memset8((CUdeviceptr)(uintptr_t)p, (unsigned char)c, n) ? cudaErrorInvalidValue : 0;
}
API cudaError_t cudaDeviceReset(void) { READY(); return drv.reset(0); }
API cudaError_t cudaMemGetInfo(size_t *f, size_t *t) { READY(); return drv.mem_info(f, t); }
API cudaError_t cudaMallocAsync(void **p, size_t n, cudaStream_t s) { READY(); return RT(drv.alloc_async((CUdeviceptr *)p, n, s)); }
API cudaError_t cudaFreeAsync(void *p, cudaStream_t s) { READY(); return drv.free_async((CUdeviceptr)(uintptr_t)p, s) ? cudaErrorInvalidValue : 0; }

static enum cudaMemcpyKind kind_of(enum cudaMemcpyKind k, const void *dst, const void *src)
{
	CUdeviceptr b;
	if (k != cudaMemcpyDefault)
		return k;
	bool d = drv.range(&b, NULL, (CUdeviceptr)(uintptr_t)dst) == 0;
	bool s = drv.range(&b, NULL, (CUdeviceptr)(uintptr_t)src) == 0;
	return d && s ? cudaMemcpyDeviceToDevice : d ? cudaMemcpyHostToDevice : s ? cudaMemcpyDeviceToHost
		      : cudaMemcpyHostToHost;
}

API cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, enum cudaMemcpyKind k)
{
	READY();
	switch (kind_of(k, dst, src)) {
	case cudaMemcpyHostToDevice: return drv.htod((CUdeviceptr)(uintptr_t)dst, src, n);
	case cudaMemcpyDeviceToHost: return drv.dtoh(dst, (CUdeviceptr)(uintptr_t)src, n);
	case cudaMemcpyDeviceToDevice: return drv.dtod((CUdeviceptr)(uintptr_t)dst, (CUdeviceptr)(uintptr_t)src, n);
	default: memmove(dst, src, n); return 0;
	}
}

API cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, enum cudaMemcpyKind k, cudaStream_t s)
{
	READY();
	switch (kind_of(k, dst, src)) {
	case cudaMemcpyHostToDevice: return drv.htod_async((CUdeviceptr)(uintptr_t)dst, src, n, s);
	case cudaMemcpyDeviceToHost: return drv.dtoh_async(dst, (CUdeviceptr)(uintptr_t)src, n, s);
	default: return cudaMemcpy(dst, src, n, k);
	}
}

static void params2d(CUDA_MEMCPY2D *c, void *dst, size_t dp, const void *src, size_t sp, size_t w, size_t h,
		     enum cudaMemcpyKind k)
{
	memset(c, 0, sizeof *c);
	k = kind_of(k, dst, src);
	c->srcMemoryType = k == cudaMemcpyDeviceToHost || k == cudaMemcpyDeviceToDevice ? CU_MEMORYTYPE_DEVICE : CU_MEMORYTYPE_HOST;
	c->dstMemoryType = k == cudaMemcpyHostToDevice || k == cudaMemcpyDeviceToDevice ? CU_MEMORYTYPE_DEVICE : CU_MEMORYTYPE_HOST;
	c->srcHost = src;
	c->srcDevice = (CUdeviceptr)(uintptr_t)src;
	c->dstHost = dst;
	c->dstDevice = (CUdeviceptr)(uintptr_t)dst;
	c->srcPitch = sp;
	c->dstPitch = dp;
	c->WidthInBytes = w;
	c->Height = h;
}

API cudaError_t cudaMemcpy2D(void *dst, size_t dp, const void *src, size_t sp, size_t w, size_t h, enum cudaMemcpyKind k)
{
	CUDA_MEMCPY2D c;
	READY();
	params2d(&c, dst, dp, src, sp, w, h, k);
	return drv.copy2d(&c);
}

API cudaError_t cudaMemcpy2DAsync(void *dst, size_t dp, const void *src, size_t sp, size_t w, size_t h,
				  enum cudaMemcpyKind k, cudaStream_t s)
{
	CUDA_MEMCPY2D c;
	READY();
	params2d(&c, dst, dp, src, sp, w, h, k);
	return drv.copy2d_async(&c, s);
}

API const char *cudaGetErrorString(cudaError_t e) { (void)e; return "fake cudart error"; }

/* What nvcc's generated code calls at start-up, so that -cudart shared programs load. */
API void **__cudaRegisterFatBinary(void *fatbin) { (void)fatbin; static void *h; return &h; }
API void __cudaRegisterFatBinaryEnd(void **h) { (void)h; }
API void __cudaUnregisterFatBinary(void **h) { (void)h; }
API void __cudaRegisterFunction(void **h, const char *f, char *d, const char *n, int t, void *a, void *b, void *c,
				void *e, int *s) { (void)h; (void)f; (void)d; (void)n; (void)t; (void)a; (void)b; (void)c; (void)e; (void)s; }
API void __cudaInitModule(void **h) { (void)h; }
API unsigned __cudaPushCallConfiguration(void *grid, void *block, size_t shmem, void *stream)
{ (void)grid; (void)block; (void)shmem; (void)stream; return 0; }
API cudaError_t __cudaPopCallConfiguration(void *grid, void *block, size_t *shmem, void *stream)
{ (void)grid; (void)block; (void)shmem; (void)stream; return 0; }
API cudaError_t __cudaGetKernel(void **k, const void *f) { (void)f; *k = NULL; return 0; }
API cudaError_t __cudaLaunchKernel(const void *f, void *grid, void *block, void **args, size_t shmem, void *stream)
{ (void)f; (void)grid; (void)block; (void)args; (void)shmem; (void)stream; return 98; /* no kernels here */ }
API cudaError_t cudaLaunchKernel(const void *f, void *grid, void *block, void **args, size_t shmem, void *stream)
{ (void)f; (void)grid; (void)block; (void)args; (void)shmem; (void)stream; return 98; }
API void __cudaRegisterVar(void **h, char *hv, char *dv, const char *n, int ext, size_t sz, int c, int g)
{ (void)h; (void)hv; (void)dv; (void)n; (void)ext; (void)sz; (void)c; (void)g; }
