/* metrics.c: HMO_METRICS, the process's figures as Prometheus text, for
 * node_exporter's textfile collector (doc/metrics.md).
 *
 * The file is rewritten whole every HMO_INTERVAL by a thread of hmo's own and once
 * more at exit, from the places the summary is written. Each write goes to a
 * temporary file beside it (NAME.tmp.PID), which then replaces NAME by rename(2),
 * so that a reader sees the old figures or the new ones, never a part. Like the
 * summary, it reads every subsystem (the top layer) and uses no malloc and no
 * stdio: the text is built in a static buffer with fmt.h and metrics.h, one writer
 * at a time. A write that fails gives one hmo: line per process; the program goes
 * on, and later writes are tried again. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/fmt.h"
#include "../common/hist.h"
#include "../common/metrics.h"
#include "../common/names.h"
#include "../common/path.h"
#include "copyeng.h"
#include "counters.h"
#include "cuda/cuda.h"
#include "metrics.h"
#include "os.h"
#include "pool.h"
#include "process.h"

static int busy;	/* a write is under way: another caller skips (or, at exit, waits) */
static int final_done;	/* the exit's write is done or under way: no periodic one after it */
static int warned;	/* the one hmo: line of this process has been written */
static pid_t thread_pid;	/* the process whose writer thread runs */
static pid_t names_pid;	/* the process `path`, `tmp` and `exe` were made for */
static char path[HMO_PATH_MAX + 128], tmp[HMO_PATH_MAX + 160];
/* The program's short name when the names were made: a program that rewrites its
 * argv[0] later (a server's title) keeps one exe label, and its file's name. */
static char exe[256];
static bool names_cut;	/* a name did not fit: nothing is written */
static uint64_t last_new;	/* the "new" frames last written: a counter never goes down */

/* The whole file's text; sized far above what any process writes (every function,
 * every CUDA operation and 64 NUMA nodes come to about 40 KiB). */
static char text[256 << 10];
static struct hmo_fn_stats tot[FN_COUNT];
static uint64_t node_bytes[64];

/* The file's name, and the temporary one beside it, made once per process: %t
 * would move on otherwise. A directory gets hmo-EXE-PID.prom inside it. */
static void make_names(void)
{
	struct fmt_buf b;
	struct stat st;
	pid_t me = getpid();

	if (names_pid == me)
		return;
	fmt_init(&b, exe, sizeof exe);
	fmt_str(&b, program_invocation_short_name);
	fmt_init(&b, path, sizeof path);
	hmo_expand_path(&b, hmo_opt.metrics.path);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		fmt_add(&b, "/hmo-%s-%U.prom", exe, (uint64_t)me);
	names_cut = b.truncated;
	fmt_init(&b, tmp, sizeof tmp);
	fmt_add(&b, "%s.tmp.%U", path, (uint64_t)me);
	names_cut |= b.truncated;
	names_pid = me;
}

/* ---- the figures ------------------------------------------------------------------ */

static void add_calls(struct fmt_buf *b, const char *common)
{
	static const enum hmo_metric fams[] = { HMO_M_CALLS, HMO_M_BYTES, HMO_M_LARGE_CALLS, HMO_M_LARGE_BYTES };
	struct hmo_large_copies copies;

	hmo_counters_sum(tot);
	for (unsigned k = 0; k < sizeof fams / sizeof fams[0]; k++) {
		hmo_metric_header(b, fams[k], false);
		for (int f = 0; f < FN_COUNT; f++) {
			uint64_t calls = hmo_hist_total(tot[f].hist);
			if (!calls || (k > 0 && !hmo_fn_has_bytes[f]))
				continue;
			uint64_t v = k == 0 ? calls : k == 1 ? tot[f].bytes : k == 2 ? tot[f].large_calls
											: tot[f].large_bytes;
			hmo_metric_sample(b, fams[k], common, hmo_fn_name((unsigned)f), v);
		}
	}
	hmo_large_copies(tot, &copies);
	hmo_metric_header(b, HMO_M_LARGE_COPY_BYTES, false);
	hmo_metric_sample(b, HMO_M_LARGE_COPY_BYTES, common, NULL, copies.bytes);
	hmo_metric_header(b, HMO_M_LARGE_COPY_TIMED_BYTES, false);
	hmo_metric_sample(b, HMO_M_LARGE_COPY_TIMED_BYTES, common, NULL, copies.timed_bytes);
	hmo_metric_header(b, HMO_M_LARGE_COPY_SECONDS, false);
	hmo_metric_sample_seconds(b, HMO_M_LARGE_COPY_SECONDS, common, NULL, copies.ns);

	uint64_t api_calls, api_bytes, api_ns;
	hmo_copyeng_stats(&api_calls, &api_bytes, &api_ns);
	hmo_metric_header(b, HMO_M_API_COPIES, false);
	hmo_metric_sample(b, HMO_M_API_COPIES, common, NULL, api_calls);
	hmo_metric_header(b, HMO_M_API_COPY_BYTES, false);
	hmo_metric_sample(b, HMO_M_API_COPY_BYTES, common, NULL, api_bytes);
	hmo_metric_header(b, HMO_M_API_COPY_SECONDS, false);
	hmo_metric_sample_seconds(b, HMO_M_API_COPY_SECONDS, common, NULL, api_ns);
}

static void one(struct fmt_buf *b, const char *common, enum hmo_metric m, uint64_t v)
{
	hmo_metric_header(b, m, false);
	hmo_metric_sample(b, m, common, NULL, v);
}

static void add_pool(struct fmt_buf *b, const char *common)
{
	struct pool_stats p;
	char node[4];
	struct fmt_buf nb;

	pool_get_stats(&p);
	hmo_metric_header(b, HMO_M_FRAMES, false);
	hmo_metric_sample(b, HMO_M_FRAMES, common, "hit", p.reused);
	/* allocs and reused are read one after the other while frames are served: keep
	 * the counter from ever going down (Prometheus would take that for a restart) */
	uint64_t fresh = p.allocs > p.reused ? p.allocs - p.reused : 0;
	if (fresh < last_new)
		fresh = last_new;
	last_new = fresh;
	hmo_metric_sample(b, HMO_M_FRAMES, common, "new", fresh);
	hmo_metric_sample(b, HMO_M_FRAMES, common, "fallback", p.fallbacks);
	one(b, common, HMO_M_FRAMES_FREED, p.frees);
	one(b, common, HMO_M_FRAME_BYTES, p.served_bytes);
	/* as the summary and hmo_stats estimate it: a fault per 4 KiB page reused */
	one(b, common, HMO_M_FAULTS_AVOIDED, p.reused_bytes / 4096);
	hmo_metric_header(b, HMO_M_POOL_MAPPED, false);
	hmo_metric_sample(b, HMO_M_POOL_MAPPED, common, "hugetlb", p.hugetlb_bytes);
	hmo_metric_sample(b, HMO_M_POOL_MAPPED, common, "thp", p.thp_bytes);
	hmo_metric_sample(b, HMO_M_POOL_MAPPED, common, "4k", p.small_page_bytes);
	hmo_metric_header(b, HMO_M_POOL_RESIDENT, false);
	os_memset(node_bytes, 0, sizeof node_bytes);
	if (pool_residency(node_bytes) > 0) {
		for (int n = 0; n < 64; n++) {
			if (!node_bytes[n])
				continue;
			fmt_init(&nb, node, sizeof node);
			fmt_u64(&nb, (uint64_t)n);
			hmo_metric_sample(b, HMO_M_POOL_RESIDENT, common, node, node_bytes[n]);
		}
	}
	one(b, common, HMO_M_POOL_LIVE, p.live_bytes);
	one(b, common, HMO_M_POOL_PEAK, p.peak_live_bytes);
	one(b, common, HMO_M_POOL_RELEASED, p.purged_bytes);
}

static void add_process(struct fmt_buf *b, const char *common)
{
	uint64_t peak_rss, minflt, majflt;

	os_rusage(&peak_rss, &minflt, &majflt);
	hmo_metric_header(b, HMO_M_PAGE_FAULTS, false);
	hmo_metric_sample(b, HMO_M_PAGE_FAULTS, common, "minor", minflt);
	hmo_metric_sample(b, HMO_M_PAGE_FAULTS, common, "major", majflt);
	one(b, common, HMO_M_PEAK_RSS, peak_rss);
}

/* The CUDA families: samples only once the program has called the driver (a
 * program without CUDA gets their headers alone). */
static void add_cuda(struct fmt_buf *b, const char *common)
{
	static const enum hmo_metric per_op[] = { HMO_M_CUDA_CALLS, HMO_M_CUDA_BYTES, HMO_M_CUDA_SECONDS,
						   HMO_M_CUDA_ERRORS };
	struct hmo_cu_pool_stats ps;
	struct hmo_cu_stage_stats ss;
	bool any = false;

	for (int i = 0; i < HMO_CUOP_COUNT; i++)
		any |= __atomic_load_n(&hmo_cu_stats[i].calls, __ATOMIC_RELAXED) != 0;
	for (unsigned k = 0; k < sizeof per_op / sizeof per_op[0]; k++) {
		hmo_metric_header(b, per_op[k], false);
		for (int i = 0; any && i < HMO_CUOP_COUNT; i++) {
			const struct hmo_cu_stat *s = &hmo_cu_stats[i];
			if (!__atomic_load_n(&s->calls, __ATOMIC_RELAXED))
				continue;
			const char *op = hmo_cu_name((unsigned)i);
			if (per_op[k] == HMO_M_CUDA_SECONDS)
				hmo_metric_sample_seconds(b, per_op[k], common, op, __atomic_load_n(&s->ns, __ATOMIC_RELAXED));
			else
				hmo_metric_sample(b, per_op[k], common, op,
						  __atomic_load_n(per_op[k] == HMO_M_CUDA_CALLS ? &s->calls
								  : per_op[k] == HMO_M_CUDA_BYTES ? &s->bytes
												   : &s->errors,
								  __ATOMIC_RELAXED));
		}
	}
	os_memset(&ps, 0, sizeof ps);
	os_memset(&ss, 0, sizeof ss);
	if (any) {
		hmo_cu_pool_stats(&ps);
		hmo_cu_stage_stats(&ss);
	}
	/* the rest: family, its label's value, the figure (device memory only once the
	 * program has asked the driver for it) */
	const struct { enum hmo_metric m; const char *label; const uint64_t *v; bool shown; } rows[] = {
		{ HMO_M_CUDA_DEVICE_POOL, "hit", &ps.dev_hits, true },
		{ HMO_M_CUDA_DEVICE_POOL, "miss", &ps.dev_misses, true },
		{ HMO_M_CUDA_PINNED_POOL, "hit", &ps.host_hits, true },
		{ HMO_M_CUDA_PINNED_POOL, "miss", &ps.host_misses, true },
		{ HMO_M_CUDA_STAGED_BYTES, "htod", &ss.htod_bytes, true },
		{ HMO_M_CUDA_STAGED_BYTES, "dtoh", &ss.dtoh_bytes, true },
		{ HMO_M_CUDA_DEVICE_CACHED, NULL, &ps.dev_cached, true },
		{ HMO_M_CUDA_DEVICE_PEAK_CACHED, NULL, &ps.dev_peak_cached, true },
		{ HMO_M_CUDA_DEVICE_RELEASED, NULL, &ps.dev_released, true },
		{ HMO_M_CUDA_PINNED_CACHED, NULL, &ps.host_cached, true },
		{ HMO_M_CUDA_DEVICE_FREE, NULL, &ps.mem_free, ps.mem_total != 0 },
		{ HMO_M_CUDA_DEVICE_TOTAL, NULL, &ps.mem_total, ps.mem_total != 0 },
	};
	for (int m = HMO_M_CUDA_DEVICE_POOL; m <= HMO_M_CUDA_DEVICE_TOTAL; m++) {
		hmo_metric_header(b, (enum hmo_metric)m, false);
		for (unsigned r = 0; any && r < sizeof rows / sizeof rows[0]; r++)
			if (rows[r].m == (enum hmo_metric)m && rows[r].shown)
				hmo_metric_sample(b, rows[r].m, common, rows[r].label, *rows[r].v);
	}
}

/* The file's text, every family in the table's order (metrics.h). */
static void compose(struct fmt_buf *b, bool running)
{
	char common[HMO_LABELS_MAX + 256];
	struct fmt_buf c;

	fmt_init(&c, common, sizeof common);
	hmo_metric_common(&c, exe, (uint64_t)getpid(), hmo_opt.metrics_labels);
	one(b, common, HMO_M_RUNNING, running);
	hmo_metric_header(b, HMO_M_ELAPSED, false);
	hmo_metric_sample_seconds(b, HMO_M_ELAPSED, common, NULL, os_now_ns() - hmo_start_ns);
	one(b, common, HMO_M_THRESHOLD, hmo_opt.threshold);
	add_calls(b, common);
	add_pool(b, common);
	add_process(b, common);
	add_cuda(b, common);
}

/* ---- the file --------------------------------------------------------------------- */

/* One line: "hmo: HMO_METRICS: WHAT NAME[: the error]AFTER; ...". */
static void warn_once(const char *what, const char *name, int err, const char *after)
{
	char line[HMO_PATH_MAX + 256];
	struct fmt_buf w;

	if (__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
		return;
	fmt_init(&w, line, sizeof line);
	fmt_str(&w, "hmo: HMO_METRICS: ");
	fmt_str(&w, what);
	fmt_char(&w, ' ');
	fmt_shown(&w, name, SIZE_MAX, FMT_SHOWN_MAX);
	if (err) {
		fmt_str(&w, ": ");
		fmt_errno(&w, err);
	}
	fmt_str(&w, after);
	fmt_str(&w, "; the figures are not written there (said once per process; later writes are tried)");
	os_warn(w.p);
}

/* The text into the temporary file, then over the file by rename. A symbolic link
 * at the file's name is replaced, never followed; anything else that is not a
 * regular file there (a device such as /dev/full, a directory) is left alone. */
static void replace_file(const char *data, size_t len)
{
	struct stat st;
	int fd, err;

	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		warn_once("not replacing", path, 0, ", which is not a regular file");
		return;
	}
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	fd = open(tmp, flags, 0644);
	if (fd < 0 && errno == EEXIST) {
		/* left by a process of the same pid that was killed mid-write, or put
		 * there by someone else: the name itself goes, never what it points to */
		unlink(tmp);
		fd = open(tmp, flags, 0644);
	}
	if (fd < 0) {
		warn_once("cannot create", tmp, errno, "");
		return;
	}
	(void)fchmod(fd, 0644);	/* whatever the umask: node_exporter may run as another user */
	err = os_write_all(fd, data, len);
	if (close(fd) != 0 && !err)
		err = errno;
	if (!err && rename(tmp, path) != 0)
		err = errno;
	if (err) {
		unlink(tmp);
		warn_once("cannot write", path, err, "");
	}
}

static void write_now(bool running)
{
	struct fmt_buf b;

	make_names();
	if (names_cut) {
		warn_once("the path is too long:", hmo_opt.metrics.path, 0, "");
		return;
	}
	fmt_init(&b, text, sizeof text);
	compose(&b, running);
	if (b.truncated) {
		warn_once("figures too long for the buffer, not written to", path, 0, "");
		return;
	}
	replace_file(b.p, b.len);
}

/* ---- when it is written ----------------------------------------------------------- */

static void *writer(void *arg)
{
	int64_t ms = hmo_opt.interval_ms < 10 ? 10 : hmo_opt.interval_ms;
	pid_t me = (pid_t)(intptr_t)arg;

	hmo_guard_enter();	/* what it calls passes straight through */
	while (__atomic_load_n(&thread_pid, __ATOMIC_RELAXED) == me) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		if (__atomic_load_n(&final_done, __ATOMIC_ACQUIRE))
			break;
		if (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
			continue;	/* another write is under way */
		if (!__atomic_load_n(&final_done, __ATOMIC_ACQUIRE))
			write_now(true);
		__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
	}
	return NULL;
}

void hmo_metrics_start(void)
{
	pthread_t t;
	pthread_attr_t a;
	sigset_t all_sigs, old;
	pid_t me = getpid();
	int saved_errno = errno;

	if (hmo_opt.metrics.kind != HMO_DEST_FILE || hmo_opt.interval_ms < 0 || !hmo_ready())
		return;
	if (__atomic_exchange_n(&thread_pid, me, __ATOMIC_ACQ_REL) == me)
		return;
	hmo_guard_enter();
	sigfillset(&all_sigs);
	pthread_sigmask(SIG_SETMASK, &all_sigs, &old);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	/* glibc takes static TLS out of the stack: room for a program's large TLS. */
	pthread_attr_setstacksize(&a, 1024 * 1024);
	if (pthread_create(&t, &a, writer, (void *)(intptr_t)me) == 0)
		pthread_setname_np(t, "hmo-metrics");
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	hmo_guard_leave();
	errno = saved_errno;
}

void hmo_metrics_child(void)
{
	if (hmo_opt.metrics.kind != HMO_DEST_FILE)
		return;
	/* The parent's thread is not here, and may have been writing at the fork. */
	__atomic_store_n(&busy, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&final_done, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&warned, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&thread_pid, 0, __ATOMIC_RELAXED);
	names_pid = 0;
	last_new = 0;
	/* No writer thread is started here: making a thread in a fork handler may need
	 * the next allocator's locks, which its own handler may not have released yet.
	 * The child writes its file when it exits, or execs. */
}

/* A last write, once a periodic one under way has ended (within moments: wait at
 * most 2 s). Past that the periodic one still holds the buffer and the temporary
 * file: this one is given up, and the file keeps that one's figures. */
static void final_write(void)
{
	int i = 0;

	while (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE)) {
		struct timespec ts = { 0, 1000000 };
		if (++i > 2000)
			return;
		nanosleep(&ts, NULL);
	}
	write_now(false);
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

void hmo_metrics_exit(void)
{
	int saved_errno = errno;

	if (hmo_opt.metrics.kind != HMO_DEST_FILE || !hmo_ready() || getpid() != hmo_pid)
		return;
	if (__atomic_exchange_n(&final_done, 1, __ATOMIC_ACQ_REL))
		return;
	hmo_guard_enter();
	final_write();
	hmo_guard_leave();
	errno = saved_errno;
}

/* Before an exec: the figures of the image about to go, marked as ended. If the
 * exec fails, the writer thread goes on and marks them running again. */
void hmo_metrics_exec(void)
{
	int saved_errno = errno;

	if (hmo_opt.metrics.kind != HMO_DEST_FILE || !hmo_ready() || getpid() != hmo_pid ||
	    __atomic_load_n(&final_done, __ATOMIC_ACQUIRE))
		return;
	hmo_guard_enter();
	final_write();
	hmo_guard_leave();
	errno = saved_errno;
}
