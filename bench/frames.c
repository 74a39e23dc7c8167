/* Frame cycle: allocate a YUV420 frame, write every byte, free it, as a decoder
 * or a filter graph does per frame; with LIVE frames kept alive in a ring.
 *   frames SIZE LIVE CYCLES [reuse]
 *   prints "ms_per_cycle minor_faults_per_cycle ms_per_cycle_with_fill"
 * The first two columns are the steady state, after an untimed fill of the ring.
 * The third counts the fill too: the time from before the fill to the end of the
 * cycles, divided by CYCLES. A short job is mostly that fill, every frame a fresh
 * one, so the third column is what a short job sees.
 * "reuse" is the program keeping its own LIVE buffers: the baseline hmo aims at. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long faults(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: frames SIZE LIVE CYCLES [reuse]\n");
		return 2;
	}
	size_t size = strtoul(argv[1], NULL, 0);
	int live = atoi(argv[2]), cycles = atoi(argv[3]);
	int reuse = argc > 4 && strcmp(argv[4], "reuse") == 0;
	char **ring = calloc((size_t)live, sizeof *ring);
	if (!ring || live < 1)
		return 2;
	/* Fill the ring once: untimed in the first two columns (the steady state),
	 * counted in the third. */
	double tf = now();
	for (int i = 0; i < live; i++) {
		ring[i] = malloc(size);
		if (!ring[i])
			return 1;
		memset(ring[i], 1, size);
	}
	long f0 = faults();
	double t0 = now();
	for (int c = 0; c < cycles; c++) {
		int k = c % live;
		if (!reuse) {
			free(ring[k]);
			ring[k] = malloc(size);
			if (!ring[k])
				return 1;
		}
		memset(ring[k], c & 0xff, size);
	}
	double t1 = now(), dt = t1 - t0;
	long df = faults() - f0;
	for (int i = 0; i < live; i++)
		free(ring[i]);
	printf("%.3f %.1f %.3f\n", dt * 1e3 / cycles, (double)df / cycles, (t1 - tf) * 1e3 / cycles);
	return 0;
}
