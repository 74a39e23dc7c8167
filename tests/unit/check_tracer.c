/* The trace writer (tracer.c), without LD_PRELOAD: with HMO_TRACE naming a file,
 * hmo_trace_init writes the header and the process record, the records of events,
 * copies, CUDA calls and the pool's choice follow in the format of
 * src/common/trace.h, and hmo_trace_finish adds the counters, a sample and the end
 * record; read back record by record, every field checked. A call stack is written
 * once, before the first event that names it. A trace file that cannot be created
 * gives one hmo: line, no file and no crash, and the program goes on untraced. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>

#include "core.h"

static char dir[PATH_MAX], path[PATH_MAX + 64], opt_trace[PATH_MAX + 80];

/* The file, whole, and where each record starts. */
static char *data;
static size_t size;
struct rec {
	uint16_t type;
	uint32_t len;
	const char *p;
};
static struct rec recs[256];
static int nrecs;

static void start_traced(const char *backtrace)
{
	static char opt_bt[64];
	static const char *opts[8];

	unit_tmpdir(dir, sizeof dir, "hmo-tracer");
	snprintf(path, sizeof path, "%s/t.trace", dir);
	snprintf(opt_trace, sizeof opt_trace, "HMO_TRACE=%s", path);
	snprintf(opt_bt, sizeof opt_bt, "HMO_BACKTRACE=%s", backtrace);
	opts[0] = opt_trace;
	opts[1] = opt_bt;
	opts[2] = "HMO_INTERVAL=never";	/* no sampler thread: the records are the test's */
	opts[3] = "HMO_THRESHOLD=1M";
	opts[4] = "HMO_TRACE_COPY_MIN=64K";
	opts[5] = "HMO_HUGEPAGES=off";
	opts[6] = NULL;
	core_start(opts, hmo_trace_thread_exit);
	hmo_guard_enter();
	hmo_trace_init();
	hmo_guard_leave();
	ck_assert(hmo_tracing);
	ck_assert_uint_eq(hmo_trace_copy_min, 64 * 1024);
}

/* Reads the file and splits it into records, checking each header's size and
 * padding as it goes. */
static void read_back(void)
{
	FILE *f = fopen(path, "rb");
	struct stat st;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fstat(fileno(f), &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	size = (size_t)st.st_size;
	data = malloc(size + 1);
	ck_assert_uint_eq(fread(data, 1, size, f), size);
	fclose(f);
	ck_assert_uint_ge(size, sizeof(struct hmo_trace_header));
	size_t off = sizeof(struct hmo_trace_header);
	nrecs = 0;
	while (off < size) {
		struct hmo_rec h;
		ck_assert_uint_le(off + sizeof h, size);
		memcpy(&h, data + off, sizeof h);
		ck_assert_uint_eq(h.flags, 0);
		size_t padded = ((size_t)h.size + 7) & ~(size_t)7;
		ck_assert_uint_le(off + sizeof h + padded, size);
		for (size_t k = h.size; k < padded; k++)
			ck_assert_int_eq(data[off + sizeof h + k], 0);
		ck_assert_int_lt(nrecs, 256);
		recs[nrecs++] = (struct rec){ h.type, h.size, data + off + sizeof h };
		off += sizeof h + padded;
	}
	ck_assert_uint_eq(off, size);
}

static void cleanup(void)
{
	free(data);
	data = NULL;
	unit_rmtree(dir);
}

START_TEST(records_read_back)
{
	struct hmo_trace_header h;
	struct hmo_rec_process pr;
	struct hmo_rec_event ev;
	struct hmo_rec_copy cp;
	struct hmo_rec_cuda cu;
	struct hmo_rec_pool po, pool_in = { .t = 123, .hugetlb_page = 0, .backing = HMO_BACK_4K,
					    .why = HMO_WHY_FORCED, .thp_mbps = 1, .small_mbps = 2,
					    .flags = HMO_POOL_MEASURED_NOW, .hugetlb_free = 3 };
	struct hmo_rec_counters rc;
	struct hmo_rec_fn fn[FN_COUNT];
	struct hmo_rec_sample sa;
	struct hmo_rec_end end;
	char exe[PATH_MAX];
	uint64_t before, t0;
	uint32_t me = (uint32_t)gettid();
	static const uint16_t want[] = { HMO_REC_PROCESS, HMO_REC_EVENT, HMO_REC_COPY, HMO_REC_POOL,
					  HMO_REC_CUDA, HMO_REC_COUNTERS, HMO_REC_SAMPLE, HMO_REC_END };

	before = os_now_ns();
	start_traced("0");
	/* counted calls: this thread's slot, and its buffer */
	core_count(FN_MALLOC, 100);
	core_count(FN_MALLOC, 2 << 20);
	core_count(FN_MEMCPY, 4096);
	t0 = os_now_ns();
	hmo_trace_event(FN_MALLOC, t0, 2 << 20, (void *)0x7f0000200000, NULL, HMO_OUT_POOL_MISS,
			HMO_BACK_4K, -1);
	hmo_trace_copy(FN_MEMMOVE, t0, 1 << 20, (void *)0x1000, (void *)0x2000);
	hmo_trace_pool(&pool_in);
	hmo_trace_cuda(HMO_CUOP_MEM_ALLOC, t0, 512, 0xd00000, HMO_CUDA_POOL_NEW, 2);
	hmo_trace_finish(HMO_END_EXIT, 0);
	/* after the end, nothing more is recorded */
	hmo_trace_event(FN_MALLOC, t0, 2 << 20, NULL, NULL, 0, 0, -1);
	read_back();

	memcpy(&h, data, sizeof h);
	ck_assert_int_eq(memcmp(h.magic, HMO_TRACE_MAGIC, 8), 0);
	ck_assert_uint_eq(h.version, HMO_TRACE_VERSION);
	ck_assert_uint_eq(h.header_size, sizeof h);
	ck_assert_uint_eq(h.pid, (uint32_t)getpid());
	ck_assert_uint_eq(h.ppid, (uint32_t)getppid());
	ck_assert_uint_eq(h.flags, 0);
	ck_assert_uint_eq(h.start_ns, hmo_start_ns);
	ck_assert_uint_ge(h.start_ns, before);
	ck_assert_uint_gt(h.start_real_ns, 0);

	ck_assert_int_eq(nrecs, (int)(sizeof want / sizeof want[0]));
	for (int i = 0; i < nrecs; i++)
		ck_assert_msg(recs[i].type == want[i], "record %d is of type %u, not %u", i, recs[i].type, want[i]);

	/* the process: options, then exe, command line and HMO_* variables */
	memcpy(&pr, recs[0].p, sizeof pr);
	ck_assert_uint_eq(pr.threshold, 1 << 20);
	ck_assert_uint_eq(pr.copy_min, 64 * 1024);
	ck_assert_uint_eq(pr.backtrace_depth, 0);
	ck_assert_uint_eq(recs[0].len, sizeof pr + pr.exe_len + pr.cmdline_len + pr.options_len);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(pr.exe_len, (uint32_t)n);
	ck_assert_int_eq(memcmp(recs[0].p + sizeof pr, exe, (size_t)n), 0);
	ck_assert_uint_gt(pr.cmdline_len, 0);
	const char *opts = recs[0].p + sizeof pr + pr.exe_len + pr.cmdline_len;
	ck_assert_ptr_nonnull(memmem(opts, pr.options_len, "HMO_INTERVAL=never\n", 19));
	ck_assert_ptr_nonnull(memmem(opts, pr.options_len, "HMO_BACKTRACE=0\n", 16));

	ck_assert_uint_eq(recs[1].len, sizeof ev);
	memcpy(&ev, recs[1].p, sizeof ev);
	ck_assert_uint_eq(ev.t, t0);
	ck_assert_uint_lt(ev.dur, 10000000000ull);
	ck_assert_uint_eq(ev.size, 2 << 20);
	ck_assert_uint_eq(ev.addr, 0x7f0000200000);
	ck_assert_uint_eq(ev.old, 0);
	ck_assert_uint_eq(ev.tid, me);
	ck_assert_uint_eq(ev.stack, 0);
	ck_assert_uint_eq(ev.fn, FN_MALLOC);
	ck_assert_uint_eq(ev.outcome, HMO_OUT_POOL_MISS);
	ck_assert_uint_eq(ev.backing, HMO_BACK_4K);
	ck_assert_int_eq(ev.node, -1);

	ck_assert_uint_eq(recs[2].len, sizeof cp);
	memcpy(&cp, recs[2].p, sizeof cp);
	ck_assert_uint_eq(cp.t, t0);
	ck_assert_uint_eq(cp.size, 1 << 20);
	ck_assert_uint_eq(cp.dst, 0x1000);
	ck_assert_uint_eq(cp.src, 0x2000);
	ck_assert_uint_eq(cp.tid, me);
	ck_assert_uint_eq(cp.fn, FN_MEMMOVE);

	ck_assert_uint_eq(recs[3].len, sizeof po);
	memcpy(&po, recs[3].p, sizeof po);
	ck_assert_int_eq(memcmp(&po, &pool_in, sizeof po), 0);

	ck_assert_uint_eq(recs[4].len, sizeof cu);
	memcpy(&cu, recs[4].p, sizeof cu);
	ck_assert_uint_eq(cu.t, t0);
	ck_assert_uint_eq(cu.size, 512);
	ck_assert_uint_eq(cu.ptr, 0xd00000);
	ck_assert_uint_eq(cu.op, HMO_CUOP_MEM_ALLOC);
	ck_assert_uint_eq(cu.flags, HMO_CUDA_POOL_NEW);
	ck_assert_int_eq(cu.result, 2);
	ck_assert_uint_eq(cu.tid, me);

	/* this thread's counters: malloc and memcpy, in the order of enum hmo_fn */
	memcpy(&rc, recs[5].p, sizeof rc);
	ck_assert_uint_eq(rc.tid, me);
	ck_assert_uint_eq(rc.nfn, 2);
	ck_assert_uint_eq(recs[5].len, sizeof rc + 2 * sizeof fn[0]);
	memcpy(fn, recs[5].p + sizeof rc, 2 * sizeof fn[0]);
	ck_assert_uint_eq(fn[0].fn, FN_MALLOC);
	ck_assert_uint_eq(fn[0].calls, 2);
	ck_assert_uint_eq(fn[0].bytes, 100 + (2 << 20));
	ck_assert_uint_eq(fn[0].large_calls, 1);
	ck_assert_uint_eq(fn[0].large_bytes, 2 << 20);
	ck_assert_uint_eq(fn[0].hist[7], 1);
	ck_assert_uint_eq(fn[0].hist[22], 1);
	ck_assert_uint_eq(fn[1].fn, FN_MEMCPY);
	ck_assert_uint_eq(fn[1].calls, 1);
	ck_assert_uint_eq(fn[1].bytes, 4096);
	ck_assert_uint_eq(fn[1].hist[13], 1);

	ck_assert_uint_eq(recs[6].len, sizeof sa);
	memcpy(&sa, recs[6].p, sizeof sa);
	ck_assert_uint_ge(sa.t, t0);
	ck_assert_uint_gt(sa.rss, 0);
	ck_assert_uint_eq(sa.pool_live, 0);

	ck_assert_uint_eq(recs[7].len, sizeof end);
	memcpy(&end, recs[7].p, sizeof end);
	ck_assert_uint_ge(end.t, sa.t);
	ck_assert_uint_eq(end.how, HMO_END_EXIT);
	ck_assert_int_eq(end.status, 0);
	ck_assert_uint_eq(end.dropped, 0);
	cleanup();
}
END_TEST

/* An event's call stack goes out once, before the first event that names it. */
static __attribute__((noinline)) void event_here(uint64_t bytes)
{
	hmo_trace_event(FN_MALLOC, os_now_ns(), bytes, NULL, NULL, HMO_OUT_FALLBACK, HMO_BACK_NONE, -1);
	__asm__ volatile("" ::: "memory");
}

START_TEST(stacks_precede_their_events)
{
	uint32_t ids[4] = { 0 };
	int nev = 0, nstack = 0;

	start_traced("4");
	for (int i = 0; i < 3; i++)
		event_here(4 << 20);
	hmo_trace_finish(HMO_END__EXIT, 3);
	read_back();
	for (int i = 0; i < nrecs; i++) {
		if (recs[i].type == HMO_REC_STACK) {
			struct hmo_rec_stack s;
			memcpy(&s, recs[i].p, sizeof s);
			ck_assert_uint_ge(s.depth, 1);
			ck_assert_uint_le(s.depth, 4);
			ck_assert_uint_eq(recs[i].len, sizeof s + 8 * s.depth);
			ck_assert_int_lt(nstack, 4);
			ids[nstack++] = s.id;
		} else if (recs[i].type == HMO_REC_EVENT) {
			struct hmo_rec_event e;
			memcpy(&e, recs[i].p, sizeof e);
			ck_assert_uint_ne(e.stack, 0);
			bool known = false;
			for (int k = 0; k < nstack; k++)
				known |= ids[k] == e.stack;
			ck_assert_msg(known, "event %d names stack %u before it was written", nev, e.stack);
			ck_assert_uint_eq(e.outcome, HMO_OUT_FALLBACK);
			nev++;
		}
	}
	ck_assert_int_eq(nev, 3);
	/* the same call site: one stack */
	ck_assert_int_eq(nstack, 1);
	struct hmo_rec_end end;
	ck_assert_uint_eq(recs[nrecs - 1].type, HMO_REC_END);
	memcpy(&end, recs[nrecs - 1].p, sizeof end);
	ck_assert_uint_eq(end.how, HMO_END__EXIT);
	ck_assert_int_eq(end.status, 3);
	cleanup();
}
END_TEST

/* A thread's records go out when it exits, before the trace ends. */
static void *traced_thread(void *arg)
{
	(void)arg;
	core_count(FN_MALLOC, 1);	/* a slot, so a buffer of its own */
	hmo_trace_copy(FN_MEMSET, os_now_ns(), 1 << 20, (void *)0x3000, NULL);
	return NULL;
}

START_TEST(thread_exit_flushes_its_records)
{
	pthread_t t;
	struct stat st;

	start_traced("0");
	ck_assert_int_eq(stat(path, &st), 0);
	off_t start = st.st_size;
	ck_assert_int_eq(pthread_create(&t, NULL, traced_thread, NULL), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size - start, sizeof(struct hmo_rec) + sizeof(struct hmo_rec_copy));
	hmo_trace_finish(HMO_END_EXIT, 0);
	read_back();
	ck_assert_uint_eq(recs[1].type, HMO_REC_COPY);
	cleanup();
}
END_TEST

/* The trace cannot be created: one line on stderr, no file, and every call after is
 * a no-op. */
static void untraceable(void *arg)
{
	static char opt[PATH_MAX + 80];
	const char *opts[] = { opt, "HMO_INTERVAL=never", NULL };

	snprintf(opt, sizeof opt, "HMO_TRACE=%s", (const char *)arg);
	core_start(opts, hmo_trace_thread_exit);
	hmo_trace_init();
	if (hmo_tracing)
		_exit(2);
	core_count(FN_MALLOC, 1);
	hmo_trace_event(FN_MALLOC, os_now_ns(), 2 << 20, NULL, NULL, 0, 0, -1);
	hmo_trace_copy(FN_MEMCPY, os_now_ns(), 2 << 20, NULL, NULL);
	hmo_trace_finish(HMO_END_EXIT, 0);
}

START_TEST(unwritable_path_one_line)
{
	char err[4096], missing[PATH_MAX + 32], want[PATH_MAX + 64];
	struct stat st;

	unit_tmpdir(dir, sizeof dir, "hmo-tracer");
	snprintf(missing, sizeof missing, "%s/no-such-dir/t.trace", dir);
	int status = core_in_child(untraceable, missing, err, sizeof err);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x, stderr: %s", status, err);
	snprintf(want, sizeof want, "hmo: trace %s: ", missing);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "stderr: %s", err);
	ck_assert_msg(strstr(err, "; tracing off\n") != NULL, "stderr: %s", err);
	ck_assert_ptr_eq(strchr(err, '\n'), err + strlen(err) - 1);
	ck_assert_int_ne(stat(missing, &st), 0);
	unit_rmtree(dir);
}
END_TEST

/* An existing file is not overwritten: the trace takes NAME.1. */
START_TEST(taken_name_gets_a_suffix)
{
	char first[PATH_MAX + 64], second[PATH_MAX + 80];
	struct stat st;

	unit_tmpdir(dir, sizeof dir, "hmo-tracer");
	snprintf(first, sizeof first, "%s/t.trace", dir);
	FILE *f = fopen(first, "w");
	ck_assert_ptr_nonnull(f);
	fputs("mine", f);
	fclose(f);
	static char opt[PATH_MAX + 80];
	snprintf(opt, sizeof opt, "HMO_TRACE=%s", first);
	const char *opts[] = { opt, "HMO_INTERVAL=never", NULL };
	core_start(opts, hmo_trace_thread_exit);
	hmo_trace_init();
	ck_assert(hmo_tracing);
	hmo_trace_finish(HMO_END_EXIT, 0);
	ck_assert_int_eq(stat(first, &st), 0);
	ck_assert_int_eq(st.st_size, 4);
	snprintf(second, sizeof second, "%s.1", first);
	ck_assert_int_eq(stat(second, &st), 0);
	ck_assert_int_gt(st.st_size, sizeof(struct hmo_trace_header));
	unit_rmtree(dir);
}
END_TEST

START_TEST(not_tracing_writes_nothing)
{
	static const char *const opts[] = { "HMO_INTERVAL=never", NULL };

	core_start(opts, hmo_trace_thread_exit);
	hmo_trace_init();
	ck_assert(!hmo_tracing);
	ck_assert_uint_eq(hmo_trace_copy_min, UINT64_MAX);
	ck_assert_uint_eq(hmo_trace_t0(), 0);
	hmo_trace_event(FN_MALLOC, 1, 2 << 20, NULL, NULL, 0, 0, -1);
	hmo_trace_finish(HMO_END_EXIT, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tracer");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, records_read_back);
	tcase_add_test(tc, stacks_precede_their_events);
	tcase_add_test(tc, thread_exit_flushes_its_records);
	tcase_add_test(tc, unwritable_path_one_line);
	tcase_add_test(tc, taken_name_gets_a_suffix);
	tcase_add_test(tc, not_tracing_writes_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite(), CK_FORK);
}
