/* t_driver: the driver API reached the two other ways.
 *
 *   t_driver dlsym   dlopen("libcuda.so.1") and dlsym of each function, as FFmpeg's
 *                    NVENC/NVDEC path does
 *   t_driver gpa     cuGetProcAddress_v2 for each function, with flags 0 and with the
 *                    per-thread default stream flag (2), and cuGetProcAddress asked
 *                    for itself
 *
 * Both check the pool (a freed block comes back without a driver allocation, under
 * hmo), pointer queries on a pooled block (its start and the size asked for, from an
 * interior pointer too), and that dlsym(RTLD_NEXT) still means "after the caller". */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preload/cuda/defs.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "t_driver: %s:%d: %s\n", __FILE__, __LINE__, #c); exit(1); } } while (0)

typedef CUresult (*gpa_fn)(const char *, void **, int, cuuint64_t, int *);

static struct {
	CUresult (*init)(unsigned);
	CUresult (*alloc)(CUdeviceptr *, size_t);
	CUresult (*free_)(CUdeviceptr);
	CUresult (*htod)(CUdeviceptr, const void *, size_t);
	CUresult (*dtoh)(void *, CUdeviceptr, size_t);
	CUresult (*htod_async)(CUdeviceptr, const void *, size_t, CUstream);
	CUresult (*sync)(CUstream);
	CUresult (*range)(CUdeviceptr *, size_t *, CUdeviceptr);
	CUresult (*attr)(void *, int, CUdeviceptr);
	CUresult (*ipc)(void *, CUdeviceptr);
	CUresult (*attrs)(unsigned, int *, void **, CUdeviceptr);
	CUresult (*alloc_async)(CUdeviceptr *, size_t, CUstream);
	CUresult (*free_async)(CUdeviceptr, CUstream);
	CUresult (*managed)(CUdeviceptr *, size_t, unsigned);
	CUresult (*retain)(CUcontext *, CUdevice);
	CUresult (*set_current)(CUcontext);
} d;

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "dlsym";
	void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	unsigned long (*count)(const char *);

	/* RTLD_NEXT from the program: the next definition after it, which is hmo's own
	 * malloc when hmo is preloaded, and libc's otherwise; never relative to hmo. */
	CHECK(dlsym(RTLD_NEXT, "malloc") == (void *)malloc);
	if (!h) {
		printf("no libcuda: %s\n", dlerror());
		return 0;
	}
	/* NULL on the real driver (scripts/gpu-check): the checks that need it are left out */
	*(void **)&count = dlsym(h, "fakecuda_count");
	if (!strcmp(mode, "dlsym")) {
		*(void **)&d.init = dlsym(h, "cuInit");
		*(void **)&d.alloc = dlsym(h, "cuMemAlloc_v2");
		*(void **)&d.free_ = dlsym(h, "cuMemFree_v2");
		*(void **)&d.htod = dlsym(h, "cuMemcpyHtoD_v2");
		*(void **)&d.dtoh = dlsym(h, "cuMemcpyDtoH_v2");
		*(void **)&d.htod_async = dlsym(h, "cuMemcpyHtoDAsync_v2");
		*(void **)&d.sync = dlsym(h, "cuStreamSynchronize");
		*(void **)&d.range = dlsym(h, "cuMemGetAddressRange_v2");
		*(void **)&d.attr = dlsym(h, "cuPointerGetAttribute");
		*(void **)&d.ipc = dlsym(h, "cuIpcGetMemHandle");
		*(void **)&d.retain = dlsym(h, "cuDevicePrimaryCtxRetain");
		*(void **)&d.set_current = dlsym(h, "cuCtxSetCurrent");
	} else {
		gpa_fn gpa = (gpa_fn)dlsym(h, "cuGetProcAddress_v2"), self = NULL;
		CHECK(gpa);
		/* asked for itself, the lookup hands out what can be used for the rest */
		CHECK(gpa("cuGetProcAddress", (void **)&self, 12000, 0, NULL) == 0 && self);
		gpa = self;
		CHECK(gpa("cuInit", (void **)&d.init, 13000, 0, NULL) == 0);
		CHECK(gpa("cuMemAlloc", (void **)&d.alloc, 13000, 0, NULL) == 0);
		CHECK(gpa("cuMemFree", (void **)&d.free_, 13000, 0, NULL) == 0);
		CHECK(gpa("cuMemcpyHtoD", (void **)&d.htod, 13000, 0, NULL) == 0);
		CHECK(gpa("cuMemcpyDtoH", (void **)&d.dtoh, 13000, 0, NULL) == 0);
		CHECK(gpa("cuStreamSynchronize", (void **)&d.sync, 13000, 0, NULL) == 0);
		CHECK(gpa("cuMemGetAddressRange", (void **)&d.range, 13000, 0, NULL) == 0);
		CHECK(gpa("cuPointerGetAttribute", (void **)&d.attr, 13000, 0, NULL) == 0);
		CHECK(gpa("cuIpcGetMemHandle", (void **)&d.ipc, 13000, 0, NULL) == 0);
		CHECK(gpa("cuPointerGetAttributes", (void **)&d.attrs, 13000, 0, NULL) == 0);
		CHECK(gpa("cuMemAllocAsync", (void **)&d.alloc_async, 13000, 0, NULL) == 0);
		CHECK(gpa("cuMemFreeAsync", (void **)&d.free_async, 13000, 0, NULL) == 0);
		CHECK(gpa("cuMemAllocManaged", (void **)&d.managed, 13000, 0, NULL) == 0);
		CHECK(gpa("cuDevicePrimaryCtxRetain", (void **)&d.retain, 13000, 0, NULL) == 0);
		CHECK(gpa("cuCtxSetCurrent", (void **)&d.set_current, 13000, 0, NULL) == 0);
		/* flags 2: the per-thread default stream variant, and exactly that one */
		void *plain = NULL;
		CHECK(gpa("cuMemcpyHtoDAsync", &plain, 13000, 0, NULL) == 0 && plain);
		CHECK(gpa("cuMemcpyHtoDAsync", (void **)&d.htod_async, 13000, 2, NULL) == 0);
		CHECK(d.htod_async && (void *)d.htod_async != plain);
		/* an unknown name fails as the driver says */
		void *none = (void *)1;
		int status = -1;
		CHECK(gpa("cuNoSuchFunction", &none, 13000, 0, &status) != 0 && status == 1);
	}
	CHECK(d.init && d.alloc && d.free_ && d.htod && d.dtoh && d.htod_async && d.range && d.attr);
	CHECK(d.init(0) == 0);
	CUcontext ctx;
	CHECK(d.retain && d.set_current && d.retain(&ctx, 0) == 0 && d.set_current(ctx) == 0);

	CUdeviceptr a, b, base = 0;
	size_t size = 0;
	char src[4096], back[4096];
	CHECK(d.alloc(&a, 3 << 20) == 0);
	unsigned long allocs = count ? count("cuMemAlloc_v2") : 0;
	CHECK(d.free_(a) == 0);
	CHECK(d.alloc(&b, 3 << 20) == 0);
	if ((!count || count("cuMemAlloc_v2") == allocs) && b == a)
		printf("hmo-pooled\n");
	/* a pooled block's range is what was asked for, from its start or inside it */
	CHECK(d.range(&base, &size, b + 100) == 0 && base == b && size == (size_t)3 << 20);
	CUdeviceptr start = 0;
	size_t rsize = 0;
	CHECK(d.attr(&start, CU_POINTER_ATTRIBUTE_RANGE_START_ADDR, b + 4096) == 0 && start == b);
	CHECK(d.attr(&rsize, CU_POINTER_ATTRIBUTE_RANGE_SIZE, b) == 0 && rsize == (size_t)3 << 20);
	if (d.attrs) {
		/* several at once, as cudaPointerGetAttributes asks: the range from the pool,
		 * the memory type from the driver */
		int which[3] = { CU_POINTER_ATTRIBUTE_RANGE_START_ADDR, CU_POINTER_ATTRIBUTE_RANGE_SIZE,
				 CU_POINTER_ATTRIBUTE_MEMORY_TYPE };
		CUdeviceptr s0 = 0;
		size_t s1 = 0;
		unsigned type = 0;
		void *out[3] = { &s0, &s1, &type };
		CHECK(d.attrs(3, which, out, b + 8) == 0);
		CHECK(s0 == b && s1 == (size_t)3 << 20 && type == CU_MEMORYTYPE_DEVICE);
	}
	if (d.alloc_async && d.free_async && d.managed) {
		/* not pooled: they pass straight through */
		CUdeviceptr x, y;
		CHECK(d.alloc_async(&x, 1 << 20, NULL) == 0 && d.free_async(x, NULL) == 0);
		CHECK(d.managed(&y, 1 << 20, 1) == 0 && d.free_(y) == 0);
	}
	for (int i = 0; i < 4096; i++)
		src[i] = (char)(i * 7);
	CHECK(d.htod(b, src, sizeof src) == 0);
	CHECK(d.dtoh(back, b, sizeof back) == 0);
	CHECK(memcmp(src, back, sizeof src) == 0);
	CHECK(d.htod_async(b, src, sizeof src, NULL) == 0 && d.sync(NULL) == 0);
	/* the variant asked for is the one that ran */
	if (!strcmp(mode, "gpa") && count)
		CHECK(count("cuMemcpyHtoDAsync_v2_ptsz") == 1 && count("cuMemcpyHtoDAsync_v2") == 0);
	/* a block exported through IPC is freed for real, never cached */
	char handle[64];
	CHECK(d.ipc(handle, b) == 0);
	unsigned long frees = count ? count("cuMemFree_v2") : 0;
	CHECK(d.free_(b) == 0);
	CHECK(!count || count("cuMemFree_v2") == frees + 1);
	printf("%s ok\n", mode);
	return 0;
}
