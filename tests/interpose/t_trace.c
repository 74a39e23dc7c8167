/* t_trace: known large allocations, copies and maps, for trace.sh to find in the
 * trace and the report, exactly.
 *
 *   t_trace [normal|fork|threads|long-name|exec PROGRAM ARGS...|hang READY-FILE]
 *
 * normal: 6 malloc of 4 MiB from alloc_frame, each freed; 3 posix_memalign of 3 MiB
 *   from alloc_aligned, one never freed; realloc of a 512 KiB block to 2 MiB, then to
 *   6 MiB, then freed; 7 memcpy of 1 MiB from copy_frame; 2 mmap of 8 MiB, unmapped.
 * fork: the same, and a child that makes 3 more alloc_frame calls and leaves by _exit.
 * threads: the same, and 4 threads that make 5 alloc_frame calls each.
 * long-name: the same, and one 4 MiB malloc, kept, from a function whose name is
 *       longer than a line of the report.
 * exec PROGRAM ARGS...: the same, then PROGRAM replaces it (execv).
 * hang: the same, then READY-FILE is created and the program waits to be killed
 *       (it gives up after 2 minutes, with status 5). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB ((size_t)1 << 20)

static char src_buf[MiB], dst_buf[MiB];
/* Loop counts the compiler cannot see: an unrolled loop would make each call its own
 * call site. */
static volatile int six = 6, three = 3, seven = 7, two = 2;

static void touch(char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 4096)
		p[i] = 1;
}

__attribute__((noinline)) static void *alloc_frame(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");	/* keeps the call a call, not a tail jump */
	return p;
}

__attribute__((noinline)) static void *alloc_aligned(size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, 2 * MiB, n) != 0)
		return NULL;
	__asm__ volatile("" ::: "memory");
	return p;
}

__attribute__((noinline)) static void copy_frame(void *d, const void *s, size_t n)
{
	memcpy(d, s, n);
	__asm__ volatile("" ::: "memory");
}

static void frames(int count)
{
	for (int i = 0; i < count; i++) {
		char *p = alloc_frame(4 * MiB);
		if (!p)
			exit(3);
		touch(p, 4 * MiB);
		free(p);
	}
}

static void *thread_main(void *arg)
{
	(void)arg;
	frames(5);
	return NULL;
}

static void workload(void)
{
	frames(six);

	void *a[3];
	for (int i = 0; i < three; i++)
		if (!(a[i] = alloc_aligned(3 * MiB)))
			exit(3);
	free(a[0]);
	free(a[1]);	/* a[2] is never freed */

	char *r = malloc(MiB / 2);
	r = realloc(r, 2 * MiB);
	r = realloc(r, 6 * MiB);
	if (!r)
		exit(3);
	free(r);

	for (int i = 0; i < seven; i++)
		copy_frame(dst_buf, src_buf, MiB);

	for (int i = 0; i < two; i++) {
		void *m = mmap(NULL, 8 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			exit(3);
		touch(m, 8 * MiB);
		munmap(m, 8 * MiB);
	}
}

#define LONG_NAME \
	a_function_whose_name_is_so_long_that_the_report_has_to_shorten_it_to_keep_every_line_within_its_width
__attribute__((noinline)) static void *LONG_NAME(void)
{
	void *p = malloc(4 * MiB);

	if (p)
		touch(p, 4 * MiB);
	return p;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "normal";

	workload();
	if (strcmp(mode, "fork") == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			frames(3);
			_exit(0);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return 4;
	} else if (strcmp(mode, "threads") == 0) {
		pthread_t t[4];
		for (int i = 0; i < 4; i++)
			if (pthread_create(&t[i], NULL, thread_main, NULL) != 0)
				return 4;
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
	} else if (strcmp(mode, "long-name") == 0) {
		if (!LONG_NAME())
			return 4;
	} else if (strcmp(mode, "exec") == 0 && argc > 2) {
		execv(argv[2], argv + 2);
		return 4;
	} else if (strcmp(mode, "hang") == 0 && argc > 2) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			return 4;
		close(fd);
		/* Killed well before this; the bound only keeps a lost one from staying. */
		sleep(120);
		return 5;
	}
	printf("done\n");
	return 0;
}
