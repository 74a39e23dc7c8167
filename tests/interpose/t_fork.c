/* Fork while other threads allocate, and fork from a signal handler
 * that interrupted a thread inside hmo's hooks. Every child must be able to allocate
 * and exit; nothing may deadlock. fork.sh runs this under a time limit.
 *
 *   t_fork threads N    N forks while 3 threads allocate and free
 *   t_fork signal N     N forks from a SIGUSR1 handler that interrupts the main
 *                       thread while it loops in hmo's mmap/memcpy hooks
 *   t_fork stats N      N children that each make 7 mallocs of 777,777 bytes and _exit */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static volatile int stop;

static void *churn(void *arg)
{
	void *held[64] = { 0 };
	unsigned seed = (unsigned)(uintptr_t)arg;

	while (!stop) {
		unsigned i = (seed = seed * 1103515245 + 12345) >> 16;
		free(held[i % 64]);
		held[i % 64] = malloc(i % 5000 + 1);
	}
	for (int i = 0; i < 64; i++)
		free(held[i]);
	return NULL;
}

static int child_work(void)
{
	/* The child allocates (through hmo) and leaves through _exit, hooked too. */
	char *p = malloc(100000);
	if (!p)
		return 1;
	memset(p, 1, 100000);
	p = realloc(p, 200000);
	free(p);
	return 0;
}

static int run_threads(int n)
{
	pthread_t t[3];
	int bad = 0;

	for (int i = 0; i < 3; i++)
		CHECK(pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1)) == 0);
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(child_work());
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	stop = 1;
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	CHECK(bad == 0);
	return check_done("t_fork threads");
}

static volatile sig_atomic_t forks_done, forks_bad;

static void on_usr1(int sig)
{
	int saved = errno, st;
	(void)sig;
	pid_t pid = fork();
	if (pid == 0) {
		/* async-signal-safe work only, then the hooked _exit */
		char buf[64];
		memcpy(buf, "child", 6);
		_exit(buf[0] == 'c' ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		forks_bad++;
	forks_done++;
	errno = saved;
}

static pthread_t main_thread;

static void *signaller(void *arg)
{
	int n = (int)(intptr_t)arg;
	for (int i = 0; i < n; i++) {
		int before = forks_done;
		pthread_kill(main_thread, SIGUSR1);
		while (forks_done == before)
			usleep(100);
	}
	stop = 1;
	return NULL;
}

static int run_signal(int n)
{
	pthread_t sig, churner;
	sigset_t set;
	char src[8192], dst[8192];

	memset(src, 7, sizeof src);
	main_thread = pthread_self();
	signal(SIGUSR1, on_usr1);
	/* Only the main thread takes SIGUSR1. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	CHECK(pthread_create(&churner, NULL, churn, (void *)7) == 0);
	CHECK(pthread_create(&sig, NULL, signaller, (void *)(intptr_t)n) == 0);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (!stop) {
		void *m = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m != MAP_FAILED) {
			memcpy(m, src, sizeof src);
			memmove(dst, m, sizeof dst);
			munmap(m, 65536);
		}
	}
	pthread_join(sig, NULL);
	pthread_join(churner, NULL);
	CHECK(forks_done == n);
	CHECK(forks_bad == 0);
	return check_done("t_fork signal");
}

static int run_stats(int n)
{
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			void *p[7];
			for (int k = 0; k < 7; k++)
				p[k] = malloc(777777);
			for (int k = 0; k < 7; k++)
				free(p[k]);
			_exit(0);
		}
		int st;
		CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	return check_done("t_fork stats");
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 100;

	if (argc > 1 && strcmp(argv[1], "threads") == 0)
		return run_threads(n);
	if (argc > 1 && strcmp(argv[1], "signal") == 0)
		return run_signal(n);
	if (argc > 1 && strcmp(argv[1], "stats") == 0)
		return run_stats(n);
	check_say("usage: t_fork threads|signal|stats N\n");
	return 2;
}
