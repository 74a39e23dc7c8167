/* bench/cuda: what hmo's CUDA layer is for, measured with the runtime API on a real
 * GPU. Run it plain and under libhmo (scripts/gpu-check does both) and compare:
 *
 *   bench/cuda
 *
 * prints, one per line, "NAME VALUE UNIT":
 *   h2d_pageable_8M .. h2d_pageable_256M   GB/s of cudaMemcpy H2D from malloc'd memory
 *   h2d_pinned_8M .. h2d_pinned_256M       GB/s of the same from cudaMallocHost memory
 *   d2h_pageable_64M, d2h_pinned_64M       GB/s of D2H
 *   malloc_free_64M                        us per cudaMalloc + cudaFree pair, steady state
 *   mallochost_freehost_16M                us per cudaMallocHost + cudaFreeHost pair
 *
 * Goals (scripts/gpu-check): under hmo, pageable H2D of 8 MiB and more at least 0.9x
 * the pinned bandwidth of the plain run; a cudaMalloc/cudaFree pair and a
 * cudaMallocHost/cudaFreeHost pair at most 1 us each (a pool hit); pinned copies no
 * slower than plain. Exits 77 when there is no GPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cuda_runtime_api.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

#define OK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
	fprintf(stderr, "bench/cuda: %s: %s\n", #call, cudaGetErrorString(e_)); exit(1); } } while (0)

/* Best of `reps` timings of copying n bytes, in GB/s. */
static double copy_rate(void *dst, const void *src, size_t n, enum cudaMemcpyKind k, int reps)
{
	double best = 0;
	OK(cudaMemcpy(dst, src, n, k));	/* warm */
	for (int i = 0; i < reps; i++) {
		double t = now();
		OK(cudaMemcpy(dst, src, n, k));
		OK(cudaDeviceSynchronize());
		t = now() - t;
		if ((double)n / t / 1e9 > best)
			best = (double)n / t / 1e9;
	}
	return best;
}

int main(void)
{
	int count = 0;
	static const size_t sizes[] = { 8 << 20, 64 << 20, 256 << 20 };
	void *dev, *pin;
	unsigned char *page;

	if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
		fprintf(stderr, "bench/cuda: no GPU\n");
		return 77;
	}
	OK(cudaMalloc(&dev, 256 << 20));
	OK(cudaMallocHost(&pin, 256 << 20));
	page = malloc(256 << 20);
	memset(page, 1, 256 << 20);
	memset(pin, 1, 256 << 20);
	for (size_t i = 0; i < 3; i++) {
		printf("h2d_pageable_%zuM %.2f GB/s\n", sizes[i] >> 20, copy_rate(dev, page, sizes[i], cudaMemcpyHostToDevice, 10));
		printf("h2d_pinned_%zuM %.2f GB/s\n", sizes[i] >> 20, copy_rate(dev, pin, sizes[i], cudaMemcpyHostToDevice, 10));
	}
	printf("d2h_pageable_64M %.2f GB/s\n", copy_rate(page, dev, 64 << 20, cudaMemcpyDeviceToHost, 10));
	printf("d2h_pinned_64M %.2f GB/s\n", copy_rate(pin, dev, 64 << 20, cudaMemcpyDeviceToHost, 10));

	void *p;
	OK(cudaMalloc(&p, 64 << 20));
	OK(cudaFree(p));
	double t = now();
	for (int i = 0; i < 1000; i++) {
		OK(cudaMalloc(&p, 64 << 20));
		OK(cudaFree(p));
	}
	printf("malloc_free_64M %.2f us\n", (now() - t) / 1000 * 1e6);
	OK(cudaMallocHost(&p, 16 << 20));
	OK(cudaFreeHost(p));
	t = now();
	for (int i = 0; i < 200; i++) {
		OK(cudaMallocHost(&p, 16 << 20));
		OK(cudaFreeHost(p));
	}
	printf("mallochost_freehost_16M %.2f us\n", (now() - t) / 200 * 1e6);
	return 0;
}
