/* init.c: starting and stopping hmo inside someone else's process.
 *
 * hmo_init runs once, from whichever comes first: the constructor or the first hook
 * (other libraries' constructors allocate before ours runs). It resolves the next
 * definitions under the guard, so the allocations dlsym makes come from the bootstrap
 * arena, then reads the options and registers the fork and thread-exit handlers.
 *
 * The summary is written by the destructor, or by _exit/_Exit for programs that
 * leave that way (stress-ng's workers do). Hooks keep working after the destructor:
 * nothing is torn down, and libhmo is linked -z nodelete so it is never unloaded. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/fmt.h"
#include "init.h"
#include "base.h"
#include "copy.h"
#include "counters.h"
#include "exec.h"
#include "instance.h"
#include "metrics.h"
#include "mmap.h"
#include "process.h"
#include "real.h"
#include "summary.h"
#include "tracer.h"
#include "cuda/cuda.h"
#include "os.h"
#include "pool.h"

static void quiet(const char *line)
{
	(void)line;
}

static const char *get_option(const char *name)
{
	return secure_getenv(name);
}

static void atfork_child(void)
{
	hmo_pid = getpid();
	hmo_start_ns = os_now_ns();
	hmo_counters_child();
	hmo_summary_child();
	hmo_trace_child();
	hmo_cu_child();
	pool_atfork_child();
	hmo_metrics_child();
}

/* A relative LD_PRELOAD entry naming libhmo stops working as soon as the program
 * changes directory and starts a child (ld.so: "cannot be preloaded ... ignored").
 * Rewrite that entry to an absolute path, in a static buffer, at start-up. */
static void absolutise_preload(void)
{
	static char buf[4096];
	Dl_info info;
	const char *self, *pre;
	char cwd[2048];
	struct fmt_buf b;

	if (getauxval(AT_SECURE))
		return;
	if (!dladdr((void *)&hmo_init, &info) || !info.dli_fname || info.dli_fname[0] == '/')
		return;
	self = info.dli_fname;
	extern char **environ;
	char **slot = NULL;
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11) == 0)
			slot = e;
	if (!slot || !getcwd(cwd, sizeof cwd))
		return;
	pre = *slot + 11;
	fmt_init(&b, buf, sizeof buf);
	fmt_str(&b, "LD_PRELOAD=");
	bool changed = false;
	while (*pre) {
		size_t n = strcspn(pre, ": ");
		if (n == strlen(self) && strncmp(pre, self, n) == 0) {
			fmt_str(&b, cwd);
			fmt_char(&b, '/');
			changed = true;
		}
		fmt_strn(&b, pre, n);
		pre += n;
		if (*pre)
			fmt_char(&b, *pre++);
	}
	if (changed && !b.truncated)
		*slot = buf;
}

/* A relative HMO_STATS or HMO_METRICS path is taken from the directory the program
 * started in, not wherever it has gone by the time it writes. */
static void anchor_path(struct hmo_output *out)
{
	char cwd[HMO_PATH_MAX];
	char *path = out->path;
	size_t n, c;

	if (out->kind != HMO_DEST_FILE || path[0] == '/' || !getcwd(cwd, sizeof cwd))
		return;
	n = strlen(path);
	c = strlen(cwd);
	if (c + 1 + n + 64 >= HMO_PATH_MAX)
		return;	/* too long to anchor: left relative */
	os_memmove(path + c + 1, path, n + 1);
	os_memmove(path, cwd, c);
	path[c] = '/';
}

void hmo_init(void)
{
	int expect = 0;

	if (!__atomic_compare_exchange_n(&hmo_init_state, &expect, 1, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	int saved_errno = errno;
	hmo_guard_enter();
	hmo_real_resolve();
	hmo_copy_fill_missing();
	hmo_exec_resolve();
	(void)dlerror();
	hmo_pid = getpid();
	hmo_start_ns = os_now_ns();
	hmo_options_ram = pool_read_limits();
	bool passive = hmo_instance_attach();
	/* A passive copy reads the same variables as the first: it says nothing of them. */
	hmo_options_load(&hmo_opt, get_option, passive ? quiet : os_warn);
	extern char **environ;
	hmo_options_check_unknown(environ, getauxval(AT_SECURE) != 0, passive ? quiet : os_warn);
	if (passive) {
		/* Another libhmo is loaded: it has the pool, the statistics and the trace,
		 * and this copy's API hands calls to it (instance.h). Its own hooks, which
		 * only the objects bound to it call, just pass calls on. */
		hmo_opt.pool = false;
		hmo_opt.stats.kind = HMO_DEST_OFF;
		hmo_opt.trace.kind = HMO_DEST_OFF;
		hmo_opt.mmap_mode = HMO_MMAP_OFF;
		hmo_opt.cuda_pool = false;
		hmo_opt.pin = HMO_PIN_OFF;
		hmo_opt.cupti = false;
		hmo_opt.metrics.kind = HMO_DEST_OFF;
	}
	anchor_path(&hmo_opt.stats);
	anchor_path(&hmo_opt.metrics);
	hmo_mmap_init();
	hmo_counters_init(hmo_trace_thread_exit);
	hmo_copy_timing();
	pool_on_pages_chosen(hmo_trace_pool);
	hmo_exec_notify(hmo_metrics_exec);
	pool_configure();
	pthread_atfork(NULL, NULL, atfork_child);
	__atomic_store_n(&hmo_init_state, 2, __ATOMIC_RELEASE);
	hmo_guard_leave();
	errno = saved_errno;
}

__attribute__((noinline, cold)) bool hmo_count_or_init(enum hmo_fn fn, uint64_t n, bool sized)
{
	if (!hmo_tls.guard && !hmo_ready())
		hmo_init();
	if (!hmo_ready())
		return false;
	hmo_count_slow(fn, n, sized);
	return true;
}

__attribute__((constructor)) static void hmo_constructor(void)
{
	hmo_init();
	int saved_errno = errno;
	hmo_guard_enter();
	absolutise_preload();
	hmo_trace_init();
	hmo_guard_leave();
	hmo_trace_modules();
	hmo_trace_signals();
	/* Here rather than in hmo_init, which may run from a first hook anywhere in the
	 * program's start-up: the C library is set up by the time this runs. */
	hmo_metrics_start();
	errno = saved_errno;
}

__attribute__((destructor)) static void hmo_destructor(void)
{
	if (getpid() == hmo_pid)
		hmo_trace_finish(HMO_END_EXIT, 0);
	/* before the summary: the writer thread stops first, and the two never sample
	 * the pool's residency at once */
	hmo_metrics_exit();
	hmo_summary_emit();
}

/* A vfork child (or posix_spawn's) shares the parent's memory and has not run the
 * atfork handlers: it must leave the parent's summary alone. */
static void exit_summary(int status)
{
	if (hmo_ready() && getpid() == hmo_pid) {
		hmo_trace_finish(HMO_END__EXIT, status);
		hmo_metrics_exit();
		hmo_summary_emit();
	}
}

HMO_EXPORT void _exit(int status)
{
	exit_summary(status);
	if (hmo_real.exit_)
		hmo_real.exit_(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

HMO_EXPORT void _Exit(int status)
{
	exit_summary(status);
	if (hmo_real.Exit_)
		hmo_real.Exit_(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}
