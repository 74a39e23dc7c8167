/* exec.c: the exec family. exec replaces the process image, and with it whatever the
 * trace buffers still hold; these hooks write them out first (hmo_trace_flush), then
 * call the next definition. The new program writes a trace of its own under the same
 * pid, and hmo-report shows the old one as having become it.
 *
 * glibc's execl, execle, execlp and posix_spawn reach the kernel through internal
 * calls that no interposer sees: a program that uses them loses its last unflushed
 * records, as a SIGKILL would. */
#include <dlfcn.h>
#include <errno.h>
#include <unistd.h>

#include "exec.h"
#include "base.h"
#include "counters.h"
#include "process.h"
#include "tracer.h"

/* The next definition of NAME, looked up on first use (exec is rare) under the guard,
 * so that dlsym's own allocations do not come back here. */
static void *next(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!f) {
		hmo_guard_enter();
		f = dlsym(RTLD_NEXT, name);
		hmo_guard_leave();
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}

/* A vfork child (posix_spawn's too) has the parent's memory and pid-specific state:
 * it leaves the parent's buffers to the parent. */
/* Set by hmo_init: what above the hooks has to be done before an exec (the
 * metrics file's last write). */
static void (*on_exec)(void);

void hmo_exec_notify(void (*fn)(void))
{
	on_exec = fn;
}

static void before_exec(void)
{
	if (hmo_ready() && getpid() == hmo_pid) {
		hmo_trace_flush();
		if (on_exec)
			on_exec();
	}
}

#define NEXT(fn) ((__typeof__(&fn))next(&next_##fn, #fn))
static void *next_execve, *next_execv, *next_execvp, *next_execvpe, *next_fexecve;

/* At initialisation: a vfork child, which is where most execs happen, must not be the
 * first to call dlsym (it would take the loader's locks in the parent's memory). */
void hmo_exec_resolve(void)
{
	(void)NEXT(execve);
	(void)NEXT(execv);
	(void)NEXT(execvp);
	(void)NEXT(execvpe);
	(void)NEXT(fexecve);
}

static int missing(void)
{
	errno = ENOSYS;
	return -1;
}

HMO_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	before_exec();
	__typeof__(&execve) f = NEXT(execve);
	return f ? f(path, argv, envp) : missing();
}

HMO_EXPORT int execv(const char *path, char *const argv[])
{
	before_exec();
	__typeof__(&execv) f = NEXT(execv);
	return f ? f(path, argv) : missing();
}

HMO_EXPORT int execvp(const char *file, char *const argv[])
{
	before_exec();
	__typeof__(&execvp) f = NEXT(execvp);
	return f ? f(file, argv) : missing();
}

HMO_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	before_exec();
	__typeof__(&execvpe) f = NEXT(execvpe);
	return f ? f(file, argv, envp) : missing();
}

HMO_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	before_exec();
	__typeof__(&fexecve) f = NEXT(fexecve);
	return f ? f(fd, argv, envp) : missing();
}
