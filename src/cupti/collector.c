/* collector.c: libhmo-cupti.so, the CUPTI activity collector.
 *
 * Started either by the CUDA driver, which loads CUDA_INJECTION64_PATH during cuInit
 * and calls InitializeInjection, or by libhmo when HMO_CUPTI=1 (hmo-run --gpu), once
 * the program's cuInit has succeeded. It enables the activity kinds hmo reports
 * (memcpy, peer copies, memset, memory, memory pools, kernels, runtime and driver
 * API), takes CUPTI's buffers on CUPTI's own thread, converts each record
 * (convert.c) and writes it into the process's trace: through libhmo when libhmo is
 * loaded and tracing, else into a file of its own in HMO_TRACE (or the current
 * directory). Buffers are flushed every HMO_INTERVAL and at exit; records CUPTI had
 * to drop are counted.
 *
 * Whatever fails (no driver, the stub library, another CUPTI client such as
 * torch.profiler's Kineto, nsys or ncu already holding CUPTI's one subscriber slot, a
 * CUPTI of another version) gives one line, "hmo: CUPTI unavailable: ...", and the
 * collector stays off; the program goes on.
 *
 * A forked child writes nothing of the GPU's, neither into the parent's file nor a
 * file of its own: CUDA does not survive fork (the child cannot use the parent's
 * contexts, and CUPTI's thread is not there), so all a child holds is the parent's
 * activity, still in CUPTI's buffers or in ours, which the parent writes itself. A
 * child that execs and uses CUDA starts a fresh collector, with its own file; nsys
 * likewise leaves a forked child alone until it execs. libhmo traces a forked child's
 * allocations in the child's own trace, which then has no GPU section. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dlfcn.h>

#include <cupti.h>

#include "common/fmt.h"
#include "convert.h"

#define API __attribute__((visibility("default")))

API int hmo_cupti_start(void);
API int InitializeInjection(void);
#define BUF_SIZE (8u << 20)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int started;
static pid_t owner;			/* the process that started the collector */
static volatile sig_atomic_t forked;	/* set in every child forked since */
static int (*hmo_put)(uint16_t, const void *, uint32_t);	/* libhmo's trace, when tracing */
static int fd = -1;					/* else a file of its own */
static char out[1 << 20];
static size_t outlen;
static uint64_t dropped;

static void say(const char *why, CUptiResult rc)
{
	const char *s = NULL;

	if (rc != CUPTI_SUCCESS)
		cuptiGetResultString(rc, &s);
	fprintf(stderr, "hmo: CUPTI unavailable: %s%s%s%s; the GPU is not traced, the program goes on\n", why,
		s ? " (" : "", s ? s : "", s ? ")" : "");
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- whose records -------------------------------------------------------------- */

/* In a forked child (see the top): only async-signal-safe work here, the child may
 * be the fork of a signal handler or of a thread that held malloc's locks. The
 * descriptor is the parent's file, not the child's: it goes. mu may have been held
 * by CUPTI's thread at the fork, and stays so in the child: nothing takes it there. */
static void atfork_child(void)
{
	int saved_errno = errno;

	forked = 1;
	if (fd >= 0)
		close(fd);
	fd = -1;
	errno = saved_errno;
}

/* Whether this is the process that started the collector. The pid covers what runs
 * no fork handler (a vfork child that calls exit, a raw clone); the flag a child
 * that has its parent's pid number in a new pid namespace. */
static int ours(void)
{
	return !forked && getpid() == owner;
}

/* ---- where the records go ------------------------------------------------------ */

static void flush_out(void)
{
	const char *p = out;
	size_t n = outlen;

	while (n && fd >= 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "hmo: writing the GPU trace failed (%s); GPU tracing stops\n", strerror(errno));
			close(fd);
			fd = -1;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	outlen = 0;
}

/* One record, with mu held. */
static void put(uint16_t type, const void *payload, uint32_t size)
{
	if (hmo_put) {
		(void)hmo_put(type, payload, size);
		return;
	}
	if (fd < 0)
		return;
	struct hmo_rec h = { type, 0, size };
	size_t total = sizeof h + ((size + 7u) & ~7u);
	if (outlen + total > sizeof out)
		flush_out();
	memcpy(out + outlen, &h, sizeof h);
	memcpy(out + outlen + sizeof h, payload, size);
	memset(out + outlen + sizeof h + size, 0, total - sizeof h - size);
	outlen += total;
}

/* The file of its own: HMO_TRACE's directory (or the current one), named like
 * libhmo's but .gpu.trace, created exclusively. */
static int open_own(void)
{
	const char *dir = getenv("HMO_TRACE");
	char exe[512], path[1024];
	struct stat st;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	const char *base;

	exe[n > 0 ? n : 0] = '\0';
	base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	if (!dir || !*dir || !strcmp(dir, "1") || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		dir = ".";
	snprintf(path, sizeof path, "%s/hmo-%s-%d.gpu.trace", dir, base, (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_APPEND, 0600);
	if (fd < 0) {
		char shown[FMT_SHOWN_MAX + 8];
		struct fmt_buf b;
		fmt_init(&b, shown, sizeof shown);
		fmt_shown(&b, path, SIZE_MAX, FMT_SHOWN_MAX);
		fprintf(stderr, "hmo: cannot create the GPU trace %s: %s; the GPU is not traced\n", shown, strerror(errno));
		return -1;
	}
	struct hmo_trace_header h = { .magic = HMO_TRACE_MAGIC, .version = HMO_TRACE_VERSION, .header_size = sizeof h,
				      .pid = (uint32_t)getpid(), .ppid = (uint32_t)getppid(), .start_ns = now_ns() };
	if (write(fd, &h, sizeof h) != (ssize_t)sizeof h) {
		close(fd);
		fd = -1;
		return -1;
	}
	char p[sizeof(struct hmo_rec_process) + sizeof exe];
	struct hmo_rec_process pr = { .exe_len = (uint32_t)strlen(exe) };
	memcpy(p, &pr, sizeof pr);
	memcpy(p + sizeof pr, exe, pr.exe_len);
	put(HMO_REC_PROCESS, p, (uint32_t)(sizeof pr + pr.exe_len));
	return 0;
}

/* ---- CUPTI's buffers ------------------------------------------------------------- */

static void CUPTIAPI buffer_requested(uint8_t **buffer, size_t *size, size_t *max_records)
{
	*buffer = aligned_alloc(8, BUF_SIZE);
	*size = *buffer ? BUF_SIZE : 0;
	*max_records = 0;
}

static void CUPTIAPI buffer_completed(CUcontext ctx, uint32_t stream, uint8_t *buffer, size_t size, size_t valid)
{
	CUpti_Activity *rec = NULL;
	char conv[HMO_CUPTI_MAX_REC];
	size_t n, lost = 0;

	(void)size;
	if (!ours()) {
		free(buffer);
		return;
	}
	int saved_errno = errno;
	pthread_mutex_lock(&mu);
	while (valid && cuptiActivityGetNextRecord(buffer, valid, &rec) == CUPTI_SUCCESS) {
		uint16_t type = 0;
		if ((n = hmo_cupti_convert(rec, conv, &type)) != 0)
			put(type, conv, (uint32_t)n);
	}
	if (cuptiActivityGetNumDroppedRecords(ctx, stream, &lost) == CUPTI_SUCCESS)
		dropped += lost;
	if (fd >= 0)
		flush_out();
	pthread_mutex_unlock(&mu);
	free(buffer);
	errno = saved_errno;
}

/* At exit of the process that started the collector only: a forked child's flush
 * would hand it the parent's records still in CUPTI's buffers. */
static void at_exit(void)
{
	uint32_t v = 0;

	if (!ours())
		return;
	int saved_errno = errno;
	cuptiActivityFlushAll(1);
	cuptiGetVersion(&v);
	pthread_mutex_lock(&mu);
	struct hmo_rec_gpu_info info = { dropped, v, 0 };
	put(HMO_REC_GPU_INFO, &info, sizeof info);
	if (fd >= 0) {
		struct hmo_rec_end e = { now_ns(), HMO_END_EXIT, 0, 0 };
		put(HMO_REC_END, &e, sizeof e);
		flush_out();
	}
	pthread_mutex_unlock(&mu);
	errno = saved_errno;
}

static void CUPTIAPI on_callback(void *u, CUpti_CallbackDomain d, CUpti_CallbackId id, const void *data)
{
	(void)u, (void)d, (void)id, (void)data;	/* subscribed only to hold CUPTI's one subscriber slot */
}

/* Starts the collector: 0 when it runs, -1 when it could not (said on stderr). */
static int start(void)
{
	static const CUpti_ActivityKind kinds[] = {
		CUPTI_ACTIVITY_KIND_MEMCPY, CUPTI_ACTIVITY_KIND_MEMCPY2, CUPTI_ACTIVITY_KIND_MEMSET,
		CUPTI_ACTIVITY_KIND_MEMORY2, CUPTI_ACTIVITY_KIND_MEMORY_POOL, CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL,
		CUPTI_ACTIVITY_KIND_RUNTIME, CUPTI_ACTIVITY_KIND_DRIVER,
	};
	CUpti_SubscriberHandle sub;
	CUptiResult rc;
	uint32_t v = 0;

	owner = getpid();
	/* The record layouts compiled in are CUPTI 13's: refuse another major version. */
	if ((rc = cuptiGetVersion(&v)) != CUPTI_SUCCESS || v / 10000 != CUPTI_API_VERSION / 10000) {
		char why[96];
		snprintf(why, sizeof why, "CUPTI version %u, hmo was built for %u", v, (unsigned)CUPTI_API_VERSION);
		say(why, rc);
		return -1;
	}
	/* CUPTI has one subscriber slot. Taking it first is all that is asked of a client,
	 * and it is asked before anything else is touched: when another client holds it,
	 * hmo leaves CUPTI as it found it, and that client's tracing goes on. CUPTI names
	 * the holder where it can, and names hmo to whoever comes later. */
	char holder[CUPTI_OLD_SUBSCRIBER_NAME_MIN_LEN] = "";
	CUpti_SubscriberParams sp = { .structSize = CUpti_SubscriberParams_STRUCT_SIZE, .subscriberName = "hmo",
				      .oldSubscriberName = holder, .oldSubscriberSize = sizeof holder };
	rc = cuptiSubscribe_v2(&sub, (CUpti_CallbackFunc)on_callback, NULL, &sp);
	if (rc == CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED) {
		char why[160];
		holder[sizeof holder - 1] = '\0';
		for (char *c = holder; *c; c++)
			if ((unsigned char)*c < ' ')
				*c = ' ';	/* one line, whatever the name */
		if (holder[0])
			snprintf(why, sizeof why, "another CUPTI client, %s, holds CUPTI's one subscriber slot", holder);
		else
			snprintf(why, sizeof why, "another CUPTI client (torch.profiler, nsys, ncu, a debugger) "
				 "holds CUPTI's one subscriber slot");
		say(why, rc);
		return -1;
	}
	if (rc != CUPTI_SUCCESS) {
		say("cuptiSubscribe failed (no GPU driver, or the toolkit's stub libcuda?)", rc);
		return -1;
	}
	*(void **)&hmo_put = dlsym(RTLD_DEFAULT, "hmo_trace_external");
	if (hmo_put && hmo_put(0, NULL, 0) != 0)
		hmo_put = NULL;	/* libhmo is loaded but not tracing: a file of our own */
	if (!hmo_put && open_own() != 0) {
		cuptiUnsubscribe(sub);
		return -1;
	}
	if ((rc = cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed)) != CUPTI_SUCCESS) {
		say("cuptiActivityRegisterCallbacks failed", rc);
		cuptiUnsubscribe(sub);
		return -1;
	}
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if ((rc = cuptiActivityEnable(kinds[i])) != CUPTI_SUCCESS && kinds[i] != CUPTI_ACTIVITY_KIND_MEMORY_POOL) {
			say("cuptiActivityEnable failed", rc);
			cuptiUnsubscribe(sub);
			return -1;
		}
	/* HMO_INTERVAL as libhmo reads it: ms by default, or with an s or m suffix */
	const char *iv = getenv("HMO_INTERVAL");
	char *end = NULL;
	unsigned long ms = iv ? strtoul(iv, &end, 10) : 100;
	if (end && *end == 's')
		ms *= 1000;
	else if (end && *end == 'm' && end[1] != 's')
		ms *= 60000;
	(void)cuptiActivityFlushPeriod(ms && ms < 3600000 ? (uint32_t)ms : 100);
	pthread_atfork(NULL, NULL, atfork_child);
	atexit(at_exit);
	return 0;
}

/* Starts the collector once; a later call (the driver's route and libhmo's can both
 * come) gets the first one's answer. */
API int hmo_cupti_start(void)
{
	static int rc;
	int saved_errno = errno;

	if (!__atomic_exchange_n(&started, 1, __ATOMIC_ACQ_REL))
		__atomic_store_n(&rc, start(), __ATOMIC_RELEASE);
	errno = saved_errno;
	return __atomic_load_n(&rc, __ATOMIC_ACQUIRE);
}

/* The driver's entry point for CUDA_INJECTION64_PATH. */
API int InitializeInjection(void)
{
	return hmo_cupti_start() == 0 ? 1 : 0;
}
