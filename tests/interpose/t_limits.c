/* Limits and misuse, run both without hmo and under it by limits.sh, which compares
 * what the two do. Frames are 8 MiB or more (HMO_THRESHOLD's default is 1M).
 *
 *   t_limits threads       frees and reallocates frames, then prints how many threads
 *                          the process has besides hmo's own (named hmo-*): MALLOC_CONF
 *                          must not start any in hmo's jemalloc
 *   t_limits double        frees a frame twice
 *   t_limits interior      frees a pointer 64 KiB inside a live frame
 *   t_limits moved         frees a frame again after realloc moved it (exit 3 when the
 *                          allocator kept it in place: nothing to check)
 *   t_limits split         frees twice a frame cut from a larger freed one
 *   t_limits huge          malloc and calloc of RAM + swap + 1 GiB: prints what came back,
 *                          then makes one frame (hmo_stats's figures to T_STATS, if set)
 *   t_limits lowered       frees 256 MiB of frames, then a child lowers RLIMIT_AS to 1 GiB
 *                          and asks for 128 MiB (fits), 1 GiB (does not) and 16 MiB
 *   t_limits ulimit        counts the 64 KiB blocks it gets under the RLIMIT_AS the
 *                          caller set, after one 64 MiB frame; prints MiB obtained
 *   t_limits idle SECONDS  touches and frees 800 MiB of frames, then works with small
 *                          blocks for SECONDS; prints VmRSS (kB) at the end
 *   t_limits trim          the same with no wait, then malloc_trim(0); prints VmRSS (kB)
 *   t_limits cgroup        400 MiB of frames live, freed, twice (16 and 8 MiB), then
 *                          400 MiB of small blocks kept alive; prints its peak RSS
 *                          (cgroup.sh's second program) */
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define MiB ((size_t)1 << 20)

static long status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	size_t n = strlen(key);

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, key, n) == 0 && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return kb;
}

static int threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[300], name[64] = "";
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
		if ((f = fopen(path, "r")) != NULL) {
			if (!fgets(name, sizeof name, f))
				name[0] = '\0';
			fclose(f);
		}
		n += strncmp(name, "hmo-", 4) != 0;
	}
	closedir(d);
	return n;
}

/* Frames touched then freed, oldest first: what a transcoder does between scenes. */
static void frames(size_t total, size_t each)
{
	size_t n = total / each;
	char **v = malloc(n * sizeof *v);

	for (size_t i = 0; i < n; i++) {
		v[i] = malloc(each);
		if (v[i])
			memset(v[i], (int)i, each);
	}
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static volatile char sink;

/* Small blocks for `seconds`: allocated, touched, freed, never a frame. */
static void small_work(double seconds)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 1000; i++) {
			char *p = malloc(4096);
			p[0] = (char)i;
			sink = p[0];
			free(p);
		}
		struct timespec ms = { 0, 10 * 1000 * 1000 };
		nanosleep(&ms, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
}

static void *nothing(void *arg)
{
	return arg;
}

static int run_lowered(void)
{
	frames(256 * MiB, 32 * MiB);
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit rl;
		rl.rlim_cur = rl.rlim_max = (rlim_t)1024 * MiB;
		if (setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(2);
		errno = 0;
		void *a = malloc(128 * MiB);
		int ea = errno;
		errno = 0;
		void *b = malloc(1024 * MiB);
		int eb = errno;
		void *c = malloc(16 * MiB);	/* within the limit: served */
		/* What never reaches hmo's hooks works too: a thread's stack (glibc maps it
		 * itself). */
		pthread_t t;
		int et = pthread_create(&t, NULL, nothing, NULL);
		if (et == 0)
			pthread_join(t, NULL);
		printf("128M %s%s, 1G %s%s, 16M %s, thread %s\n", a ? "ok" : "NULL",
		       !a && ea == ENOMEM ? " ENOMEM" : "", b ? "ok" : "NULL", !b && eb == ENOMEM ? " ENOMEM" : "",
		       c ? "ok" : "NULL", et ? strerror(et) : "ok");
		fflush(stdout);
		_exit(0);
	}
	int st;
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

static void *blocks[1 << 16];

static int run_ulimit(void)
{
	size_t got = 0, n = 0;
	char *f = malloc(64 * MiB);

	CHECK(f != NULL);
	if (f)
		memset(f, 1, 64 * MiB);
	free(f);
	while (n < sizeof blocks / sizeof *blocks && (blocks[n] = malloc(64 * 1024)) != NULL) {
		got += 64 * 1024;
		n++;
	}
	/* The last blocks came from address space the pool gave back, perhaps: they are
	 * the program's allocator's, and realloc keeps glibc's rules for them. */
	if (n > 2) {
		void *g = realloc(blocks[n - 2], 32 * 1024);	/* shrinks in place */
		CHECK(g == blocks[n - 2]);
		CHECK(realloc(blocks[n - 1], 0) == NULL);	/* frees, as glibc does */
		n--;
	}
	/* Room again; a mapping of the program's own, wherever the kernel puts it (in
	 * address space the pool gave back, perhaps), is its own: munmap removes it. */
	for (size_t i = 0; i < n; i++)
		free(blocks[i]);
	char *m = mmap(NULL, 64 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	if (m != MAP_FAILED) {
		m[0] = 1;
		CHECK(munmap(m, 64 * MiB) == 0);
		CHECK(msync(m, 4096, MS_ASYNC) == -1 && errno == ENOMEM);	/* unmapped */
	}
	f = malloc(16 * MiB);	/* and frames still come and go */
	CHECK(f != NULL);
	if (f)
		memset(f, 2, 16 * MiB);
	free(f);
	printf("%zu\n", got / MiB);
	return check_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	char *p, *q, *r;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(mode, "threads")) {
		frames(256 * MiB, 16 * MiB);
		frames(256 * MiB, 16 * MiB);
		printf("threads %d\n", threads());
		return 0;
	}
	if (!strcmp(mode, "double")) {
		p = malloc(8 * MiB);
		free(p);
		free(p);
		q = malloc(8 * MiB);
		r = malloc(8 * MiB);
		printf("survived: %s\n", q == r ? "one block handed out twice" : "two blocks");
		return 0;
	}
	if (!strcmp(mode, "interior")) {
		p = malloc(8 * MiB);
		free(p + 64 * 1024);
		printf("survived\n");
		return 0;
	}
	if (!strcmp(mode, "moved")) {
		p = malloc(8 * MiB);
		/* Under the threshold: hmo moves it out of the pool; glibc may shrink in place. */
		q = realloc(p, 100);
		if (q == p)
			return 3;
		free(p);
		printf("survived\n");
		return 0;
	}
	if (!strcmp(mode, "split")) {
		p = malloc(32 * MiB);
		free(p);
		q = malloc(8 * MiB);
		r = malloc(8 * MiB);
		free(r);
		free(r);
		printf("survived (%p)\n", (void *)q);
		return 0;
	}
	if (!strcmp(mode, "huge")) {
		struct sysinfo si;
		CHECK(sysinfo(&si) == 0);
		size_t n = ((size_t)si.totalram + (size_t)si.totalswap) * si.mem_unit + 1024 * MiB;
		errno = 0;
		p = malloc(n);
		printf("malloc %s%s\n", p ? "ok" : "NULL", !p && errno == ENOMEM ? " ENOMEM" : "");
		free(p);
		errno = 0;
		p = calloc(1, n);
		printf("calloc %s%s\n", p ? "ok" : "NULL", !p && errno == ENOMEM ? " ENOMEM" : "");
		free(p);
		/* And the program goes on with frames. */
		p = malloc(64 * MiB);
		CHECK(p != NULL);
		if (p)
			memset(p, 2, 64 * MiB);
		free(p);
		return check_stats(check_done("t_limits huge"));
	}
	if (!strcmp(mode, "lowered"))
		return run_lowered();
	if (!strcmp(mode, "ulimit"))
		return run_ulimit();
	if (!strcmp(mode, "idle") || !strcmp(mode, "trim")) {
		frames(800 * MiB, 16 * MiB);
		if (!strcmp(mode, "trim"))
			malloc_trim(0);
		else
			small_work(argc > 2 ? atof(argv[2]) : 1);
		printf("%ld\n", status_kb("VmRSS"));
		return 0;
	}
	if (!strcmp(mode, "cgroup")) {
		frames(400 * MiB, 16 * MiB);
		frames(400 * MiB, 8 * MiB);
		size_t n = 400 * MiB / 4096;
		char **v = malloc(n * sizeof *v);
		for (size_t i = 0; i < n; i++) {
			v[i] = malloc(4000);
			memset(v[i], 3, 4000);
		}
		printf("peak %ld kB\n", status_kb("VmHWM"));
		return 0;
	}
	fprintf(stderr, "t_limits: unknown mode %s\n", mode);
	return 2;
}
