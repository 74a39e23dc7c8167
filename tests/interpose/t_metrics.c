/* A program for metrics.sh: frames, reuse and copies of known sizes, then the
 * hmo_stats figures (check_stats) to compare with its HMO_METRICS file.
 *
 *   t_metrics exact      frames and copies, check_stats, then _exit(5): nothing
 *                        runs between hmo_stats and the file's last write
 *   t_metrics run MS     frames and copies for MS milliseconds, then return 0
 *   t_metrics chdir      chdir("/"), frames and copies, then return 5: a relative
 *                        HMO_METRICS is where the program started
 *   t_metrics fork [MS]  a child does the same as exact (for MS milliseconds more);
 *                        the parent waits, then returns the child's status */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static char src[4 << 20], dst[4 << 20];

static void work(void)
{
	for (int i = 0; i < 8; i++) {
		char *p = malloc((size_t)3 << 20);	/* a frame: the first new, the rest reused */
		if (!p)
			abort();
		p[0] = (char)i;
		free(p);
	}
	for (int i = 0; i < 3; i++)
		memcpy(dst, src, sizeof dst);		/* large copies */
	memset(dst, 1, 4096);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "run") == 0) {
		double end = now() + atof(argv[2]) / 1000;
		while (now() < end)
			work();
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "fork") == 0) {
		int st;
		pid_t c = fork();
		if (c == 0) {
			double end = now() + (argc > 2 ? atof(argv[2]) / 1000 : 0);
			do
				work();
			while (now() < end);
			_exit(3);
		}
		work();
		if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st))
			return 1;
		return WEXITSTATUS(st);
	}
	if (argc > 1 && strcmp(argv[1], "chdir") == 0) {
		if (chdir("/") != 0)
			return 1;
		work();
		return 5;
	}
	work();
	check_stats(0);
	_exit(5);
}
