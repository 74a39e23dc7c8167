/* t_ctx: what a program sees of the driver, on every context, stream, capture and
 * teardown. It reaches the driver as FFmpeg does (dlopen + dlsym) and prints, for each
 * step, the codes the driver returned and a checksum of the bytes it got back. Run
 * once without hmo and once with it, the two outputs must be the same: a program must
 * not be able to tell that hmo is there. Checks that only make sense as invariants
 * (nothing handed out twice, no block reused under queued work) fail with exit 1.
 *
 *   t_ctx twoctx     copies (1D and 2D, sync and on the NULL stream and a stream)
 *                    alternating between two contexts, as an FFmpeg graph with two
 *                    hardware devices does
 *   t_ctx release    primary context retained twice: a release that only drops the
 *                    count keeps everything; the last one and a retain again start
 *                    afresh; then a reset; three rounds
 *   t_ctx destroy    a context made with cuCtxCreate, used and destroyed, twice (its
 *                    handle may come back for the next one)
 *   t_ctx freeother  a block freed while another context (or none) is current, with
 *                    work still queued on its own context's stream
 *   t_ctx double     a second free of a block, a free of an interior pointer
 *   t_ctx capture    pageable copies into a stream being captured: a stream, and the
 *                    per-thread default stream; a synchronous copy during capture
 *   t_ctx hostfn     a host function that waits for another thread's allocation
 *                    while this thread frees a block
 *   t_ctx meminfo    cuMemGetInfo after freeing: freed memory counts as free
 *   t_ctx oom        out of memory on every allocation route, with freed blocks
 *   t_ctx ipc        an export through an interior pointer
 *   t_ctx sizes      2D pitches smaller than the width, sizes near SIZE_MAX
 *   t_ctx reload     libcuda closed and opened again at another address
 *   t_ctx fork       a child forked after blocks were freed: the driver refuses it
 *   t_ctx capalloc   allocations and frees while a capture is under way, in each mode
 *   t_ctx sticky     a sticky error on the context: every allocation reports it
 *   t_ctx capthread  one thread captures a stream (each mode) while another copies
 *                    pageable memory on its per-thread default stream
 *   t_ctx freeasync  a block from cuMemAlloc freed with cuMemFreeAsync, then freed again
 *   t_ctx threads    four threads allocating, exporting, checking and freeing blocks of
 *                    one size at once (with HMO_CUDA_POOL_MAX=0 every free gives the
 *                    cache back): nothing is handed to two owners, nothing hangs
 *   t_ctx hostwrite  a host function queued on the legacy stream writes the source of
 *                    a synchronous upload: the upload waits for it, as the driver's
 *   t_ctx register   the program registers and unregisters part of a large buffer
 *                    that hmo's frame pool handed out, after copying it many times */
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "preload/cuda/defs.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "t_ctx: %s:%d: %s\n", __FILE__, __LINE__, #c); exit(1); } } while (0)

static void *lib;
static struct {
	CUresult (*init)(unsigned);
	CUresult (*count_devices)(int *);
	CUresult (*retain)(CUcontext *, CUdevice);
	CUresult (*release)(CUdevice);
	CUresult (*reset)(CUdevice);
	CUresult (*create)(CUcontext *, unsigned, CUdevice);
	CUresult (*destroy)(CUcontext);
	CUresult (*push)(CUcontext);
	CUresult (*pop)(CUcontext *);
	CUresult (*set)(CUcontext);
	CUresult (*alloc)(CUdeviceptr *, size_t);
	CUresult (*free_)(CUdeviceptr);
	CUresult (*pitch)(CUdeviceptr *, size_t *, size_t, size_t, unsigned);
	CUresult (*htod)(CUdeviceptr, const void *, size_t);
	CUresult (*dtoh)(void *, CUdeviceptr, size_t);
	CUresult (*htod_async)(CUdeviceptr, const void *, size_t, CUstream);
	CUresult (*htod_async_pt)(CUdeviceptr, const void *, size_t, CUstream);
	CUresult (*htod_pt)(CUdeviceptr, const void *, size_t);
	CUresult (*dtoh_async)(void *, CUdeviceptr, size_t, CUstream);
	CUresult (*copy2d)(const CUDA_MEMCPY2D *);
	CUresult (*copy2d_async)(const CUDA_MEMCPY2D *, CUstream);
	CUresult (*stream_create)(CUstream *, unsigned);
	CUresult (*stream_sync)(CUstream);
	CUresult (*stream_sync_pt)(CUstream);
	CUresult (*begin)(CUstream, int);
	CUresult (*begin_pt)(CUstream, int);
	CUresult (*end)(CUstream, void **);
	CUresult (*end_pt)(CUstream, void **);
	CUresult (*instantiate)(void **, void *, unsigned long long);
	CUresult (*launch)(void *, CUstream);
	CUresult (*host_func)(CUstream, void (*)(void *), void *);
	CUresult (*stream_query)(CUstream);
	CUresult (*alloc_host)(void **, size_t);
	CUresult (*free_host)(void *);
	CUresult (*memset_async)(CUdeviceptr, unsigned char, size_t, CUstream);
	CUresult (*mem_info)(size_t *, size_t *);
	CUresult (*alloc_async)(CUdeviceptr *, size_t, CUstream);
	CUresult (*free_async)(CUdeviceptr, CUstream);
	CUresult (*managed)(CUdeviceptr *, size_t, unsigned);
	CUresult (*create_mem)(unsigned long long *, size_t, const void *, unsigned long long);
	CUresult (*release_mem)(unsigned long long);
	CUresult (*ipc)(void *, CUdeviceptr);
	CUresult (*host_register)(void *, size_t, unsigned);
	CUresult (*host_unregister)(void *);
	void (*sticky)(int);
	unsigned long (*count)(const char *);
	int (*is_live)(CUdeviceptr);
	int (*exported)(CUdeviceptr);
} d;

static void load(void)
{
	lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	CHECK(lib);
#define L(f, name) CHECK((*(void **)&d.f = dlsym(lib, name)) != NULL)
	L(init, "cuInit"); L(count_devices, "cuDeviceGetCount"); L(retain, "cuDevicePrimaryCtxRetain"); L(release, "cuDevicePrimaryCtxRelease");
	L(reset, "cuDevicePrimaryCtxReset"); L(create, "cuCtxCreate_v2"); L(destroy, "cuCtxDestroy_v2");
	L(push, "cuCtxPushCurrent_v2"); L(pop, "cuCtxPopCurrent_v2"); L(set, "cuCtxSetCurrent");
	L(alloc, "cuMemAlloc_v2"); L(free_, "cuMemFree_v2"); L(pitch, "cuMemAllocPitch_v2");
	L(htod, "cuMemcpyHtoD_v2"); L(dtoh, "cuMemcpyDtoH_v2"); L(htod_async, "cuMemcpyHtoDAsync_v2");
	L(htod_async_pt, "cuMemcpyHtoDAsync_v2_ptsz"); L(htod_pt, "cuMemcpyHtoD_v2_ptds"); L(dtoh_async, "cuMemcpyDtoHAsync_v2");
	L(copy2d, "cuMemcpy2D_v2"); L(copy2d_async, "cuMemcpy2DAsync_v2");
	L(stream_create, "cuStreamCreate"); L(stream_sync, "cuStreamSynchronize");
	L(stream_sync_pt, "cuStreamSynchronize_ptsz");
	L(begin, "cuStreamBeginCapture_v2"); L(begin_pt, "cuStreamBeginCapture_v2_ptsz");
	L(end, "cuStreamEndCapture"); L(end_pt, "cuStreamEndCapture_ptsz");
	L(instantiate, "cuGraphInstantiateWithFlags"); L(launch, "cuGraphLaunch");
	L(host_func, "cuLaunchHostFunc"); L(stream_query, "cuStreamQuery"); L(alloc_host, "cuMemAllocHost_v2"); L(free_host, "cuMemFreeHost");
	L(memset_async, "cuMemsetD8Async"); L(mem_info, "cuMemGetInfo_v2"); L(alloc_async, "cuMemAllocAsync"); L(free_async, "cuMemFreeAsync");
	L(managed, "cuMemAllocManaged"); L(create_mem, "cuMemCreate"); L(release_mem, "cuMemRelease");
	L(ipc, "cuIpcGetMemHandle"); L(host_register, "cuMemHostRegister_v2"); L(host_unregister, "cuMemHostUnregister");
	/* the fake's own: NULL on the real driver (scripts/gpu-check), where the checks
	 * that need them are left out */
	*(void **)&d.count = dlsym(lib, "fakecuda_count");
	*(void **)&d.is_live = dlsym(lib, "fakecuda_is_live");
	*(void **)&d.exported = dlsym(lib, "fakecuda_exported");
	*(void **)&d.sticky = dlsym(lib, "fakecuda_sticky");
#undef L
}

/* Bytes with no period a chunk size could hide. */
static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(((uint64_t)(i + 1 + seed) * 0x9E3779B97F4A7C15ull) >> 56);
}

static uint64_t sum(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* Pinned allocations the driver has made (the fake counts them; 0 elsewhere). */
static unsigned long pinned_count(void)
{
	return d.count ? d.count("cuMemHostAlloc") + d.count("cuMemAllocHost_v2") : 0;
}

static CUcontext primary(void)
{
	CUcontext c;
	CHECK(d.init(0) == 0 && d.retain(&c, 0) == 0 && d.set(c) == 0);
	return c;
}

/* A frame copied up and back down on stream s of the current context: 1D, then 2D
 * at odd pitches (an NV12-sized plane), as hwupload/hwdownload do. */
static void roundtrip(const char *tag, CUstream s, unsigned seed)
{
	const size_t w = 1922, h = 1083, hp = 1931, dp = 2048, n = 2000000;
	unsigned char *src = malloc(hp * h), *back = calloc(hp, h);
	CUdeviceptr dev;
	CUresult r1, r2, r3, r4, r5;

	fill(src, hp * h, seed);
	r1 = d.alloc(&dev, dp * h);
	r2 = d.htod_async(dev, src, n, s);
	r3 = d.dtoh_async(back, dev, n, s);
	if (s)
		d.stream_sync(s);
	uint64_t a = sum(back, n);
	CUDA_MEMCPY2D up = { .srcMemoryType = CU_MEMORYTYPE_HOST, .srcHost = src, .srcPitch = hp,
			     .dstMemoryType = CU_MEMORYTYPE_DEVICE, .dstDevice = dev, .dstPitch = dp,
			     .WidthInBytes = w, .Height = h };
	CUDA_MEMCPY2D down = { .srcMemoryType = CU_MEMORYTYPE_DEVICE, .srcDevice = dev, .srcPitch = dp,
			       .dstMemoryType = CU_MEMORYTYPE_HOST, .dstHost = back, .dstPitch = hp,
			       .WidthInBytes = w, .Height = h };
	memset(back, 0, hp * h);
	r4 = d.copy2d_async(&up, s);
	memset(src, 0x5a, hp * h);	/* a pageable source is free again on return */
	r5 = d.copy2d_async(&down, s);
	CUresult r6 = d.stream_sync(s);
	uint64_t b = 0;
	for (size_t y = 0; y < h; y++)
		b = b * 31 + sum(back + y * hp, w);
	printf("%s: rc %d %d %d %d %d %d sums %016llx %016llx\n", tag, r1, r2, r3, r4, r5, r6,
	       (unsigned long long)a, (unsigned long long)b);
	printf("%s: free %d\n", tag, d.free_(dev));
	free(src);
	free(back);
}

static void twoctx(void)
{
	CUcontext a = primary(), b;
	CUstream sa, sb;
	int ndev = 0;

	/* on the second device when there is one (FAKECUDA_DEVICES=2) */
	CHECK(d.count_devices(&ndev) == 0 && ndev >= 1);
	CHECK(d.create(&b, 0, ndev - 1) == 0);	/* pushed: current */
	CHECK(d.stream_create(&sb, 0) == 0);
	CHECK(d.pop(NULL) == 0);
	CHECK(d.stream_create(&sa, 0) == 0);
	for (int i = 0; i < 3; i++) {
		CHECK(d.push(a) == 0);
		roundtrip("A null", NULL, (unsigned)i);
		roundtrip("A stream", sa, (unsigned)i + 10);
		CHECK(d.pop(NULL) == 0);
		CHECK(d.push(b) == 0);
		roundtrip("B null", NULL, (unsigned)i + 20);
		roundtrip("B stream", sb, (unsigned)i + 30);
		CHECK(d.pop(NULL) == 0);
	}
	printf("destroy B %d\n", d.destroy(b));
	roundtrip("A after", NULL, 99);
}

static void release(void)
{
	for (int round = 0; round < 3; round++) {
		CUcontext c, c2;
		CHECK(d.init(0) == 0 && d.retain(&c, 0) == 0 && d.retain(&c2, 0) == 0 && d.set(c) == 0);
		roundtrip("first", NULL, 1);
		printf("release (count only) %d\n", d.release(0));
		roundtrip("second", NULL, 2);
		unsigned long pinned = pinned_count();
		roundtrip("third", NULL, 3);
		/* nothing is pinned again while the context lives */
		CHECK(pinned_count() == pinned);
		if (round == 2) {
			printf("reset %d\n", d.reset(0));
			CHECK(d.retain(&c, 0) == 0 && d.set(c) == 0);
			roundtrip("after reset", NULL, 4);
			printf("release %d\n", d.release(0));
		}
		printf("release (last) %d\n", d.release(0));
	}
	/* every pinned chunk hmo made in a context that lived on was given back by it, or
	 * went with its context: no more allocations than frees plus contexts' ends */
	printf("released\n");
}

static void destroy(void)
{
	primary();
	roundtrip("primary", NULL, 6);
	for (int i = 0; i < 3; i++) {
		CUcontext c;
		CHECK(d.create(&c, 0, 0) == 0);
		roundtrip("created", NULL, (unsigned)i);
		CUstream s;
		CHECK(d.stream_create(&s, 0) == 0);
		roundtrip("created stream", s, (unsigned)i + 5);
		printf("destroy %d\n", d.destroy(c));
	}
	/* what was kept for the primary context stays: nothing is pinned again for it */
	unsigned long pinned = pinned_count();
	roundtrip("primary", NULL, 7);
	CHECK(pinned_count() == pinned);
}

/* A gate for a stream: a host function that holds the stream until another thread
 * opens it (200 ms after open_later), 10 s at most. It works the same on the fake and
 * on a GPU, where it stands for a long-running kernel. */
static volatile int gate;

static void gate_fn(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000 && !__atomic_load_n(&gate, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
}

static void *opener(void *arg)
{
	(void)arg;
	usleep(200000);
	__atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void freeother(void)
{
	CUcontext a = primary(), b;
	const size_t n = 4 << 20;
	unsigned char *pin;

	CHECK(d.create(&b, 0, 0) == 0 && d.pop(NULL) == 0);
	CHECK(d.alloc_host((void **)&pin, n) == 0);
	/* a blocking stream first (hmo guards the free with an event), then a
	 * non-blocking one (hmo synchronises the block's context) */
	for (int k = 0; k < 2; k++) {
		CUdeviceptr x, y;
		CUstream s;
		pthread_t t;
		CHECK(d.stream_create(&s, k ? 1 : 0) == 0);
		CHECK(d.alloc(&x, n) == 0);
		fill(pin, n, 3);
		__atomic_store_n(&gate, 0, __ATOMIC_RELEASE);
		CHECK(d.host_func(s, gate_fn, NULL) == 0);
		CHECK(d.htod_async(x, pin, n, s) == 0);	/* queued behind the gate */
		CHECK(pthread_create(&t, NULL, opener, NULL) == 0);
		if (k == 0) {
			CHECK(d.push(b) == 0);	/* another context current */
			printf("free under B %d\n", d.free_(x));
			CHECK(d.pop(NULL) == 0);
		} else {
			CHECK(d.set(NULL) == 0);	/* none current */
			printf("free under none %d\n", d.free_(x));
			CHECK(d.set(a) == 0);
		}
		CHECK(d.alloc(&y, n) == 0);
		/* never reused under work queued before the free */
		CHECK(y != x || (__atomic_load_n(&gate, __ATOMIC_ACQUIRE) && d.stream_query(s) == 0));
		CHECK(d.stream_sync(s) == 0 && pthread_join(t, NULL) == 0);
		CHECK(d.free_(y) == 0);
	}
	printf("freeother ok\n");
}

static void double_free(void)
{
	CUdeviceptr x, y, z;

	primary();
	CHECK(d.alloc(&x, 3 << 20) == 0);
	printf("free %d\n", d.free_(x));
	printf("free again %d\n", d.free_(x));
	CHECK(d.alloc(&y, 3 << 20) == 0 && d.alloc(&z, 3 << 20) == 0);
	CHECK(y != z && (!d.is_live || (d.is_live(y) && d.is_live(z))));	/* nothing handed out twice */
	printf("interior free %d\n", d.free_(y + 4096));
	printf("free %d %d\n", d.free_(y), d.free_(z));
	printf("free unknown %d\n", d.free_(0x1234000));
}

static void capture(void)
{
	const size_t n = 6 << 20;
	unsigned char *src = malloc(n), *back = malloc(n);
	CUdeviceptr dev;
	CUstream s;
	void *g = NULL, *x = NULL;

	primary();
	CHECK(d.alloc(&dev, n) == 0 && d.stream_create(&s, 0) == 0);
	for (int pt = 0; pt < 2; pt++) {
		CUstream cs = pt ? NULL : s;
		fill(src, n, 40 + (unsigned)pt);
		CHECK(d.htod(dev, src, n) == 0);
		printf("begin %d\n", pt ? d.begin_pt((CUstream)2, 0) : d.begin(s, 1 /* thread-local */));
		fill(src, n, 50 + (unsigned)pt);
		printf("copy in capture %d\n", pt ? d.htod_async_pt(dev, src, n, cs) : d.htod_async(dev, src, n, cs));
		printf("end %d\n", pt ? d.end_pt((CUstream)2, &g) : d.end(s, &g));
		/* nothing ran: the device still holds the bytes from before the capture */
		memset(back, 0, n);
		printf("read %d\n", d.dtoh(back, dev, n));
		printf("before launch %016llx\n", (unsigned long long)sum(back, n));
		if (g) {
			CHECK(d.instantiate(&x, g, 0) == 0);
			fill(src, n, 60 + (unsigned)pt);	/* the graph reads the source when it runs */
			printf("launch %d sync %d\n", d.launch(x, s), d.stream_sync(s));
			memset(back, 0, n);
			printf("read %d\n", d.dtoh(back, dev, n));
			printf("after launch %016llx\n", (unsigned long long)sum(back, n));
		}
	}
	/* a synchronous copy while a stream captures: an implicit dependency */
	printf("begin %d\n", d.begin(s, 0));
	printf("sync copy in capture %d\n", d.htod(dev, src, n));
	printf("end %d\n", d.end(s, &g));
	printf("after %d\n", d.htod(dev, src, n));
	free(src);
	free(back);
}

static volatile int allocated;
static CUcontext shared_ctx;

static void *other_thread(void *arg)
{
	CUdeviceptr p;
	(void)arg;
	usleep(100000);
	CHECK(d.push(shared_ctx) == 0);
	CHECK(d.alloc(&p, 1 << 20) == 0);
	__atomic_store_n(&allocated, 1, __ATOMIC_RELEASE);
	CHECK(d.free_(p) == 0);
	return NULL;
}

/* The stream's host function waits (10 s at most) for the other thread's allocation. */
static void wait_for_other(void *arg)
{
	int *timed_out = arg;
	for (int i = 0; i < 1000 && !__atomic_load_n(&allocated, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	*timed_out = !__atomic_load_n(&allocated, __ATOMIC_ACQUIRE);
}

static void hostfn(void)
{
	CUstream s;
	CUdeviceptr x;
	pthread_t t;
	int timed_out = -1;

	shared_ctx = primary();
	CHECK(d.stream_create(&s, 1 /* non-blocking */) == 0);
	CHECK(d.alloc(&x, 2 << 20) == 0);
	CHECK(d.host_func(s, wait_for_other, &timed_out) == 0);
	CHECK(pthread_create(&t, NULL, other_thread, NULL) == 0);
	printf("free %d\n", d.free_(x));
	CHECK(d.stream_sync(s) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	printf("host function %s\n", timed_out ? "timed out" : "finished");
}

static void meminfo(void)
{
	CUdeviceptr x[4];
	size_t f0, f1, t;

	primary();
	CHECK(d.mem_info(&f0, &t) == 0);
	for (int i = 0; i < 4; i++)
		CHECK(d.alloc(&x[i], 30 << 20) == 0);
	for (int i = 0; i < 4; i++)
		CHECK(d.free_(x[i]) == 0);
	CHECK(d.mem_info(&f1, &t) == 0);
	/* the difference, in 64 MiB units: a GPU's own use moves by less */
	printf("freed memory free again: %s (%lld x 64 MiB less)\n", f1 + (64 << 20) > f0 ? "yes" : "no",
	       (long long)((ptrdiff_t)(f0 - f1) / (64 << 20)));
}

/* FAKECUDA_MEM=64 MiB: 60 MiB freed in blocks, then 60 MiB by each route. */
static void oom(void)
{
	CUdeviceptr x[6], p;
	size_t pitch;
	unsigned long long h;

	primary();
	for (int route = 0; route < 5; route++) {
		for (int i = 0; i < 6; i++)
			CHECK(d.alloc(&x[i], 10 << 20) == 0);
		for (int i = 0; i < 6; i++)
			CHECK(d.free_(x[i]) == 0);
		CUresult rc;
		switch (route) {
		case 0: rc = d.alloc(&p, 60 << 20); if (!rc) d.free_(p); break;
		case 1: rc = d.alloc_async(&p, 60 << 20, NULL); if (!rc) d.free_(p); break;
		case 2: rc = d.managed(&p, 60 << 20, 1); if (!rc) d.free_(p); break;
		case 3: rc = d.create_mem(&h, 60 << 20, NULL, 0); if (!rc) d.release_mem(h); break;
		default: rc = d.pitch(&p, &pitch, 4096, 15360, 4); if (!rc) d.free_(p); break;
		}
		printf("route %d: %d\n", route, rc);
	}
}

static void ipc(void)
{
	CUdeviceptr x, y;
	char handle[64];

	primary();
	CHECK(d.alloc(&x, 3 << 20) == 0);
	printf("export %d\n", d.ipc(handle, x + 4096));
	printf("free %d\n", d.free_(x));
	CHECK(d.alloc(&y, 3 << 20) == 0);
	/* an exported block is never handed out again: the importer may still map it */
	if (d.exported)
		printf("new block exported: %d\n", d.exported(y));
	CHECK(d.free_(y) == 0);
}

static void sizes(void)
{
	const size_t w = 1024, h = 2048;
	unsigned char *src = calloc(w, h), *back = calloc(w, h);
	CUdeviceptr dev;

	primary();
	CHECK(d.alloc(&dev, w * h) == 0);
	CUDA_MEMCPY2D c = { .srcMemoryType = CU_MEMORYTYPE_HOST, .srcHost = src, .srcPitch = w - 1,
			    .dstMemoryType = CU_MEMORYTYPE_DEVICE, .dstDevice = dev, .dstPitch = w,
			    .WidthInBytes = w, .Height = h };
	printf("2d src pitch < width %d\n", d.copy2d(&c));
	printf("2d async src pitch < width %d\n", d.copy2d_async(&c, NULL));
	c = (CUDA_MEMCPY2D){ .srcMemoryType = CU_MEMORYTYPE_DEVICE, .srcDevice = dev, .srcPitch = w,
			     .dstMemoryType = CU_MEMORYTYPE_HOST, .dstHost = back, .dstPitch = w - 1,
			     .WidthInBytes = w, .Height = h };
	printf("2d dst pitch < width %d\n", d.copy2d(&c));
	c.dstPitch = w;
	c.Height = SIZE_MAX / w + 2;
	printf("2d height overflow %d\n", d.copy2d(&c));
	printf("htod SIZE_MAX %d\n", d.htod(dev, src, SIZE_MAX));
	printf("dtoh past the end %d\n", d.dtoh(back, dev, w * h + 4096));
	printf("htod past the end %d\n", d.htod(dev + 4096, src, w * h));
	CHECK(d.free_(dev) == 0);
}

static void reload(void)
{
	if (!d.count) {
		printf("reload: the fake's only\n");	/* the real libcuda may never unload */
		return;
	}
	for (int round = 0; round < 2; round++) {
		primary();
		roundtrip(round ? "second load" : "first load", NULL, (unsigned)round);
		Dl_info info;
		CHECK(dladdr((void *)d.count, &info) && info.dli_fbase);
		void *base = info.dli_fbase;
		CHECK(dlclose(lib) == 0);
		/* the old range taken, so that the next load lands elsewhere */
		void *block = mmap(base, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		load();
		CHECK(dladdr((void *)d.count, &info) && info.dli_fbase != base);
		if (block != MAP_FAILED)
			munmap(block, 4096);
	}
	primary();
	roundtrip("third load", NULL, 7);
	/* for ctx.sh: under hmo, its staging reached the library loaded last */
	fprintf(stderr, "pinned by the last load: %lu\n", d.count("cuMemHostAlloc"));
}

static void forked(void)
{
	CUdeviceptr x, y;
	void *h, *g;
	int status;
	CUstream s;

	primary();
	CHECK(d.stream_create(&s, 1 /* non-blocking: hmo's frees synchronise */) == 0);
	CHECK(d.alloc(&x, 3 << 20) == 0 && d.free_(x) == 0);
	CHECK(d.alloc_host(&h, 3 << 20) == 0 && d.free_host(h) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* the child's own codes, as its exit status: 10 * device + pinned */
		CUresult a = d.alloc(&y, 3 << 20), b = d.alloc_host(&g, 3 << 20);
		_exit(a * 10 + b);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	printf("child: device %d, pinned %d\n", WEXITSTATUS(status) / 10, WEXITSTATUS(status) % 10);
	CHECK(d.alloc(&y, 3 << 20) == 0 && d.free_(y) == 0);
}

static void capalloc(void)
{
	CUstream s;
	CUdeviceptr x, y;
	void *g = NULL;

	primary();
	CHECK(d.stream_create(&s, 0) == 0);
	for (int mode = 0; mode < 3; mode++) {
		CHECK(d.alloc(&x, 3 << 20) == 0);
		printf("mode %d: begin %d\n", mode, d.begin(s, mode));
		printf("mode %d: free %d\n", mode, d.free_(x));
		printf("mode %d: alloc %d\n", mode, d.alloc(&y, 3 << 20));
		printf("mode %d: end %d\n", mode, d.end(s, &g));
		printf("mode %d: frees after %d %d\n", mode, d.free_(x), d.free_(y));
	}
}

static void sticky(void)
{
	CUdeviceptr x, y;
	void *h;
	CUstream s;

	primary();
	CHECK(d.stream_create(&s, 1 /* non-blocking: hmo's frees synchronise */) == 0);
	CHECK(d.alloc(&x, 3 << 20) == 0 && d.free_(x) == 0);
	CHECK(d.alloc_host(&h, 3 << 20) == 0 && d.free_host(h) == 0);
	if (!d.sticky) {
		printf("sticky: the fake's only\n");
		return;
	}
	d.sticky(700);	/* CUDA_ERROR_ILLEGAL_ADDRESS */
	printf("alloc %d\n", d.alloc(&y, 3 << 20));
	printf("alloc host %d\n", d.alloc_host(&h, 3 << 20));
}

struct copier { CUcontext c; CUdeviceptr dev; unsigned char *src; size_t n; CUresult rc; };

static void *copy_elsewhere(void *arg)
{
	struct copier *k = arg;
	CHECK(d.push(k->c) == 0);
	k->rc = d.htod_pt(k->dev, k->src, k->n);
	CHECK(d.pop(NULL) == 0);
	return NULL;
}

static void capthread(void)
{
	const size_t n = 6 << 20;
	struct copier k = { .c = primary(), .src = malloc(n), .n = n };
	CUstream s;
	void *g = NULL;

	CHECK(k.src && d.alloc(&k.dev, n) == 0 && d.stream_create(&s, 0) == 0);
	fill(k.src, n, 1);
	for (int mode = 0; mode < 3; mode++) {
		pthread_t t;
		printf("mode %d: begin %d\n", mode, d.begin(s, mode));
		CHECK(pthread_create(&t, NULL, copy_elsewhere, &k) == 0 && pthread_join(t, NULL) == 0);
		printf("mode %d: the other thread's copy %d\n", mode, k.rc);
		printf("mode %d: end %d\n", mode, d.end(s, &g));
	}
	CHECK(d.free_(k.dev) == 0);
	free(k.src);
}

static void freeasync(void)
{
	CUdeviceptr x, y;
	unsigned char *src = malloc(3 << 20), *back = malloc(3 << 20);

	primary();
	CHECK(src && back && d.alloc(&x, 3 << 20) == 0);
	printf("free async %d\n", d.free_async(x, NULL));
	printf("sync %d\n", d.stream_sync(NULL));
	printf("free async again %d\n", d.free_async(x, NULL));
	printf("free %d\n", d.free_(x));
	CHECK(d.alloc(&y, 3 << 20) == 0);
	fill(src, 3 << 20, 4);
	printf("copies %d %d\n", d.htod(y, src, 3 << 20), d.dtoh(back, y, 3 << 20));
	printf("sum %016llx\n", (unsigned long long)sum(back, 3 << 20));
	printf("free %d\n", d.free_(y));
	free(src);
	free(back);
}

static CUcontext threads_ctx;

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg, bad = 0;
	unsigned char pat[4096], back[4096];
	char handle[64];

	CHECK(d.push(threads_ctx) == 0);
	for (int i = 0; i < 1500; i++) {
		CUdeviceptr x;
		CHECK(d.alloc(&x, 64 << 10) == 0);
		if ((i + id) % 2)
			CHECK(d.ipc(handle, x + 64) == 0);	/* its free is real */
		memset(pat, (int)(id * 37 + (unsigned)i), sizeof pat);
		CHECK(d.htod(x, pat, sizeof pat) == 0);
		sched_yield();
		CHECK(d.dtoh(back, x, sizeof back) == 0);
		bad += memcmp(pat, back, sizeof pat) != 0;	/* another owner wrote it */
		CHECK(d.free_(x) == 0);
	}
	CHECK(d.pop(NULL) == 0);
	return (void *)(uintptr_t)bad;
}

static void threads(void)
{
	pthread_t t[4];
	uintptr_t bad = 0;

	threads_ctx = primary();
	for (uintptr_t i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
	for (int i = 0; i < 4; i++) {
		void *r;
		CHECK(pthread_join(t[i], &r) == 0);
		bad += (uintptr_t)r;
	}
	printf("threads: %lu blocks with another owner's bytes\n", (unsigned long)bad);
}

struct fill_job { unsigned char *p; size_t n; };

static void fill_later(void *arg)
{
	struct fill_job *f = arg;
	fill(f->p, f->n, 77);
}

static void hostwrite(void)
{
	const size_t n = 6 << 20;
	unsigned char *src = malloc(n), *back = malloc(n);
	struct fill_job f = { src, n };
	CUdeviceptr dev;

	primary();
	CHECK(src && back && d.alloc(&dev, n) == 0);
	fill(src, n, 1);
	CHECK(d.host_func(NULL, fill_later, &f) == 0);	/* runs before what follows it */
	printf("upload %d\n", d.htod(dev, src, n));
	printf("download %d\n", d.dtoh(back, dev, n));
	printf("sum %016llx\n", (unsigned long long)sum(back, n));
	CHECK(d.free_(dev) == 0);
	free(src);
	free(back);
}

static void registered(void)
{
	const size_t n = 8 << 20;
	unsigned char *f = malloc(n), *back = malloc(n);
	CUdeviceptr dev;

	primary();
	CHECK(f && back && d.alloc(&dev, n) == 0);
	for (int i = 0; i < 4; i++) {
		fill(f, n, (unsigned)i);
		CHECK(d.htod(dev, f, n) == 0 && d.dtoh(back, dev, n) == 0 && memcmp(f, back, n) == 0);
	}
	printf("register %d\n", d.host_register(f + 4096, 1 << 20, 0));
	fill(f, n, 9);
	printf("copy %d\n", d.htod_async(dev, f + 4096, 1 << 20, NULL));
	printf("unregister %d\n", d.host_unregister(f + 4096));
	printf("unregister again %d\n", d.host_unregister(f + 4096));
	printf("unregister the whole %d\n", d.host_unregister(f));
	CHECK(d.dtoh(back, dev, n) == 0);
	printf("sum %016llx\n", (unsigned long long)sum(back + 4096, 1 << 20));
	free(f);
	free(back);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "twoctx";

	setvbuf(stdout, NULL, _IOLBF, 0);
	load();
	if (!strcmp(mode, "twoctx"))
		twoctx();
	else if (!strcmp(mode, "release"))
		release();
	else if (!strcmp(mode, "destroy"))
		destroy();
	else if (!strcmp(mode, "freeother"))
		freeother();
	else if (!strcmp(mode, "double"))
		double_free();
	else if (!strcmp(mode, "capture"))
		capture();
	else if (!strcmp(mode, "hostfn"))
		hostfn();
	else if (!strcmp(mode, "meminfo"))
		meminfo();
	else if (!strcmp(mode, "oom"))
		oom();
	else if (!strcmp(mode, "ipc"))
		ipc();
	else if (!strcmp(mode, "sizes"))
		sizes();
	else if (!strcmp(mode, "reload"))
		reload();
	else if (!strcmp(mode, "fork"))
		forked();
	else if (!strcmp(mode, "capalloc"))
		capalloc();
	else if (!strcmp(mode, "sticky"))
		sticky();
	else if (!strcmp(mode, "capthread"))
		capthread();
	else if (!strcmp(mode, "freeasync"))
		freeasync();
	else if (!strcmp(mode, "threads"))
		threads();
	else if (!strcmp(mode, "hostwrite"))
		hostwrite();
	else if (!strcmp(mode, "register"))
		registered();
	else {
		fprintf(stderr, "t_ctx: no case %s\n", mode);
		return 2;
	}
	return 0;
}
