/* Allocation churn: malloc/free pairs of one size, on T threads.
 *   churn SIZE THREADS PAIRS      prints "ns_per_pair"
 * scripts/bench runs it with and without libhmo and prints the ratio. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static size_t size;
static long pairs;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *run(void *arg)
{
	/* Keep a few blocks live so the allocator is not on a trivially empty heap. */
	void *keep[8];
	(void)arg;
	for (int i = 0; i < 8; i++)
		keep[i] = malloc(size);
	for (long i = 0; i < pairs; i++) {
		volatile char *p = malloc(size);
		p[0] = (char)i;
		free((void *)p);
	}
	for (int i = 0; i < 8; i++)
		free(keep[i]);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: churn SIZE THREADS PAIRS\n");
		return 2;
	}
	size = strtoul(argv[1], NULL, 0);
	int threads = atoi(argv[2]);
	pairs = atol(argv[3]);
	pthread_t t[64];
	if (threads < 1 || threads > 64)
		return 2;
	double t0 = now();
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, run, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	/* Wall time per pair made by one thread: with 2 threads on 2 cores, the same
	 * figure as 1 thread unless the allocator (or hmo) makes threads contend. */
	printf("%.3f\n", (now() - t0) * 1e9 / (double)pairs);
	return 0;
}
