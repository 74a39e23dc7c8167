/* mkgpu: synthetic CUPTI activity records (Memcpy6, Memset4, Memory4, Kernel10, API)
 * through hmo's converter into a trace, for the golden test of hmo-report's GPU
 * section. Everything is fixed: the same trace every time.
 *
 *   mkgpu FILE
 *
 * 10 HtoD copies of 8 MiB from pageable memory at 12 GB/s and 10 from pinned memory
 * at 24 GB/s, each with its runtime API record; 5 DtoH of 4 MiB into pinned memory at
 * 25 GB/s; 2 DtoD of 16 MiB; 3 memsets of 1 MiB; 4 kernels, and a fifth that runs
 * during the first copy (300 us of overlap); 120 device allocations of 8 MiB and 119
 * frees. */
#include <stdio.h>
#include <string.h>

#include <cupti_activity.h>

#include "cupti/convert.h"

static FILE *out;

static void rec(uint16_t type, const void *p, size_t n)
{
	struct hmo_rec h = { type, 0, (uint32_t)n };
	static const char zero[8];

	fwrite(&h, sizeof h, 1, out);
	fwrite(p, n, 1, out);
	fwrite(zero, (8 - n % 8) % 8, 1, out);
}

static void convert(const void *activity)
{
	char buf[HMO_CUPTI_MAX_REC];
	uint16_t type = 0;
	size_t n = hmo_cupti_convert(activity, buf, &type);

	if (n)
		rec(type, buf, n);
}

static uint64_t t = 5000000000ull;

static void copy(unsigned kind, unsigned src, unsigned dst, uint64_t bytes, double gbs, uint32_t corr, double api)
{
	CUpti_ActivityMemcpy6 m;
	memset(&m, 0, sizeof m);
	m.kind = CUPTI_ACTIVITY_KIND_MEMCPY;
	m.copyKind = (uint8_t)kind;
	m.srcKind = (uint8_t)src;
	m.dstKind = (uint8_t)dst;
	m.bytes = bytes;
	m.start = t;
	m.end = t + (uint64_t)((double)bytes / gbs);
	m.streamId = 7;
	m.correlationId = corr;
	convert(&m);
	if (api > 0) {
		CUpti_ActivityAPI a;
		memset(&a, 0, sizeof a);
		a.kind = CUPTI_ACTIVITY_KIND_RUNTIME;
		a.cbid = 31;	/* cudaMemcpy */
		a.start = t - 1000;
		a.end = t - 1000 + (uint64_t)((double)(m.end - m.start) * api);
		a.correlationId = corr;
		a.threadId = 6161;
		convert(&a);
	}
	t = m.end + 10000;
}

int main(int argc, char **argv)
{
	if (argc != 2 || !(out = fopen(argv[1], "wb"))) {
		fputs("usage: mkgpu FILE\n", stderr);
		return 2;
	}
	struct hmo_trace_header h = { .magic = HMO_TRACE_MAGIC, .version = HMO_TRACE_VERSION,
				      .header_size = sizeof h, .pid = 6161, .ppid = 1, .start_ns = 1000 };
	fwrite(&h, sizeof h, 1, out);
	static const char exe[] = "/golden/gpuapp";
	struct hmo_rec_process p = { .threshold = 1 << 20, .copy_min = 256 << 10, .exe_len = sizeof exe - 1,
				     .backtrace_depth = 16 };
	char pbuf[sizeof p + sizeof exe];
	memcpy(pbuf, &p, sizeof p);
	memcpy(pbuf + sizeof p, exe, sizeof exe - 1);
	rec(HMO_REC_PROCESS, pbuf, sizeof p + sizeof exe - 1);

	uint32_t corr = 1;
	for (int i = 0; i < 10; i++)
		copy(CUPTI_ACTIVITY_MEMCPY_KIND_HTOD, CUPTI_ACTIVITY_MEMORY_KIND_PAGEABLE,
		     CUPTI_ACTIVITY_MEMORY_KIND_DEVICE, 8 << 20, 12.0, corr++, 1.5);
	for (int i = 0; i < 10; i++)
		copy(CUPTI_ACTIVITY_MEMCPY_KIND_HTOD, CUPTI_ACTIVITY_MEMORY_KIND_PINNED,
		     CUPTI_ACTIVITY_MEMORY_KIND_DEVICE, 8 << 20, 24.0, corr++, 1.05);
	for (int i = 0; i < 5; i++)
		copy(CUPTI_ACTIVITY_MEMCPY_KIND_DTOH, CUPTI_ACTIVITY_MEMORY_KIND_DEVICE,
		     CUPTI_ACTIVITY_MEMORY_KIND_PINNED, 4 << 20, 25.0, corr++, 0);
	for (int i = 0; i < 2; i++)
		copy(CUPTI_ACTIVITY_MEMCPY_KIND_DTOD, CUPTI_ACTIVITY_MEMORY_KIND_DEVICE,
		     CUPTI_ACTIVITY_MEMORY_KIND_DEVICE, 16 << 20, 1000.0, corr++, 0);
	for (int i = 0; i < 3; i++) {
		CUpti_ActivityMemset4 s;
		memset(&s, 0, sizeof s);
		s.kind = CUPTI_ACTIVITY_KIND_MEMSET;
		s.bytes = 1 << 20;
		s.start = t;
		s.end = t + 2000;
		s.memoryKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
		s.correlationId = corr++;
		convert(&s);
		t += 5000;
	}
	for (int i = 0; i < 4; i++) {
		CUpti_ActivityKernel10 k;
		memset(&k, 0, sizeof k);
		k.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
		k.start = t;
		k.end = t + 250000;
		k.streamId = 7;
		k.correlationId = corr++;
		k.name = "scale_kernel";
		convert(&k);
		t += 300000;
	}
	{
		/* a kernel running during the first copy: 300 us of copy/compute overlap */
		CUpti_ActivityKernel10 k;
		memset(&k, 0, sizeof k);
		k.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
		k.start = 5000000000ull + 100000;
		k.end = 5000000000ull + 400000;
		k.streamId = 8;
		k.correlationId = corr++;
		k.name = "overlapping_kernel";
		convert(&k);
	}
	for (int i = 0; i < 239; i++) {
		CUpti_ActivityMemory4 a;
		memset(&a, 0, sizeof a);
		a.kind = CUPTI_ACTIVITY_KIND_MEMORY2;
		a.memoryOperationType = i % 2 == 0 || i == 238 ? CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION
							       : CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE;
		a.memoryKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
		a.address = 0x700000000 + (uint64_t)(i / 2) * (8 << 20);
		a.bytes = 8 << 20;
		a.timestamp = t;
		a.correlationId = corr++;
		convert(&a);
		t += 1000;
	}
	struct hmo_rec_gpu_info info = { 0, 130001, 0 };
	rec(HMO_REC_GPU_INFO, &info, sizeof info);
	struct hmo_rec_end e = { t, HMO_END_EXIT, 0, 0 };
	rec(HMO_REC_END, &e, sizeof e);
	return fclose(out) != 0;
}
