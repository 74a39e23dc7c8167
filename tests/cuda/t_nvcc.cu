// t_nvcc: built by nvcc with -cudart shared, as CUDA programs are. Its start-up
// registers a fat binary and a kernel through libcudart; then it allocates, copies
// both ways (small, and large enough to be staged), frees and allocates again.
// Prints "nvcc ok", and "hmo-pooled" when the second cudaMalloc came back from a pool.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>

__global__ void scale(float *x, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n)
		x[i] *= 2;
}

int main()
{
	const size_t n = 6 << 20;
	unsigned char *h = (unsigned char *)malloc(n), *b = (unsigned char *)malloc(n);
	void *d, *d2;

	for (size_t i = 0; i < n; i++)
		h[i] = (unsigned char)((i * 2654435761u) >> 13);
	if (cudaMalloc(&d, n) != cudaSuccess) {
		printf("no device\n");
		return 1;
	}
	for (size_t len = 1; len <= n; len *= 64) {
		memset(b, 0, len);
		if (cudaMemcpy(d, h, len, cudaMemcpyHostToDevice) != cudaSuccess ||
		    cudaMemcpy(b, d, len, cudaMemcpyDeviceToHost) != cudaSuccess || memcmp(h, b, len) != 0) {
			printf("copy of %zu bytes FAILED\n", len);
			return 1;
		}
	}
	if (cudaMemcpy(d, h, n, cudaMemcpyHostToDevice) != cudaSuccess ||
	    cudaMemcpy(b, d, n, cudaMemcpyDeviceToHost) != cudaSuccess || memcmp(h, b, n) != 0) {
		printf("copy of %zu bytes FAILED\n", n);
		return 1;
	}
	cudaFree(d);
	if (cudaMalloc(&d2, n) != cudaSuccess)
		return 1;
	if (d2 == d)
		printf("hmo-pooled\n");
	cudaFree(d2);
	printf("nvcc ok\n");
	return 0;
}
