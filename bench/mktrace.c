/* mktrace: writes a synthetic trace of N events, for the report-speed benchmark.
 *
 *   mktrace FILE N [MODULES [ELF]]
 *   mktrace --fleet DIR COUNT N
 *
 * The second form writes COUNT traces of N events into DIR (p0000000.trace, ...),
 * each of its own pid and peak RSS, for bench/fleet.sh.
 *
 * One process with 64 call sites: allocations of 1-64 MiB from the pool (hits and
 * misses) with their frees, 1,000 blocks live at a time, copies, and a sample every
 * 10,000 events; then counters and a clean end.
 *
 * MODULES adds that many module records, each at an address of its own, and the call
 * sites' frames fall in them. They name ELF, an object file, every time (a plugin
 * loaded and unloaded over and over), or else one of 4,096 paths that do not exist:
 * what the report costs must follow the distinct objects, not the records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/trace.h"

/* Where the extra modules go: one every MOD_STRIDE bytes from MOD_BASE. */
#define MOD_BASE 0x100000000000ull
#define MOD_STRIDE 0x100000ull
#define MOD_SIZE 0x80000ull

#include <stdint.h>

static char buf[1 << 20];
static size_t len;
static FILE *out;

static void rec(unsigned type, const void *a, size_t alen, const void *b, size_t blen)
{
	struct hmo_rec h = { (uint16_t)type, 0, (uint32_t)(alen + blen) };
	size_t pad = (8 - (alen + blen) % 8) % 8;

	if (len + sizeof h + alen + blen + pad > sizeof buf) {
		fwrite(buf, 1, len, out);
		len = 0;
	}
	memcpy(buf + len, &h, sizeof h);
	memcpy(buf + len + sizeof h, a, alen);
	if (blen)
		memcpy(buf + len + sizeof h + alen, b, blen);
	memset(buf + len + sizeof h + alen + blen, 0, pad);
	len += sizeof h + alen + blen + pad;
}

/* One trace of N events at FILE (its process PID, its samples' RSS RSS): 0, or 1. */
static int trace(const char *file, uint64_t n, uint64_t nmods, const char *elf, uint32_t pid, uint64_t rss)
{
	uint64_t t = 1000000000ull;

	if (!(out = fopen(file, "wb")))
		return 1;
	len = 0;
	struct hmo_trace_header h = { .magic = HMO_TRACE_MAGIC, .version = HMO_TRACE_VERSION,
				      .header_size = sizeof h, .pid = pid, .ppid = 1, .start_ns = t };
	fwrite(&h, sizeof h, 1, out);
	struct hmo_rec_process p = { .threshold = 1 << 20, .copy_min = 256 << 10, .exe_len = 6,
				     .backtrace_depth = 16 };
	rec(HMO_REC_PROCESS, &p, sizeof p, "/bench", 6);
	struct hmo_rec_module m = { 0x400000, 0x800000, 0x400000, 1, 6 };
	rec(HMO_REC_MODULE, &m, sizeof m, "/bench", 6);
	for (uint64_t i = 0; i < nmods; i++) {
		char path[64];
		const char *name = elf;
		if (!name) {
			snprintf(path, sizeof path, "/nonexistent/bench/lib%u.so", (unsigned)(i % 4096));
			name = path;
		}
		uint64_t start = MOD_BASE + i * MOD_STRIDE;
		struct hmo_rec_module x = { start, start + MOD_SIZE, start, (uint32_t)(i / 64) + 2,
					    (uint32_t)strlen(name) };
		rec(HMO_REC_MODULE, &x, sizeof x, name, x.path_len);
	}
	for (uint32_t s = 1; s <= 64; s++) {
		struct hmo_rec_stack st = { s, 16 };
		uint64_t pcs[16];
		for (int k = 0; k < 16; k++) {
			pcs[k] = 0x400000 + s * 0x1000 + (uint64_t)k * 0x10;
			if (nmods)	/* a frame in one of the extra modules, its code a page in */
				pcs[k] = MOD_BASE + ((s * 16u + (unsigned)k) % nmods) * MOD_STRIDE + 0x1000 +
					 (uint64_t)k * 0x10;
		}
		rec(HMO_REC_STACK, &st, sizeof st, pcs, sizeof pcs);
	}
	uint64_t x = 88172645463325252ull;
	for (uint64_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		t += 1000;
		uint64_t slot = (i / 3) % 1000, addr = 0x7e0000000000 + slot * (64ull << 20);
		if (i % 10000 == 0) {
			struct hmo_rec_sample s = { t, rss, i, 0, 400ull << 20, 300ull << 20, 50ull << 20 };
			rec(HMO_REC_SAMPLE, &s, sizeof s, NULL, 0);
		}
		switch (i % 3) {
		case 0: {
			struct hmo_rec_event e = { .t = t, .dur = 2000 + x % 50000, .size = (1 + x % 64) << 20,
						   .addr = addr, .tid = 100 + (uint32_t)(x % 8),
						   .stack = 1 + (uint32_t)(x % 64), .fn = FN_MALLOC,
						   .outcome = x % 10 ? HMO_OUT_POOL_HIT : HMO_OUT_POOL_MISS,
						   .backing = HMO_BACK_THP, .node = -1 };
			rec(HMO_REC_EVENT, &e, sizeof e, NULL, 0);
			break;
		}
		case 1: {
			struct hmo_rec_copy c = { .t = t, .dur = 50000 + x % 100000, .size = 1 + x % (8 << 20),
						  .dst = addr, .src = addr + 4096, .tid = 100,
						  .stack = 1 + (uint32_t)(x % 64), .fn = FN_MEMCPY };
			rec(HMO_REC_COPY, &c, sizeof c, NULL, 0);
			break;
		}
		default: {
			struct hmo_rec_event e = { .t = t, .dur = 1000 + x % 5000, .size = 1 << 20, .addr = addr,
						   .tid = 100, .fn = FN_FREE, .node = -1 };
			rec(HMO_REC_EVENT, &e, sizeof e, NULL, 0);
			break;
		}
		}
	}
	struct hmo_rec_end e = { t, HMO_END_EXIT, 0, 0 };
	rec(HMO_REC_END, &e, sizeof e, NULL, 0);
	fwrite(buf, 1, len, out);
	return fclose(out) != 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--fleet") == 0) {
		uint64_t count = strtoull(argv[3], NULL, 10), n = strtoull(argv[4], NULL, 10);
		char path[4096];
		for (uint64_t i = 0; i < count; i++) {
			/* peak RSS from 64 MiB to 1 GiB, in an order unlike the names' */
			uint64_t rss = (64ull << 20) + (i * 2654435761u % 961) * (1ull << 20);
			snprintf(path, sizeof path, "%s/p%07llu.trace", argv[2], (unsigned long long)i);
			if (trace(path, n, 0, NULL, 1000 + (uint32_t)i, rss) != 0) {
				perror(path);
				return 1;
			}
		}
		return 0;
	}
	if (argc < 3 || argc > 5) {
		fputs("usage: mktrace FILE N [MODULES [ELF]]\n       mktrace --fleet DIR COUNT N\n", stderr);
		return 2;
	}
	if (trace(argv[1], strtoull(argv[2], NULL, 10), argc > 3 ? strtoull(argv[3], NULL, 10) : 0,
		  argc > 4 ? argv[4] : NULL, 77, 512ull << 20) != 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
