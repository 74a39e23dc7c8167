/* convert.c: CUPTI activity records (the layouts of CUPTI 13: Memcpy6, MemcpyPtoP4,
 * Memset4, Memory4, Kernel10, API) to hmo trace records. */
#include "convert.h"

#include <string.h>

#include <cupti_activity.h>

static uint8_t mem_kind(unsigned k)
{
	switch (k) {
	case CUPTI_ACTIVITY_MEMORY_KIND_PAGEABLE: return HMO_GPU_MEM_PAGEABLE;
	case CUPTI_ACTIVITY_MEMORY_KIND_PINNED: return HMO_GPU_MEM_PINNED;
	case CUPTI_ACTIVITY_MEMORY_KIND_DEVICE:
	case CUPTI_ACTIVITY_MEMORY_KIND_DEVICE_STATIC: return HMO_GPU_MEM_DEVICE;
	case CUPTI_ACTIVITY_MEMORY_KIND_MANAGED:
	case CUPTI_ACTIVITY_MEMORY_KIND_MANAGED_STATIC: return HMO_GPU_MEM_MANAGED;
	case CUPTI_ACTIVITY_MEMORY_KIND_ARRAY: return HMO_GPU_MEM_ARRAY;
	default: return HMO_GPU_MEM_UNKNOWN;
	}
}

static uint8_t direction(unsigned k)
{
	switch (k) {
	case CUPTI_ACTIVITY_MEMCPY_KIND_HTOD:
	case CUPTI_ACTIVITY_MEMCPY_KIND_HTOA: return HMO_GPU_HTOD;
	case CUPTI_ACTIVITY_MEMCPY_KIND_DTOH:
	case CUPTI_ACTIVITY_MEMCPY_KIND_ATOH: return HMO_GPU_DTOH;
	case CUPTI_ACTIVITY_MEMCPY_KIND_DTOD:
	case CUPTI_ACTIVITY_MEMCPY_KIND_ATOA:
	case CUPTI_ACTIVITY_MEMCPY_KIND_ATOD:
	case CUPTI_ACTIVITY_MEMCPY_KIND_DTOA: return HMO_GPU_DTOD;
	case CUPTI_ACTIVITY_MEMCPY_KIND_HTOH: return HMO_GPU_HTOH;
	case CUPTI_ACTIVITY_MEMCPY_KIND_PTOP: return HMO_GPU_PTOP;
	default: return HMO_GPU_OTHER;
	}
}

size_t hmo_cupti_convert(const void *activity, void *out, uint16_t *type)
{
	const CUpti_Activity *a = activity;

	switch (a->kind) {
	case CUPTI_ACTIVITY_KIND_MEMCPY: {
		const CUpti_ActivityMemcpy6 *m = activity;
		struct hmo_rec_gpu_copy r = {
			.start = m->start, .end = m->end, .bytes = m->bytes, .correlation = m->correlationId,
			.stream = m->streamId, .device = m->deviceId, .dir = direction(m->copyKind),
			.src = mem_kind(m->srcKind), .dst = mem_kind(m->dstKind),
			.async = (m->flags & CUPTI_ACTIVITY_FLAG_MEMCPY_ASYNC) != 0,
		};
		memcpy(out, &r, sizeof r);
		*type = HMO_REC_GPU_COPY;
		return sizeof r;
	}
	case CUPTI_ACTIVITY_KIND_MEMCPY2: {
		const CUpti_ActivityMemcpyPtoP4 *m = activity;
		struct hmo_rec_gpu_copy r = {
			.start = m->start, .end = m->end, .bytes = m->bytes, .correlation = m->correlationId,
			.stream = m->streamId, .device = m->deviceId, .dir = HMO_GPU_PTOP,
			.src = mem_kind(m->srcKind), .dst = mem_kind(m->dstKind),
			.async = (m->flags & CUPTI_ACTIVITY_FLAG_MEMCPY_ASYNC) != 0,
		};
		memcpy(out, &r, sizeof r);
		*type = HMO_REC_GPU_COPY;
		return sizeof r;
	}
	case CUPTI_ACTIVITY_KIND_MEMSET: {
		const CUpti_ActivityMemset4 *m = activity;
		struct hmo_rec_gpu_memset r = {
			.start = m->start, .end = m->end, .bytes = m->bytes, .correlation = m->correlationId,
			.stream = m->streamId, .device = m->deviceId, .value = m->value,
			.mem = mem_kind(m->memoryKind),
		};
		memcpy(out, &r, sizeof r);
		*type = HMO_REC_GPU_MEMSET;
		return sizeof r;
	}
	case CUPTI_ACTIVITY_KIND_MEMORY2: {
		const CUpti_ActivityMemory4 *m = activity;
		struct hmo_rec_gpu_memory r = {
			.t = m->timestamp, .address = m->address, .bytes = m->bytes,
			.correlation = m->correlationId, .device = m->deviceId,
			.op = m->memoryOperationType == CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION ? HMO_GPU_ALLOC
											    : HMO_GPU_FREE,
			.mem = mem_kind(m->memoryKind),
		};
		memcpy(out, &r, sizeof r);
		*type = HMO_REC_GPU_MEMORY;
		return sizeof r;
	}
	case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
	case CUPTI_ACTIVITY_KIND_KERNEL: {
		const CUpti_ActivityKernel10 *k = activity;
		struct hmo_rec_gpu_kernel r = {
			.start = k->start, .end = k->end, .correlation = k->correlationId, .stream = k->streamId,
			.device = k->deviceId,
		};
		const char *name = k->name ? k->name : "";
		r.name_len = (uint32_t)strnlen(name, 511);
		memcpy(out, &r, sizeof r);
		memcpy((char *)out + sizeof r, name, r.name_len);
		*type = HMO_REC_GPU_KERNEL;
		return sizeof r + r.name_len;
	}
	case CUPTI_ACTIVITY_KIND_RUNTIME:
	case CUPTI_ACTIVITY_KIND_DRIVER: {
		const CUpti_ActivityAPI *api = activity;
		struct hmo_rec_gpu_api r = {
			.start = api->start, .end = api->end, .correlation = api->correlationId, .cbid = api->cbid,
			.tid = api->threadId,
			.domain = a->kind == CUPTI_ACTIVITY_KIND_RUNTIME ? HMO_GPU_API_RUNTIME : HMO_GPU_API_DRIVER,
		};
		memcpy(out, &r, sizeof r);
		*type = HMO_REC_GPU_API;
		return sizeof r;
	}
	default:
		return 0;
	}
}
