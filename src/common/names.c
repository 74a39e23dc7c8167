/* names.c: see names.h. Plain constant data and no calls: libhmo reads these from
 * inside malloc and on its way out. */
#include "names.h"

static const char *const fn_names[FN_COUNT] = {
	[FN_MALLOC] = "malloc", [FN_CALLOC] = "calloc", [FN_REALLOC] = "realloc",
	[FN_REALLOCARRAY] = "reallocarray", [FN_FREE] = "free", [FN_FREE_SIZED] = "free_sized",
	[FN_FREE_ALIGNED_SIZED] = "free_aligned_sized", [FN_POSIX_MEMALIGN] = "posix_memalign",
	[FN_ALIGNED_ALLOC] = "aligned_alloc", [FN_MEMALIGN] = "memalign", [FN_VALLOC] = "valloc",
	[FN_PVALLOC] = "pvalloc", [FN_MALLOC_USABLE_SIZE] = "malloc_usable_size",
	[FN_MMAP] = "mmap", [FN_MMAP64] = "mmap64", [FN_MUNMAP] = "munmap", [FN_MREMAP] = "mremap",
	[FN_MEMCPY] = "memcpy", [FN_MEMMOVE] = "memmove", [FN_MEMSET] = "memset",
	[FN_MEMCPY_CHK] = "__memcpy_chk", [FN_MEMMOVE_CHK] = "__memmove_chk",
	[FN_MEMSET_CHK] = "__memset_chk",
};

/* The legacy-stream variant's exported symbol: the name a program sees in nm. */
static const char *const cu_names[HMO_CUOP_COUNT] = {
	[HMO_CUOP_INIT] = "cuInit",
	[HMO_CUOP_MEM_ALLOC] = "cuMemAlloc_v2",
	[HMO_CUOP_MEM_FREE] = "cuMemFree_v2",
	[HMO_CUOP_MEM_ALLOC_HOST] = "cuMemAllocHost_v2",
	[HMO_CUOP_MEM_HOST_ALLOC] = "cuMemHostAlloc",
	[HMO_CUOP_MEM_FREE_HOST] = "cuMemFreeHost",
	[HMO_CUOP_HTOD] = "cuMemcpyHtoD_v2",
	[HMO_CUOP_DTOH] = "cuMemcpyDtoH_v2",
	[HMO_CUOP_HTOD_ASYNC] = "cuMemcpyHtoDAsync_v2",
	[HMO_CUOP_DTOH_ASYNC] = "cuMemcpyDtoHAsync_v2",
	[HMO_CUOP_2D] = "cuMemcpy2D_v2",
	[HMO_CUOP_2D_ASYNC] = "cuMemcpy2DAsync_v2",
	[HMO_CUOP_RANGE] = "cuMemGetAddressRange_v2",
	[HMO_CUOP_PTR_ATTR] = "cuPointerGetAttribute",
	[HMO_CUOP_MEM_INFO] = "cuMemGetInfo_v2",
	[HMO_CUOP_IPC_GET] = "cuIpcGetMemHandle",
	[HMO_CUOP_STREAM_CREATE] = "cuStreamCreate",
	[HMO_CUOP_STREAM_CREATE_PRIO] = "cuStreamCreateWithPriority",
	[HMO_CUOP_CTX_DESTROY] = "cuCtxDestroy_v2",
	[HMO_CUOP_PRIMARY_RESET] = "cuDevicePrimaryCtxReset_v2",
	[HMO_CUOP_PRIMARY_RELEASE] = "cuDevicePrimaryCtxRelease_v2",
	[HMO_CUOP_PTR_ATTRS] = "cuPointerGetAttributes",
	[HMO_CUOP_MEM_ALLOC_ASYNC] = "cuMemAllocAsync",
	[HMO_CUOP_MEM_FREE_ASYNC] = "cuMemFreeAsync",
	[HMO_CUOP_MEM_ALLOC_MANAGED] = "cuMemAllocManaged",
	[HMO_CUOP_MEM_CREATE] = "cuMemCreate",
	[HMO_CUOP_MEM_MAP] = "cuMemMap",
	[HMO_CUOP_GPA] = "cuGetProcAddress",
	[HMO_CUOP_GPA2] = "cuGetProcAddress_v2",
	[HMO_CUOP_MEM_ALLOC_PITCH] = "cuMemAllocPitch_v2",
	[HMO_CUOP_ARRAY_CREATE] = "cuArrayCreate_v2",
	[HMO_CUOP_ARRAY3D_CREATE] = "cuArray3DCreate_v2",
	[HMO_CUOP_CTX_DESTROY_V1] = "cuCtxDestroy",
	[HMO_CUOP_PRIMARY_RESET_V1] = "cuDevicePrimaryCtxReset",
	[HMO_CUOP_PRIMARY_RELEASE_V1] = "cuDevicePrimaryCtxRelease",
	[HMO_CUOP_BEGIN_CAPTURE] = "cuStreamBeginCapture_v2",
	[HMO_CUOP_BEGIN_CAPTURE_TO_GRAPH] = "cuStreamBeginCaptureToGraph",
	[HMO_CUOP_END_CAPTURE] = "cuStreamEndCapture",
	[HMO_CUOP_PRIMARY_RETAIN] = "cuDevicePrimaryCtxRetain",
	[HMO_CUOP_BEGIN_CAPTURE_V1] = "cuStreamBeginCapture",
	[HMO_CUOP_MEM_ALLOC_FROM_POOL] = "cuMemAllocFromPoolAsync",
};

const char *hmo_fn_name(unsigned fn)
{
	return fn < FN_COUNT && fn_names[fn] ? fn_names[fn] : "?";
}

const char *hmo_cu_name(unsigned op)
{
	return op < HMO_CUOP_COUNT && cu_names[op] ? cu_names[op] : "?";
}

/* free and malloc_usable_size do not know a size; free_sized and
 * free_aligned_sized are told one. */
const bool hmo_fn_has_bytes[FN_COUNT] = {
	[FN_MALLOC] = true, [FN_CALLOC] = true, [FN_REALLOC] = true, [FN_REALLOCARRAY] = true,
	[FN_FREE_SIZED] = true, [FN_FREE_ALIGNED_SIZED] = true, [FN_POSIX_MEMALIGN] = true,
	[FN_ALIGNED_ALLOC] = true, [FN_MEMALIGN] = true, [FN_VALLOC] = true, [FN_PVALLOC] = true,
	[FN_MMAP] = true, [FN_MMAP64] = true, [FN_MUNMAP] = true, [FN_MREMAP] = true,
	[FN_MEMCPY] = true, [FN_MEMMOVE] = true, [FN_MEMSET] = true, [FN_MEMCPY_CHK] = true,
	[FN_MEMMOVE_CHK] = true, [FN_MEMSET_CHK] = true,
};
