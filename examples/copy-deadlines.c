/* copy-deadlines: hmo_copy_async in a 60 frames/s pipeline, with deadlines.
 *
 *   copy-deadlines [FRAMES]    (default 60: one second)
 *
 * Every frame interval a new 4K NV12 frame (12 MiB) arrives. It is copied twice:
 * - to the encoder's input, which must be there in time for the encoder to finish
 *   within the interval: deadline = arrival + interval - encode time (the EDF rule);
 * - to an archive buffer, which only has to be written before the frame after next
 *   arrives: deadline = arrival + 2 intervals.
 * The archive copy is queued first, the encoder copy second; the engine's workers
 * (HMO_COPY_THREADS) take the earliest deadline first, so the encoder's copy goes
 * ahead. The program waits for each encoder copy at once, and for each archive copy
 * when the next frame arrives, then prints how many of each met their deadline.
 *
 * Build: cc -O2 copy-deadlines.c $(pkg-config --cflags --libs hmo) */
#include <hmo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FRAME_BYTES ((size_t)3840 * 2160 * 3 / 2)
#define INTERVAL_NS (1000000000ull / 60)
#define ENCODE_NS (10000000ull)	/* what the encoder needs of each interval */

static uint64_t now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000ull), (long)(t % 1000000000ull) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
		;
}

static struct hmo_buffer get(void)
{
	struct hmo_buffer b = hmo_alloc(FRAME_BYTES, HMO_NODE_ANY, HMO_ALLOC_PREFAULT);
	if (!b.addr) {
		perror("hmo_alloc");
		exit(1);
	}
	return b;
}

int main(int argc, char **argv)
{
	long frames = argc > 1 ? atol(argv[1]) : 60;
	struct hmo_buffer camera[2] = { get(), get() }, encoder = get(), archive[2] = { get(), get() };
	int64_t archive_copy[2] = { 0, 0 };
	uint64_t archive_deadline[2] = { 0, 0 };
	long late_encoder = 0, late_archive = 0, bad = 0;
	uint64_t start = now(), worst = 0;

	if (frames < 1) {
		fprintf(stderr, "usage: copy-deadlines [FRAMES]\n");
		return 2;
	}
	for (long f = 0; f < frames; f++) {
		uint64_t arrival = start + (uint64_t)f * INTERVAL_NS;
		int k = (int)(f & 1);
		sleep_until(arrival);
		/* The archive copy of the frame before: waited for now, a frame early, so
		 * that the time it is seen done says whether it met its deadline. */
		if (archive_copy[!k]) {
			hmo_copy_wait(archive_copy[!k]);
			archive_copy[!k] = 0;
			if (now() > archive_deadline[!k])
				late_archive++;
			if (memcmp(archive[!k].addr, camera[!k].addr, FRAME_BYTES) != 0)
				bad++;
		}
		memset(camera[k].addr, (int)(f & 0xff), FRAME_BYTES);	/* the frame arrives */
		archive_deadline[k] = arrival + 2 * INTERVAL_NS;
		archive_copy[k] = hmo_copy_async(archive[k].addr, camera[k].addr, FRAME_BYTES, archive_deadline[k]);
		uint64_t deadline = arrival + INTERVAL_NS - ENCODE_NS;
		int64_t h = hmo_copy_async(encoder.addr, camera[k].addr, FRAME_BYTES, deadline);
		if (archive_copy[k] < 0 || h < 0) {
			fprintf(stderr, "hmo_copy_async failed\n");
			return 1;
		}
		hmo_copy_wait(h);
		uint64_t done = now();
		if (done > deadline)
			late_encoder++;
		if (done - arrival > worst)
			worst = done - arrival;
		if (((unsigned char *)encoder.addr)[FRAME_BYTES - 1] != (f & 0xff))
			bad++;
		/* ... the encoder would run here, for up to ENCODE_NS ... */
	}
	for (int k = 0; k < 2; k++) {
		if (!archive_copy[k])
			continue;
		hmo_copy_wait(archive_copy[k]);
		if (now() > archive_deadline[k])
			late_archive++;
		if (memcmp(archive[k].addr, camera[k].addr, FRAME_BYTES) != 0)
			bad++;
	}
	struct hmo_stats s;
	hmo_stats(&s);
	printf("copy-deadlines: %ld frames of %zu bytes at 60/s: encoder copies late %ld (worst %.2f ms "
	       "of %.2f allowed), archive copies late %ld, %ld wrong; %.1f GB/s per copying thread\n",
	       frames, FRAME_BYTES, late_encoder, (double)worst / 1e6, (double)(INTERVAL_NS - ENCODE_NS) / 1e6,
	       late_archive, bad, s.api_copy_gbps);
	hmo_free(&camera[0]);
	hmo_free(&camera[1]);
	hmo_free(&encoder);
	hmo_free(&archive[0]);
	hmo_free(&archive[1]);
	return bad ? 1 : 0;
}
