/* The CUDA device block cache (cuda/mem.c), without LD_PRELOAD: the tests' strict fake
 * driver (tests/fakecuda/libcuda.so.1) is opened in this process and its functions
 * handed to hmo as a program's dlsym would (hmo_cu_dlsym, what libhmo's dlsym hook
 * calls), so that the wrappers' "real" functions are the fake's. The fake counts
 * every call by name (fakecuda_count), which shows which allocations reached it.
 *
 * A freed block comes back for the next allocation of the same rounded size in the
 * same context, without a driver call; a second free of a cached block is
 * CUDA_ERROR_INVALID_VALUE, as the driver says of memory it no longer has; another
 * context does not get the block; HMO_CUDA_POOL=off passes every call through. */
#include <dlfcn.h>

#include "core.h"
#include "preload/cuda/cuda.h"

#ifndef FAKECUDA_LIB
#error "FAKECUDA_LIB: the path of the fake libcuda.so.1"
#endif

static void *lib;
static unsigned long (*fake_count)(const char *);
static CUresult (*w_init)(unsigned);
static CUresult (*w_alloc)(CUdeviceptr *, size_t);
static CUresult (*w_free)(CUdeviceptr);
static CUresult (*device_get)(CUdevice *, int);
static CUresult (*ctx_create)(CUcontext *, unsigned, CUdevice);
static CUresult (*ctx_set)(CUcontext);

/* The program's dlsym of name, as libhmo's dlsym hook answers it: the wrapper, with
 * the fake's function recorded as the real one. */
static void *lookup(const char *name)
{
	void *real = dlsym(lib, name);

	ck_assert_msg(real != NULL, "the fake has no %s", name);
	return hmo_cu_dlsym(lib, name, real);
}

static void start(const char *pool)
{
	const char *opts[] = { pool, "HMO_PIN=off", NULL };
	CUdevice dev;

	core_start(opts, NULL);
	lib = dlopen(FAKECUDA_LIB, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(lib != NULL, "%s", dlerror());
	*(void **)&fake_count = dlsym(lib, "fakecuda_count");
	*(void **)&device_get = dlsym(lib, "cuDeviceGet");
	*(void **)&ctx_create = dlsym(lib, "cuCtxCreate_v2");
	*(void **)&ctx_set = dlsym(lib, "cuCtxSetCurrent");
	ck_assert(fake_count && device_get && ctx_create && ctx_set);
	*(void **)&w_init = lookup("cuInit");
	*(void **)&w_alloc = lookup("cuMemAlloc_v2");
	*(void **)&w_free = lookup("cuMemFree_v2");
	/* hmo's wrappers, not the fake's own functions */
	ck_assert_ptr_eq(w_init, cu_wrap_init);
	ck_assert_ptr_eq(w_alloc, cu_wrap_mem_alloc);
	ck_assert_ptr_eq(w_free, cu_wrap_mem_free);
	ck_assert_int_eq(w_init(0), CUDA_SUCCESS);
	ck_assert_int_eq(device_get(&dev, 0), CUDA_SUCCESS);
}

static CUcontext new_ctx(void)
{
	CUcontext c = NULL;

	ck_assert_int_eq(ctx_create(&c, 0, 0), CUDA_SUCCESS);
	ck_assert_int_eq(ctx_set(c), CUDA_SUCCESS);
	return c;
}

START_TEST(freed_block_comes_back_without_the_driver)
{
	CUdeviceptr p = 0, q = 0, r = 0;
	struct hmo_cu_pool_stats st;

	start("HMO_CUDA_POOL=on");
	ck_assert_int_eq(hmo_cu_state(), 1);
	new_ctx();
	ck_assert_int_eq(w_alloc(&p, 1000), CUDA_SUCCESS);
	ck_assert_uint_ne(p, 0);
	ck_assert_uint_eq(fake_count("cuMemAlloc_v2"), 1);
	ck_assert_int_eq(w_free(p), CUDA_SUCCESS);
	ck_assert_uint_eq(fake_count("cuMemFree_v2"), 0);	/* kept, not freed */
	/* 1000 and 1024 round to the same 1024 bytes */
	ck_assert_int_eq(w_alloc(&q, 1024), CUDA_SUCCESS);
	ck_assert_uint_eq(q, p);
	ck_assert_uint_eq(fake_count("cuMemAlloc_v2"), 1);
	/* another rounded size is the driver's */
	ck_assert_int_eq(w_alloc(&r, 1025), CUDA_SUCCESS);
	ck_assert_uint_ne(r, p);
	ck_assert_uint_eq(fake_count("cuMemAlloc_v2"), 2);
	hmo_cu_pool_stats(&st);
	ck_assert_uint_eq(st.dev_hits, 1);
	ck_assert_uint_eq(st.dev_misses, 2);
	ck_assert_uint_eq(st.dev_cached, 0);
	ck_assert_int_eq(w_free(q), CUDA_SUCCESS);
	ck_assert_int_eq(w_free(r), CUDA_SUCCESS);
	hmo_cu_pool_stats(&st);
	ck_assert_uint_eq(st.dev_cached, 1024 + 1536);
	ck_assert_uint_eq(hmo_cu_stats[HMO_CUOP_MEM_ALLOC].calls, 3);
	ck_assert_uint_eq(hmo_cu_stats[HMO_CUOP_MEM_FREE].calls, 3);
}
END_TEST

START_TEST(double_free_while_cached)
{
	CUdeviceptr p = 0;
	struct hmo_cu_pool_stats st;

	start("HMO_CUDA_POOL=on");
	new_ctx();
	ck_assert_int_eq(w_alloc(&p, 3 << 20), CUDA_SUCCESS);
	ck_assert_int_eq(w_free(p), CUDA_SUCCESS);
	ck_assert_int_eq(w_free(p), CUDA_ERROR_INVALID_VALUE);
	hmo_cu_pool_stats(&st);
	ck_assert_uint_eq(st.double_frees, 1);
	ck_assert_uint_eq(st.dev_cached, 4 << 20);	/* above 1 MiB: 2 MiB steps */
	ck_assert_uint_eq(hmo_cu_stats[HMO_CUOP_MEM_FREE].errors, 1);
	ck_assert_uint_eq(fake_count("cuMemFree_v2"), 0);
}
END_TEST

START_TEST(contexts_do_not_share_blocks)
{
	CUdeviceptr p = 0, q = 0, r = 0;
	CUcontext a, b;

	start("HMO_CUDA_POOL=on");
	a = new_ctx();
	ck_assert_int_eq(w_alloc(&p, 4096), CUDA_SUCCESS);
	ck_assert_int_eq(w_free(p), CUDA_SUCCESS);
	b = new_ctx();
	ck_assert_ptr_ne(a, b);
	ck_assert_int_eq(w_alloc(&q, 4096), CUDA_SUCCESS);
	ck_assert_uint_ne(q, p);
	ck_assert_uint_eq(fake_count("cuMemAlloc_v2"), 2);
	/* back in the first context, its block is there */
	ck_assert_int_eq(ctx_set(a), CUDA_SUCCESS);
	ck_assert_int_eq(w_alloc(&r, 4096), CUDA_SUCCESS);
	ck_assert_uint_eq(r, p);
	ck_assert_uint_eq(fake_count("cuMemAlloc_v2"), 2);
}
END_TEST

START_TEST(pool_off_passes_through)
{
	CUdeviceptr p = 0, q = 0;

	start("HMO_CUDA_POOL=off");
	new_ctx();
	ck_assert_int_eq(w_alloc(&p, 4096), CUDA_SUCCESS);
	ck_assert_int_eq(w_free(p), CUDA_SUCCESS);
	ck_assert_uint_eq(fake_count("cuMemFree_v2"), 1);
	ck_assert_int_eq(w_alloc(&q, 4096), CUDA_SUCCESS);
	ck_assert_uint_eq(fake_count("cuMemAlloc_v2"), 2);
	ck_assert_int_eq(w_free(q), CUDA_SUCCESS);
	ck_assert_uint_eq(fake_count("cuMemFree_v2"), 2);
	/* the driver's own answer to a second free */
	ck_assert_int_eq(w_free(q), CUDA_ERROR_INVALID_VALUE);
	ck_assert_uint_eq(fake_count("cuMemFree_v2"), 3);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cudacache");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, freed_block_comes_back_without_the_driver);
	tcase_add_test(tc, double_free_while_cached);
	tcase_add_test(tc, contexts_do_not_share_blocks);
	tcase_add_test(tc, pool_off_passes_through);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite(), CK_FORK);
}
