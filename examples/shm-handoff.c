/* shm-handoff: a capture process hands frames to an encoder process through a hmo
 * shared-memory segment, without copying them.
 *
 *   shm-handoff capture NAME [FRAMES]   creates the segment NAME, writes FRAMES frames
 *   shm-handoff encode NAME              maps NAME, consumes the frames as they come
 *   shm-handoff [FRAMES]                 runs both, as two processes
 *
 * The segment holds a small header and a ring of SLOTS frames. The capture side fills
 * a free slot and posts it; the encoder maps the same pages, reads the frame where it
 * lies (here it only checks and sums it, where a real encoder would compress it) and
 * gives the slot back. Two process-shared semaphores in the header count free and
 * filled slots. The capture side removes the name at the end; the memory goes once
 * both have closed it.
 *
 * Build: cc -O2 shm-handoff.c $(pkg-config --cflags --libs hmo) -pthread */
#include <errno.h>
#include <hmo.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 4
#define WIDTH 1920
#define HEIGHT 1080
#define FRAME_BYTES ((size_t)WIDTH * HEIGHT * 3 / 2)	/* one 1080p NV12 frame */
#define MAGIC 0x686d6f2d66726d73ull			/* written last: the header is ready */

struct header {
	uint64_t magic;
	sem_t free_slots, filled;
	uint64_t frames;	/* how many the capture side will send */
	uint64_t seq[SLOTS];	/* the frame number in each slot */
	uint64_t sum[SLOTS];	/* its checksum, for the encoder to verify */
};

/* Frames start on a 2 MiB boundary, so each one begins on its own huge page. */
#define DATA_OFFSET ((size_t)2 << 20)
#define SLOT_BYTES ((FRAME_BYTES + ((size_t)2 << 20) - 1) & ~(((size_t)2 << 20) - 1))
#define SEGMENT_BYTES (DATA_OFFSET + SLOTS * SLOT_BYTES)

static unsigned char *slot(const struct hmo_shm *s, unsigned i)
{
	return (unsigned char *)s->addr + DATA_OFFSET + (size_t)i * SLOT_BYTES;
}

static uint64_t checksum(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i += 64)	/* one byte per cache line: enough to see a torn frame */
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* Waits for a semaphore, 10 s at most: the other side may have died. */
static int take(sem_t *sem, const char *who)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	while (sem_timedwait(sem, &until) != 0) {
		if (errno != EINTR) {
			fprintf(stderr, "%s: the other side stopped (%s)\n", who, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int capture(const char *name, uint64_t frames)
{
	struct hmo_shm s;
	int rc = hmo_shm_create(name, SEGMENT_BYTES, HMO_SHM_HUGE, &s);

	if (rc) {
		fprintf(stderr, "capture: hmo_shm_create %s: %s\n", name, strerror(-rc));
		return 1;
	}
	struct header *h = s.addr;
	if (sem_init(&h->free_slots, 1, SLOTS) || sem_init(&h->filled, 1, 0)) {
		perror("capture: sem_init");
		hmo_shm_close(&s, 1);
		return 1;
	}
	h->frames = frames;
	__atomic_store_n(&h->magic, MAGIC, __ATOMIC_RELEASE);
	printf("capture: %s, %u slots of %zu bytes%s\n", name, SLOTS, FRAME_BYTES,
	       s.huge ? ", on hugetlb pages" : "");
	fflush(stdout);
	for (uint64_t f = 0; f < frames; f++) {
		unsigned i = (unsigned)(f % SLOTS);
		if (take(&h->free_slots, "capture")) {
			hmo_shm_close(&s, 1);
			return 1;
		}
		unsigned char *p = slot(&s, i);
		memset(p, (int)(f & 0xff), FRAME_BYTES);	/* the "camera" writes the frame */
		p[f % FRAME_BYTES] ^= 0x5a;
		h->seq[i] = f;
		h->sum[i] = checksum(p, FRAME_BYTES);
		sem_post(&h->filled);
	}
	/* Wait until the encoder has given every slot back, then remove the name. */
	for (int i = 0; i < SLOTS; i++) {
		if (take(&h->free_slots, "capture")) {
			hmo_shm_close(&s, 1);
			return 1;
		}
	}
	printf("capture: %llu frames handed over\n", (unsigned long long)frames);
	hmo_shm_close(&s, 1);
	return 0;
}

static int encode(const char *name)
{
	struct hmo_shm s;
	int rc;

	/* The capture process may not have created the segment yet: try for 10 s. */
	for (int tries = 0; (rc = hmo_shm_open(name, &s)) == -ENOENT && tries < 1000; tries++)
		usleep(10000);
	if (rc) {
		fprintf(stderr, "encode: hmo_shm_open %s: %s\n", name, strerror(-rc));
		return 1;
	}
	struct header *h = s.addr;
	for (int tries = 0; __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != MAGIC; tries++) {
		if (tries == 1000) {
			fprintf(stderr, "encode: %s was never set up\n", name);
			hmo_shm_close(&s, 0);
			return 1;
		}
		usleep(10000);
	}
	uint64_t bad = 0, frames = h->frames;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t f = 0; f < frames; f++) {
		unsigned i = (unsigned)(f % SLOTS);
		if (take(&h->filled, "encode")) {
			hmo_shm_close(&s, 0);
			return 1;
		}
		const unsigned char *p = slot(&s, i);	/* read in place: no copy */
		if (h->seq[i] != f || checksum(p, FRAME_BYTES) != h->sum[i] || p[FRAME_BYTES / 2] != (f & 0xff))
			bad++;
		sem_post(&h->free_slots);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s_ = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("encode: %llu frames, %llu bad, %.0f frames/s\n", (unsigned long long)frames,
	       (unsigned long long)bad, s_ > 0 ? (double)frames / s_ : 0.0);
	hmo_shm_close(&s, 0);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "capture") == 0)
		return capture(argv[2], argc > 3 ? strtoull(argv[3], NULL, 10) : 120);
	if (argc == 3 && strcmp(argv[1], "encode") == 0)
		return encode(argv[2]);
	if (argc > 2 || (argc == 2 && !(argv[1][0] >= '0' && argv[1][0] <= '9'))) {
		fprintf(stderr, "usage: shm-handoff [FRAMES] | capture NAME [FRAMES] | encode NAME\n");
		return 2;
	}
	/* Both sides, as two processes. */
	char name[64];
	snprintf(name, sizeof name, "handoff-%ld", (long)getpid());
	uint64_t frames = argc > 1 ? strtoull(argv[1], NULL, 10) : 120;
	fflush(stdout);
	pid_t enc = fork();
	if (enc < 0) {
		perror("fork");
		return 1;
	}
	if (enc == 0) {
		int erc = encode(name);
		fflush(stdout);
		_exit(erc);
	}
	int rc = capture(name, frames), st = 0;
	if (waitpid(enc, &st, 0) != enc || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		rc = 1;
	return rc;
}
