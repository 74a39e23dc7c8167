/* mkgolden: writes the golden trace fixtures, record by record, with known calls and
 * nothing that changes from run to run (pids, clocks, addresses are fixed).
 *
 *   mkgolden DIR   writes DIR/encoder.trace, DIR/killed.trace and the --diff pair,
 *                  DIR/diff-before.trace and DIR/diff-after.trace
 *
 * encoder.trace: one process ("enc") that allocates twelve 48 MiB frames from one
 * call site (2 new, 10 reused from the pool), frees eleven, maps and unmaps a 16 MiB
 * buffer, makes 20 copies of 12 MiB at 10 GB/s and 4 of 300 KiB at 2 GB/s, with two
 * samples, four CUDA calls (a device frame new, freed, reused; a staged upload), its
 * counters and a clean end.
 * killed.trace: a process killed in the middle: 3 frames, no end, a torn last record.
 * diff-before.trace, diff-after.trace: two runs of one program ("scale"), loaded at
 * other addresses in each (so only the frames match its call sites): 8 frames of
 * 32 MiB from one site (6 new and half on 4 KiB pages before; 2 new, all on huge
 * pages after), 3 blocks of 4 MiB from a site only before and 2 of 16 MiB from one
 * only after, 8 MiB copies (10 at 5 GB/s before, 12 at 10 GB/s after), fewer faults
 * and less RSS after, and two staged uploads each, faster after.
 * The module paths do not exist, so frames print as object+offset everywhere. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/trace.h"

static FILE *out;

static void rec(unsigned type, const void *a, size_t alen, const void *b, size_t blen)
{
	struct hmo_rec h = { (uint16_t)type, 0, (uint32_t)(alen + blen) };
	static const char zero[8];

	fwrite(&h, sizeof h, 1, out);
	fwrite(a, alen, 1, out);
	if (blen)
		fwrite(b, blen, 1, out);
	fwrite(zero, (8 - (alen + blen) % 8) % 8, 1, out);
}

static void header(uint32_t pid, uint64_t t0)
{
	struct hmo_trace_header h = { .magic = HMO_TRACE_MAGIC, .version = HMO_TRACE_VERSION,
				      .header_size = sizeof h, .pid = pid, .ppid = 1, .start_ns = t0,
				      .start_real_ns = 1700000000000000000ull };
	fwrite(&h, sizeof h, 1, out);
}

static void process(const char *exe, const char *cmd, size_t cmdlen, const char *opts)
{
	struct hmo_rec_process p = { .threshold = 1 << 20, .copy_min = 256 << 10,
				     .exe_len = (uint32_t)strlen(exe), .cmdline_len = (uint32_t)cmdlen,
				     .options_len = (uint32_t)strlen(opts), .backtrace_depth = 16 };
	char s[512];

	memcpy(s, exe, p.exe_len);
	memcpy(s + p.exe_len, cmd, cmdlen);
	memcpy(s + p.exe_len + cmdlen, opts, p.options_len);
	rec(HMO_REC_PROCESS, &p, sizeof p, s, p.exe_len + cmdlen + p.options_len);
}

static void module(uint64_t start, uint64_t end, const char *path)
{
	struct hmo_rec_module m = { start, end, start, 1, (uint32_t)strlen(path) };
	rec(HMO_REC_MODULE, &m, sizeof m, path, m.path_len);
}

static void stack(uint32_t id, const uint64_t *pcs, uint32_t depth)
{
	struct hmo_rec_stack s = { id, depth };
	rec(HMO_REC_STACK, &s, sizeof s, pcs, depth * 8);
}

static void event(uint64_t t, uint64_t dur, unsigned fn, uint64_t size, uint64_t addr, uint32_t stack_id,
		  unsigned outcome, unsigned backing)
{
	struct hmo_rec_event e = { .t = t, .dur = dur, .size = size, .addr = addr, .tid = 1001,
				   .stack = stack_id, .fn = (uint8_t)fn, .outcome = (uint8_t)outcome,
				   .backing = (uint8_t)backing, .node = -1 };
	rec(HMO_REC_EVENT, &e, sizeof e, NULL, 0);
}

static void copy(uint64_t t, uint64_t dur, uint64_t size, uint32_t stack_id)
{
	struct hmo_rec_copy c = { .t = t, .dur = dur, .size = size, .dst = 0x7f0000000000, .src = 0x7f1000000000,
				  .tid = 1002, .stack = stack_id, .fn = FN_MEMCPY };
	rec(HMO_REC_COPY, &c, sizeof c, NULL, 0);
}

static void sample_maj(uint64_t t, uint64_t rss, uint64_t minflt, uint64_t majflt, uint64_t huge, uint64_t live,
		       uint64_t cached)
{
	struct hmo_rec_sample s = { t, rss, minflt, majflt, huge, live, cached };
	rec(HMO_REC_SAMPLE, &s, sizeof s, NULL, 0);
}

static void sample(uint64_t t, uint64_t rss, uint64_t minflt, uint64_t huge, uint64_t live, uint64_t cached)
{
	sample_maj(t, rss, minflt, 0, huge, live, cached);
}

#define MiB ((uint64_t)1 << 20)
#define T0 1000000000ull

static void encoder(void)
{
	static const char cmd[] = "enc\0--frames\0" "12";
	static const uint64_t alloc_pcs[] = { 0x400123, 0x400456, 0x400789 };
	static const uint64_t copy_pcs[] = { 0x7f00001234, 0x400abc, 0x400789 };
	static const uint64_t small_pcs[] = { 0x400def, 0x400789 };
	static const uint64_t map_pcs[] = { 0x7f00005678, 0x400789 };
	uint64_t t = T0 + 1000;

	header(4242, T0);
	process("/golden/enc", cmd, sizeof cmd - 1, "HMO_TRACE=golden\n");
	module(0x400000, 0x500000, "/golden/enc");
	module(0x7f00000000, 0x7f00100000, "/golden/libcodec.so.1");
	stack(1, alloc_pcs, 3);
	for (int i = 0; i < 12; i++) {
		/* two new extents, then reuse of the two addresses */
		event(t, i < 2 ? 400000 : 8000 + 1000 * (uint64_t)i, FN_MALLOC, 48 * MiB,
		      0x7e0000000000 + (uint64_t)(i % 2) * 64 * MiB, 1, i < 2 ? HMO_OUT_POOL_MISS : HMO_OUT_POOL_HIT,
		      HMO_BACK_THP);
		t += 33000000;
		if (i < 11)
			event(t, 3000, FN_FREE, 48 * MiB, 0x7e0000000000 + (uint64_t)(i % 2) * 64 * MiB, 0,
			      HMO_OUT_NONE, HMO_BACK_NONE);
		if (i == 5)
			sample(t, 210 * MiB, 5000, 192 * MiB, 96 * MiB, 48 * MiB);
	}
	stack(2, copy_pcs, 3);
	for (int i = 0; i < 20; i++)
		copy(t + (uint64_t)i * 2000000, 12 * MiB / 10, 12 * MiB, 2);	/* 10 GB/s */
	stack(3, small_pcs, 2);
	for (int i = 0; i < 4; i++)
		copy(t + 50000000 + (uint64_t)i * 1000, 300 * 1024 / 2, 300 * 1024, 3);	/* 2 GB/s */
	stack(4, map_pcs, 2);
	event(t + 60000000, 20000, FN_MMAP, 16 * MiB, 0x7d0000000000, 4, HMO_OUT_NONE, HMO_BACK_NONE);
	event(t + 61000000, 15000, FN_MUNMAP, 16 * MiB, 0x7d0000000000, 0, HMO_OUT_NONE, HMO_BACK_NONE);
	sample(t + 62000000, 260 * MiB, 6100, 240 * MiB, 48 * MiB, 48 * MiB);

	/* CUDA: a device frame allocated new, freed, then from the pool; a staged upload */
	struct hmo_rec_cuda cu[] = {
		{ t + 63000000, 900000, 48 * MiB, 0x900000000, 1001, 1, HMO_CUOP_MEM_ALLOC, HMO_CUDA_POOL_NEW, 0, 0 },
		{ t + 64000000, 300, 0, 0x900000000, 1001, 1, HMO_CUOP_MEM_FREE, 0, 0, 0 },
		{ t + 65000000, 400, 48 * MiB, 0x900000000, 1001, 1, HMO_CUOP_MEM_ALLOC, HMO_CUDA_POOL_HIT, 0, 0 },
		{ t + 66000000, 4000000, 48 * MiB, 0x900000000, 1001, 2, HMO_CUOP_HTOD, HMO_CUDA_STAGED, 0, 0 },
	};
	for (size_t i = 0; i < sizeof cu / sizeof cu[0]; i++)
		rec(HMO_REC_CUDA, &cu[i], sizeof cu[i], NULL, 0);

	/* counters of the one thread: every call, large or not */
	struct hmo_rec_counters c = { 1001, 3 };
	struct hmo_rec_fn f[3];
	memset(f, 0, sizeof f);
	f[0].fn = FN_MALLOC;
	f[0].calls = 1012;
	f[0].bytes = 12 * 48 * MiB + 1000 * 64;
	f[0].large_calls = 12;
	f[0].large_bytes = 12 * 48 * MiB;
	f[0].hist[7] = 1000;	/* 64 B */
	f[0].hist[26] = 12;	/* 48 MiB */
	f[0].lat_samples = 2;
	f[0].lat_hist[5] = 2;
	f[1].fn = FN_FREE;
	f[1].calls = 1011;
	f[1].hist[0] = 1011;
	f[2].fn = FN_MEMCPY;
	f[2].calls = 5024;
	f[2].bytes = 20 * 12 * MiB + 4 * 300 * 1024 + 5000 * 100;
	f[2].large_calls = 20;
	f[2].large_bytes = 20 * 12 * MiB;
	f[2].hist[7] = 5000;
	f[2].hist[19] = 4;
	f[2].hist[24] = 20;
	rec(HMO_REC_COUNTERS, &c, sizeof c, f, sizeof f);
	struct hmo_rec_end e = { t + 70000000, HMO_END_EXIT, 0, 0 };
	rec(HMO_REC_END, &e, sizeof e, NULL, 0);
}

static void killed(void)
{
	static const char cmd[] = "worker";
	static const uint64_t pcs[] = { 0x400100, 0x400200 };

	header(5151, T0);
	process("/golden/worker", cmd, sizeof cmd - 1, "HMO_TRACE=golden\nHMO_POOL=off\n");
	module(0x400000, 0x410000, "/golden/worker");
	stack(7, pcs, 2);
	for (int i = 0; i < 3; i++)
		event(T0 + 1000000 * (uint64_t)(i + 1), 900000, FN_POSIX_MEMALIGN, 8 * MiB,
		      0x7c0000000000 + (uint64_t)i * 8 * MiB, 7, HMO_OUT_NONE, HMO_BACK_NONE);
	sample(T0 + 5000000, 30 * MiB, 6200, 0, 0, 0);
	/* the torn record: its header says 56 bytes, 20 made it to the file */
	struct hmo_rec h = { HMO_REC_EVENT, 0, sizeof(struct hmo_rec_event) };
	static const char part[20];
	fwrite(&h, sizeof h, 1, out);
	fwrite(part, sizeof part, 1, out);
}

/* One run of the --diff pair: AFTER is the second, with the pool doing better. */
static void scaler(int after)
{
	static const char cmd[] = "scale\0--frames\0" "8";
	const uint64_t base = after ? 0x5000000000 : 0x400000;	/* the program's load address */
	const uint64_t frame_pcs[] = { base + 0x1234, base + 0x2000, base + 0x3000 };
	const uint64_t old_pcs[] = { base + 0x4100, base + 0x3000 };
	const uint64_t new_pcs[] = { base + 0x4800, base + 0x3000 };
	const uint64_t copy_pcs[] = { 0x7f00002345, base + 0x5000, base + 0x3000 };
	uint64_t t = T0 + 1000;

	header(after ? 6200 : 6100, T0);
	process("/golden/scale", cmd, sizeof cmd - 1, "HMO_TRACE=golden\n");
	module(base, base + 0x100000, "/golden/scale");
	module(0x7f00000000, 0x7f00100000, "/golden/libscale.so.2");
	stack(1, frame_pcs, 3);
	for (int i = 0; i < 8; i++) {
		int fresh = after ? i < 2 : i < 6;
		event(t, fresh ? 300000 : 9000, FN_MALLOC, 32 * MiB, 0x7e0000000000 + (uint64_t)i * 64 * MiB, 1,
		      fresh ? HMO_OUT_POOL_MISS : HMO_OUT_POOL_HIT, !after && i % 2 ? HMO_BACK_4K : HMO_BACK_THP);
		t += 20000000;
		event(t, 2000, FN_FREE, 32 * MiB, 0x7e0000000000 + (uint64_t)i * 64 * MiB, 0, HMO_OUT_NONE,
		      HMO_BACK_NONE);
	}
	stack(2, after ? new_pcs : old_pcs, 2);
	for (int i = 0; i < (after ? 2 : 3); i++)
		event(t + (uint64_t)i * 1000000, 200000, after ? FN_MEMALIGN : FN_POSIX_MEMALIGN,
		      (after ? 16 : 4) * MiB, 0x7d0000000000 + (uint64_t)i * 32 * MiB, 2,
		      after && i ? HMO_OUT_POOL_HIT : HMO_OUT_POOL_MISS, HMO_BACK_THP);
	t += 5000000;
	sample_maj(t, (after ? 260 : 300) * MiB, after ? 12000 : 40000, after ? 1 : 3, 200 * MiB, 64 * MiB,
		   64 * MiB);
	stack(3, copy_pcs, 3);
	for (int i = 0; i < (after ? 12 : 10); i++)
		copy(t + (uint64_t)i * 2000000, 8 * MiB / (after ? 10 : 5), 8 * MiB, 3);
	t += 30000000;
	for (uint64_t i = 0; i < 2; i++) {
		struct hmo_rec_cuda cu = { t + i * 10000000, after ? 3000000 : 4000000, 48 * MiB, 0x900000000, 1001,
					   3, HMO_CUOP_HTOD, HMO_CUDA_STAGED, 0, 0 };
		rec(HMO_REC_CUDA, &cu, sizeof cu, NULL, 0);
	}
	struct hmo_rec_end e = { t + 25000000, HMO_END_EXIT, 0, 0 };
	rec(HMO_REC_END, &e, sizeof e, NULL, 0);
}

/* Writes DIR/NAME.trace with FN(ARG). */
static int fixture(const char *dir, const char *name, void (*fn)(int), int arg)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/%s.trace", dir, name);
	if (!(out = fopen(path, "wb")))
		return perror(path), 1;
	fn(arg);
	return fclose(out) != 0;
}

int main(int argc, char **argv)
{
	char path[4096];

	if (argc != 2) {
		fputs("usage: mkgolden DIR\n", stderr);
		return 2;
	}
	snprintf(path, sizeof path, "%s/encoder.trace", argv[1]);
	if (!(out = fopen(path, "wb")))
		return perror(path), 1;
	encoder();
	if (fclose(out) != 0)
		return 1;
	snprintf(path, sizeof path, "%s/killed.trace", argv[1]);
	if (!(out = fopen(path, "wb")))
		return perror(path), 1;
	killed();
	if (fclose(out) != 0)
		return 1;
	return fixture(argv[1], "diff-before", scaler, 0) || fixture(argv[1], "diff-after", scaler, 1);
}
