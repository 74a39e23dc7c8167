/* t_cudart: a program built as with `nvcc -cudart shared`: linked to libcudart.so.13
 * (the fake one), which reaches the driver through cuGetProcAddress_v2. Under hmo
 * its device and pinned allocations come back from the pools; every copy keeps its
 * bytes; a block freed with work still queued on a stream is not handed out before
 * that work is done.
 *
 *   t_cudart [pool|copies|streams|oom|reset|frames|async|nodev]
 * Prints "hmo-pooled" when device blocks came back from a pool (a cudaFree then a
 * cudaMalloc of the same size gave the same pointer without a driver allocation).
 * On the real runtime and driver (scripts/gpu-check) the checks that only the fake
 * can answer (driver call counts, queued work, flags) are left out. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preload/cuda/defs.h"

cudaError_t cudaMalloc(void **p, size_t n);
cudaError_t cudaFree(void *p);
cudaError_t cudaMallocHost(void **p, size_t n);
cudaError_t cudaHostAlloc(void **p, size_t n, unsigned flags);
cudaError_t cudaFreeHost(void *p);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, enum cudaMemcpyKind k);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, enum cudaMemcpyKind k, cudaStream_t s);
cudaError_t cudaMemcpy2D(void *dst, size_t dp, const void *src, size_t sp, size_t w, size_t h, enum cudaMemcpyKind k);
cudaError_t cudaMemcpy2DAsync(void *dst, size_t dp, const void *src, size_t sp, size_t w, size_t h,
			      enum cudaMemcpyKind k, cudaStream_t s);
cudaError_t cudaStreamCreate(cudaStream_t *s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaDeviceSynchronize(void);
cudaError_t cudaGetDeviceCount(int *n);
cudaError_t cudaMemGetInfo(size_t *f, size_t *t);
cudaError_t cudaDeviceReset(void);
cudaError_t cudaMemset(void *p, int c, size_t n);
cudaError_t cudaMallocAsync(void **p, size_t n, cudaStream_t s);
cudaError_t cudaFreeAsync(void *p, cudaStream_t s);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "t_cudart: %s:%d: %s\n", __FILE__, __LINE__, #c); exit(1); } } while (0)

static unsigned long (*fake_count)(const char *);
static size_t (*fake_pending)(void);
static unsigned (*fake_host_flags)(void *);
static int (*fake_is_live)(CUdeviceptr);

/* Bytes with no period a chunk size could hide: a chunk copied in the wrong place
 * never matches. */
static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(((uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull) >> 56) ^ (unsigned char)seed;
}

static void pool(void)
{
	void *a, *b, *h, *h2, *h3;
	unsigned long before;

	/* device: free then malloc of the same size, many times */
	CHECK(cudaMalloc(&a, 5 << 20) == 0);
	before = fake_count ? fake_count("cuMemAlloc_v2") : 0;
	bool same = true;
	for (int i = 0; i < 20; i++) {
		CHECK(cudaFree(a) == 0);
		CHECK(cudaMalloc(&b, 5 << 20) == 0);
		same &= b == a;
		a = b;
	}
	if (fake_count ? fake_count("cuMemAlloc_v2") == before : same)
		printf("hmo-pooled\n");
	/* a different size is a different block */
	CHECK(cudaMalloc(&b, 7 << 20) == 0);
	CHECK(b != a);
	CHECK(cudaFree(b) == 0);
	CHECK(cudaFree(a) == 0);
	/* pinned host memory: the flags are kept apart */
	CHECK(cudaHostAlloc(&h, 3 << 20, 1 /* portable */) == 0);
	CHECK(!fake_host_flags || fake_host_flags(h) == 1);
	CHECK(cudaFreeHost(h) == 0);
	CHECK(cudaMallocHost(&h2, 3 << 20) == 0);
	CHECK(!fake_host_flags || fake_host_flags(h2) == 0);	/* never the portable block */
	CHECK(cudaHostAlloc(&h3, 3 << 20, 1) == 0);
	CHECK(!fake_host_flags || fake_host_flags(h3) == 1);
	CHECK(cudaFreeHost(h2) == 0 && cudaFreeHost(h3) == 0);
	printf("pool ok\n");
}

/* Every copy kind and size keeps its bytes: 0, 1 B, odd sizes, 2D with odd pitches,
 * and (with T_BIG set) 1 GiB. */
static void copies(void)
{
	static const size_t sizes[] = { 0, 1, 3, 4095, 4097, (1 << 20) + 7, 9 << 20 };
	size_t big = getenv("T_BIG") ? (size_t)1 << 30 : 0;

	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0] + 1; k++) {
		size_t n = k < sizeof sizes / sizeof sizes[0] ? sizes[k] : big;
		if (k == sizeof sizes / sizeof sizes[0] && !big)
			break;
		unsigned char *src = malloc(n + 1), *dst = malloc(n + 1), *pin;
		void *d = NULL;
		fill(src, n, (unsigned)k);
		memset(dst, 0, n + 1);
		CHECK(cudaMalloc(&d, n ? n : 1) == 0);
		CHECK(cudaMemcpy(d, src, n, cudaMemcpyHostToDevice) == 0);
		CHECK(cudaMemcpy(dst, d, n, cudaMemcpyDeviceToHost) == 0);
		CHECK(memcmp(src, dst, n) == 0);
		/* async, from pinned memory, on a stream */
		cudaStream_t s;
		CHECK(cudaStreamCreate(&s) == 0);
		CHECK(cudaMallocHost((void **)&pin, n ? n : 1) == 0);
		fill(pin, n, (unsigned)k + 7);
		CHECK(cudaMemcpyAsync(d, pin, n, cudaMemcpyHostToDevice, s) == 0);
		memset(dst, 0, n + 1);
		CHECK(cudaMemcpyAsync(dst, d, n, cudaMemcpyDeviceToHost, s) == 0);
		CHECK(cudaStreamSynchronize(s) == 0);
		CHECK(memcmp(pin, dst, n) == 0);
		/* async from pageable memory: the source may change at once after the call */
		fill(src, n, (unsigned)k + 9);
		memcpy(dst, src, n);
		CHECK(cudaMemcpyAsync(d, src, n, cudaMemcpyHostToDevice, s) == 0);
		memset(src, 0xee, n);
		/* (the DMA may still run: with per-thread default streams, cudaMemcpy does
		 * not wait for s) */
		CHECK(cudaStreamSynchronize(s) == 0);
		CHECK(cudaMemcpy(src, d, n, cudaMemcpyDeviceToHost) == 0);
		CHECK(memcmp(src, dst, n) == 0);
		CHECK(cudaFreeHost(pin) == 0 && cudaFree(d) == 0);
		free(src);
		free(dst);
	}
	/* 2D: 13 rows of 1001 bytes, source pitch 1003, device pitch 1024, back at 1009 */
	size_t w = 1001, h = 13;
	unsigned char *src = malloc(1003 * h), *back = calloc(1009, h);
	void *d;
	fill(src, 1003 * h, 5);
	CHECK(cudaMalloc(&d, 1024 * h) == 0);
	CHECK(cudaMemcpy2D(d, 1024, src, 1003, w, h, cudaMemcpyHostToDevice) == 0);
	CHECK(cudaMemcpy2DAsync(back, 1009, d, 1024, w, h, cudaMemcpyDeviceToHost, NULL) == 0);
	CHECK(cudaDeviceSynchronize() == 0);
	for (size_t y = 0; y < h; y++)
		CHECK(memcmp(src + y * 1003, back + y * 1009, w) == 0);
	CHECK(cudaFree(d) == 0);
	free(src);
	free(back);
	/* 2D large enough to be staged (1.5 MB of rows, more than one chunk), both ways,
	 * synchronous and on a stream */
	h = 1500;
	src = malloc(1003 * h);
	back = calloc(1009, h);
	fill(src, 1003 * h, 11);
	CHECK(cudaMalloc(&d, 1024 * h) == 0);
	CHECK(cudaMemcpy2D(d, 1024, src, 1003, w, h, cudaMemcpyHostToDevice) == 0);
	memset(src, 0xee, 1003 * h);	/* the source may change once the call is back */
	CHECK(cudaMemcpy2D(back, 1009, d, 1024, w, h, cudaMemcpyDeviceToHost) == 0);
	fill(src, 1003 * h, 11);
	for (size_t y = 0; y < h; y++)
		CHECK(memcmp(src + y * 1003, back + y * 1009, w) == 0);
	cudaStream_t s2;
	CHECK(cudaStreamCreate(&s2) == 0);
	fill(src, 1003 * h, 12);
	memset(back, 0, 1009 * h);
	CHECK(cudaMemcpy2DAsync(d, 1024, src, 1003, w, h, cudaMemcpyHostToDevice, s2) == 0);
	CHECK(cudaMemcpy2DAsync(back, 1009, d, 1024, w, h, cudaMemcpyDeviceToHost, s2) == 0);
	CHECK(cudaStreamSynchronize(s2) == 0);
	for (size_t y = 0; y < h; y++)
		CHECK(memcmp(src + y * 1003, back + y * 1009, w) == 0);
	CHECK(cudaFree(d) == 0);
	free(src);
	free(back);
	printf("copies ok\n");
}

/* A block freed while a stream still has work queued on it is not handed out again
 * before that work is done. */
static void streams(void)
{
	void *a, *b;
	unsigned char *pin;
	cudaStream_t s;
	const size_t n = 4 << 20;

	CHECK(cudaStreamCreate(&s) == 0);
	CHECK(cudaMallocHost((void **)&pin, n) == 0);
	fill(pin, n, 3);
	CHECK(cudaMalloc(&a, n) == 0);
	CHECK(cudaMemcpyAsync(a, pin, n, cudaMemcpyHostToDevice, s) == 0);	/* queued */
	CHECK(!fake_pending || fake_pending() > 0);
	CHECK(cudaFree(a) == 0);
	CHECK(cudaMalloc(&b, n) == 0);
	CHECK(!fake_pending || b != a || fake_pending() == 0);	/* a comes back only once its work is done */
	CHECK(cudaStreamSynchronize(s) == 0);
	CHECK(cudaFree(b) == 0);
	printf("streams ok\n");
}

/* Out of device memory with blocks cached: they are given back and the allocation
 * succeeds (FAKECUDA_MEM=64 MiB). */
static void oom(void)
{
	void *p[6];
	for (int i = 0; i < 6; i++)
		CHECK(cudaMalloc(&p[i], 10 << 20) == 0);
	for (int i = 0; i < 6; i++)
		CHECK(cudaFree(p[i]) == 0);
	size_t f = 0, t = 0;
	CHECK(cudaMemGetInfo(&f, &t) == 0 && t > 0);
	void *big;
	CHECK(cudaMalloc(&big, 60 << 20) == 0);
	CHECK(cudaFree(big) == 0);
	printf("oom ok\n");
}

/* A reset of the device frees its memory: nothing cached before it is handed out
 * after it. */
static void reset(void)
{
	void *a, *b;
	CHECK(cudaMalloc(&a, 6 << 20) == 0);
	CHECK(cudaFree(a) == 0);
	CHECK(cudaDeviceReset() == 0);
	CHECK(cudaMalloc(&b, 6 << 20) == 0);
	if (fake_is_live)
		CHECK(fake_is_live((CUdeviceptr)(uintptr_t)b));
	CHECK(cudaMemset(b, 0, 6 << 20) == 0 || cudaMemcpy(b, b, 0, cudaMemcpyDeviceToDevice) == 0);
	CHECK(cudaFree(b) == 0);
	printf("reset ok\n");
}

/* Frames from the program's malloc (hmo's frame pool under hmo), copied again and
 * again: under HMO_PIN=auto or register their regions get registered, and every copy
 * keeps pageable semantics (an async H2D's source is free on return, an async D2H's
 * data is in place on return). Then a frame is freed and allocated again: prints
 * "kept" when its bytes survived (a registered region is never purged) or
 * "zeroed" when the pool gave its pages back (HMO_POOL_DECAY=0). */
static void frames(void)
{
	const size_t n = 8 << 20;
	unsigned char *f = malloc(n), *back = malloc(n);
	void *d;
	cudaStream_t s;

	CHECK(f && back && cudaMalloc(&d, n) == 0 && cudaStreamCreate(&s) == 0);
	for (int i = 0; i < 4; i++) {
		fill(f, n, (unsigned)i);
		CHECK(cudaMemcpy(d, f, n, cudaMemcpyHostToDevice) == 0);
		memset(back, 0, n);
		CHECK(cudaMemcpy(back, d, n, cudaMemcpyDeviceToHost) == 0);
		CHECK(memcmp(f, back, n) == 0);
	}
	fill(f, n, 9);
	memcpy(back, f, n);
	CHECK(cudaMemcpyAsync(d, f, n, cudaMemcpyHostToDevice, s) == 0);
	memset(f, 0xee, n);	/* free to reuse at once, as with any pageable source */
	CHECK(cudaMemcpy(f, d, n, cudaMemcpyDeviceToHost) == 0);
	CHECK(memcmp(f, back, n) == 0);
	memset(f, 0, n);
	CHECK(cudaMemcpyAsync(f, d, n, cudaMemcpyDeviceToHost, s) == 0);
	CHECK(memcmp(f, back, n) == 0);	/* in place on return, no synchronisation */
	if (fake_count)
		printf("registered %lu\n", fake_count("cuMemHostRegister_v2"));
	free(f);
	unsigned char *g = malloc(n);
	if (g == f)
		printf("%s\n", memcmp(g, back, n) == 0 ? "kept" : "zeroed");
	free(g);
	free(back);
	CHECK(cudaFree(d) == 0);
	printf("frames ok\n");
}

/* Stream-ordered memory (cudaMallocAsync, cudaFreeAsync) beside pooled memory: the
 * bytes survive a round trip, and a cudaMalloc block freed with cudaFreeAsync is gone. */
static void async_alloc(void)
{
	const size_t n = 5 << 20;
	unsigned char *src = malloc(n), *back = malloc(n);
	void *a, *b;
	cudaStream_t s;

	CHECK(src && back && cudaStreamCreate(&s) == 0);
	for (int i = 0; i < 3; i++) {
		CHECK(cudaMallocAsync(&a, n, s) == 0 && cudaMalloc(&b, n) == 0);
		fill(src, n, (unsigned)i);
		CHECK(cudaMemcpyAsync(a, src, n, cudaMemcpyHostToDevice, s) == 0);
		CHECK(cudaMemcpyAsync(b, a, n, cudaMemcpyDeviceToDevice, s) == 0 || cudaMemcpy(b, a, n, cudaMemcpyDeviceToDevice) == 0);
		CHECK(cudaStreamSynchronize(s) == 0);
		CHECK(cudaMemcpy(back, b, n, cudaMemcpyDeviceToHost) == 0 && memcmp(src, back, n) == 0);
		CHECK(cudaFreeAsync(a, s) == 0 && cudaFreeAsync(b, s) == 0 && cudaStreamSynchronize(s) == 0);
		CHECK(cudaFree(b) != 0);	/* freed already */
	}
	free(src);
	free(back);
	printf("async ok\n");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "pool";
	void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
	int n = 0;

	if (!strcmp(mode, "nodev")) {
		/* no device, or the stub driver: the runtime says so, and nothing breaks */
		void *p;
		CHECK(cudaGetDeviceCount(&n) != 0 && n == 0);
		CHECK(cudaMalloc(&p, 1 << 20) != 0);
		printf("nodev ok\n");
		return 0;
	}
	CHECK(cudaGetDeviceCount(&n) == 0 && n >= 1);
	h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
	CHECK(h);
	*(void **)&fake_count = dlsym(h, "fakecuda_count");
	*(void **)&fake_pending = dlsym(h, "fakecuda_pending");
	*(void **)&fake_host_flags = dlsym(h, "fakecuda_host_flags");
	*(void **)&fake_is_live = dlsym(h, "fakecuda_is_live");
	/* all four with the fake, none with the real driver */
	CHECK((fake_count && fake_pending && fake_host_flags && fake_is_live) ||
	      (!fake_count && !fake_pending && !fake_host_flags && !fake_is_live));
	if (!strcmp(mode, "pool"))
		pool();
	else if (!strcmp(mode, "copies"))
		copies();
	else if (!strcmp(mode, "streams"))
		streams();
	else if (!strcmp(mode, "oom"))
		oom();
	else if (!strcmp(mode, "reset"))
		reset();
	else if (!strcmp(mode, "async"))
		async_alloc();
	else if (!strcmp(mode, "frames"))
		frames();
	return 0;
}
