/* Frame cycle: allocate a YUV420 frame, write every byte, free it, as a decoder
 * or a filter graph does per frame; with LIVE frames kept alive in a ring.
 *   frames SIZE LIVE CYCLES [reuse]   prints "ms_per_cycle minor_faults_per_cycle"
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
	/* Fill the ring once, untimed: the steady state is what is measured. */
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
	double dt = now() - t0;
	long df = faults() - f0;
	for (int i = 0; i < live; i++)
		free(ring[i]);
	printf("%.3f %.1f\n", dt * 1e3 / cycles, (double)df / cycles);
	return 0;
}
