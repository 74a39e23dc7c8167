/* core.h: what a unit test of libhmo's internals (libhmo-core.la: the counters, the
 * frame pool, the trace writer, the CUDA layer) sets up in place of hmo_init, which
 * lives in libhmo.so and is not linked into the tests.
 *
 * core_start(opts) does what init.c's hmo_init does for those layers, in the same
 * order and under the same guard: the next definitions, the pid and start time, the
 * memory the options' percentages refer to, the options (read from `opts`, a
 * NULL-terminated list of "HMO_NAME=value", which are also put in the environment so
 * that the trace's process record lists them), the counters with the given
 * thread-exit callback, the copy timing, the pool's threshold, and the "initialised"
 * state the hooks and the slow paths test. A warning about an option fails the test.
 *
 * The layers keep their state in globals that start once per process, so every test
 * needs a process of its own: Check's default fork mode gives each test one. */
#ifndef HMO_TEST_UNIT_CORE_H
#define HMO_TEST_UNIT_CORE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/options.h"
#include "preload/counters.h"
#include "preload/os.h"
#include "preload/pool.h"
#include "preload/process.h"
#include "preload/real.h"
#include "preload/tracer.h"
#include "unit.h"

static int core_warnings;

static void core_warn(const char *line)
{
	fprintf(stderr, "%s\n", line);
	core_warnings++;
}

static const char *core_get(const char *name)
{
	return getenv(name);
}

static inline void core_start(const char *const *opts, void (*thread_exit)(struct hmo_slot *))
{
	const char *fork_mode = getenv("CK_FORK");

	ck_assert_msg(!fork_mode || strcmp(fork_mode, "no") != 0,
		      "these tests need a process each: run them without CK_FORK=no");
	for (const char *const *o = opts; o && *o; o++)
		ck_assert_int_eq(putenv((char *)*o), 0);
	hmo_guard_enter();
	hmo_real_resolve();
	hmo_pid = getpid();
	hmo_start_ns = os_now_ns();
	hmo_options_ram = pool_read_limits();
	int bad = hmo_options_load(&hmo_opt, core_get, core_warn);
	hmo_counters_init(thread_exit);
	hmo_copy_timing();
	pool_on_pages_chosen(hmo_trace_pool);
	pool_configure();
	__atomic_store_n(&hmo_init_state, 2, __ATOMIC_RELEASE);
	hmo_guard_leave();
	ck_assert_int_eq(bad, 0);
	ck_assert_int_eq(core_warnings, 0);
}

/* A call of fn with n bytes as a hook counts it: on the thread's slot when it has one,
 * else through the slow path, which claims one (or, for an exiting thread, counts
 * into the shared slot). */
static inline void core_count(enum hmo_fn fn, uint64_t n)
{
	struct hmo_slot *s = hmo_tls.slot;

	if (s)
		hmo_count(s, fn, n);
	else
		hmo_count_slow(fn, n, true);
}

/* Runs fn(arg) in a child process with its stderr captured into err (cut to cap);
 * returns the child's wait status. */
static inline int core_in_child(void (*fn)(void *), void *arg, char *err, size_t cap)
{
	int pfd[2];
	pid_t pid;
	int status = 0;
	size_t len = 0;
	ssize_t n;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], 2);
		fn(arg);
		_exit(0);
	}
	close(pfd[1]);
	while (len + 1 < cap && (n = read(pfd[0], err + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	err[len] = '\0';
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

#endif
