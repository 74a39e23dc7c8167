/* The per-thread counters (counters.c), without LD_PRELOAD: each thread counts its own
 * calls in a slot of its own and the totals are their exact sum; a thread's exit runs
 * the callback and frees its slot with its counts kept, for the next thread to go on
 * from; calls made after that go to the shared slot; a forked child starts from zero
 * with only its own thread's slot held; large calls and the histogram's buckets. */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "core.h"

#define NTHREADS 8
#define CALLS 1000

static uint64_t calls_of(const struct hmo_fn_stats *f)
{
	uint64_t n = 0;

	for (int i = 0; i < HMO_HIST_BUCKETS; i++)
		n += f->hist[i];
	return n;
}

/* What the thread-exit callback saw. */
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static struct hmo_slot *seen_slot[64];
static uint32_t seen_tid[64];
static uint64_t seen_calls[64];
static int nseen;

static void on_exit_slot(struct hmo_slot *s)
{
	pthread_mutex_lock(&seen_mu);
	if (nseen < 64) {
		seen_slot[nseen] = s;
		seen_tid[nseen] = s->tid;
		seen_calls[nseen] = calls_of(&s->fn[FN_MALLOC]);
		nseen++;
	}
	pthread_mutex_unlock(&seen_mu);
}

static const char *const defaults[] = { "HMO_THRESHOLD=64K", NULL };

static pthread_barrier_t all_counted;

struct worker {
	int index;
	uint32_t tid;
	struct hmo_slot *slot;
};

/* Counts CALLS mallocs of index+1 bytes each, and waits until every worker has, so
 * that all hold a slot at once. */
static void *worker(void *arg)
{
	struct worker *w = arg;

	w->tid = (uint32_t)gettid();
	for (int i = 0; i < CALLS; i++)
		core_count(FN_MALLOC, (uint64_t)w->index + 1);
	w->slot = hmo_tls.slot;
	pthread_barrier_wait(&all_counted);
	return NULL;
}

START_TEST(threads_count_their_own_calls)
{
	pthread_t t[NTHREADS];
	struct worker w[NTHREADS];
	struct hmo_fn_stats sum[FN_COUNT];
	uint64_t bytes = 0;

	core_start(defaults, on_exit_slot);
	pthread_barrier_init(&all_counted, NULL, NTHREADS);
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .index = i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		bytes += (uint64_t)CALLS * (uint64_t)(i + 1);
	}
	/* one distinct slot each, held by that thread */
	for (int i = 0; i < NTHREADS; i++) {
		ck_assert_ptr_nonnull(w[i].slot);
		for (int k = 0; k < i; k++)
			ck_assert_ptr_ne(w[i].slot, w[k].slot);
		ck_assert_uint_eq(w[i].slot->tid, w[i].tid);
	}
	/* each exit ran the callback once, on that thread's own slot and counts */
	ck_assert_int_eq(nseen, NTHREADS);
	for (int i = 0; i < NTHREADS; i++) {
		int k = 0;
		while (k < nseen && seen_tid[k] != w[i].tid)
			k++;
		ck_assert_int_lt(k, nseen);
		ck_assert_ptr_eq(seen_slot[k], w[i].slot);
		ck_assert_uint_eq(seen_calls[k], CALLS);
	}
	hmo_counters_sum(sum);
	ck_assert_uint_eq(calls_of(&sum[FN_MALLOC]), (uint64_t)NTHREADS * CALLS);
	ck_assert_uint_eq(sum[FN_MALLOC].bytes, bytes);
	ck_assert_uint_eq(calls_of(&sum[FN_CALLOC]), 0);
	ck_assert_uint_eq(sum[FN_MALLOC].large_calls, 0);
}
END_TEST

static void *count_n(void *arg)
{
	int n = (int)(intptr_t)arg;

	for (int i = 0; i < n; i++)
		core_count(FN_MALLOC, 100);
	return hmo_tls.slot;
}

START_TEST(exit_frees_slot_keeping_counts)
{
	pthread_t t;
	void *first, *second;
	struct hmo_fn_stats sum[FN_COUNT];

	core_start(defaults, on_exit_slot);
	ck_assert_int_eq(pthread_create(&t, NULL, count_n, (void *)5), 0);
	ck_assert_int_eq(pthread_join(t, &first), 0);
	ck_assert_int_eq(nseen, 1);
	ck_assert_ptr_eq(seen_slot[0], first);
	ck_assert_uint_eq(seen_calls[0], 5);
	/* the next new thread gets the freed slot and adds to what is there */
	ck_assert_int_eq(pthread_create(&t, NULL, count_n, (void *)3), 0);
	ck_assert_int_eq(pthread_join(t, &second), 0);
	ck_assert_ptr_eq(second, first);
	ck_assert_int_eq(nseen, 2);
	ck_assert_uint_eq(seen_calls[1], 8);
	hmo_counters_sum(sum);
	ck_assert_uint_eq(calls_of(&sum[FN_MALLOC]), 8);
	ck_assert_uint_eq(sum[FN_MALLOC].bytes, 800);
}
END_TEST

/* A TLS destructor created after hmo's runs after it: the thread's later calls. */
static pthread_key_t late_key;

static void late_calls(void *arg)
{
	(void)arg;
	core_count(FN_MEMCPY, 4096);
	core_count(FN_MEMCPY, 1 << 20);
}

static void *count_then_late(void *arg)
{
	(void)arg;
	core_count(FN_MALLOC, 10);
	pthread_setspecific(late_key, (void *)1);
	return NULL;
}

static struct hmo_slot *last_visited;
static int visits;

static void visit(struct hmo_slot *s, void *arg)
{
	(void)arg;
	last_visited = s;
	visits++;
}

START_TEST(calls_after_exit_go_to_shared_slot)
{
	pthread_t t;
	struct hmo_fn_stats sum[FN_COUNT];

	core_start(defaults, on_exit_slot);
	ck_assert_int_eq(pthread_key_create(&late_key, late_calls), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, count_then_late, NULL), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(nseen, 1);
	/* the thread's own slot has its malloc and not the late copies */
	ck_assert_uint_eq(calls_of(&seen_slot[0]->fn[FN_MALLOC]), 1);
	ck_assert_uint_eq(calls_of(&seen_slot[0]->fn[FN_MEMCPY]), 0);
	/* the shared slot, visited last, has them, large one included */
	hmo_counters_each(visit, NULL);
	ck_assert_int_eq(visits, 2);
	ck_assert_ptr_ne(last_visited, seen_slot[0]);
	ck_assert_uint_eq(calls_of(&last_visited->fn[FN_MEMCPY]), 2);
	ck_assert_uint_eq(last_visited->fn[FN_MEMCPY].bytes, 4096 + (1 << 20));
	ck_assert_uint_eq(last_visited->fn[FN_MEMCPY].large_calls, 1);
	ck_assert_uint_eq(last_visited->fn[FN_MEMCPY].large_bytes, 1 << 20);
	ck_assert_uint_eq(last_visited->fn[FN_MEMCPY].hist[13], 1);
	ck_assert_uint_eq(last_visited->fn[FN_MEMCPY].hist[21], 1);
	hmo_counters_sum(sum);
	ck_assert_uint_eq(calls_of(&sum[FN_MEMCPY]), 2);
	ck_assert_uint_eq(calls_of(&sum[FN_MALLOC]), 1);
}
END_TEST

/* A thread that holds its slot across the fork. */
static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t counted;

static void *count_and_hold(void *arg)
{
	*(struct hmo_slot **)arg = (core_count(FN_CALLOC, 300), core_count(FN_CALLOC, 300), hmo_tls.slot);
	pthread_barrier_wait(&counted);
	pthread_mutex_lock(&hold);
	pthread_mutex_unlock(&hold);
	return NULL;
}

static void *count_one(void *arg)
{
	(void)arg;
	core_count(FN_MALLOC, 1);
	return hmo_tls.slot;
}

START_TEST(fork_child_starts_from_zero)
{
	pthread_t t;
	struct hmo_slot *other = NULL, *mine;
	int status;

	core_start(defaults, on_exit_slot);
	for (int i = 0; i < 4; i++)
		core_count(FN_MALLOC, 1 << 20);
	mine = hmo_tls.slot;
	ck_assert_ptr_nonnull(mine);
	pthread_mutex_lock(&hold);
	pthread_barrier_init(&counted, NULL, 2);
	ck_assert_int_eq(pthread_create(&t, NULL, count_and_hold, &other), 0);
	pthread_barrier_wait(&counted);
	ck_assert_ptr_nonnull(other);
	ck_assert_ptr_ne(other, mine);

	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct hmo_fn_stats sum[FN_COUNT];
		pthread_t u;
		void *got;
		hmo_counters_child();
		hmo_counters_sum(sum);
		for (int f = 0; f < FN_COUNT; f++)
			if (calls_of(&sum[f]) || sum[f].bytes || sum[f].large_calls)
				_exit(10 + f);
		/* this thread keeps its slot; the parent's other thread's is free again */
		core_count(FN_MALLOC, 7);
		if (hmo_tls.slot != mine || mine->tid != (uint32_t)gettid() ||
		    calls_of(&mine->fn[FN_MALLOC]) != 1 || mine->fn[FN_MALLOC].bytes != 7)
			_exit(2);
		if (pthread_create(&u, NULL, count_one, NULL) != 0 || pthread_join(u, &got) != 0)
			_exit(3);
		_exit(got == other ? 0 : 4);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed: status %d", status);
	/* the parent's counts are its own still */
	ck_assert_uint_eq(calls_of(&mine->fn[FN_MALLOC]), 4);
	ck_assert_uint_eq(calls_of(&other->fn[FN_CALLOC]), 2);
	pthread_mutex_unlock(&hold);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
}
END_TEST

START_TEST(large_calls_from_threshold)
{
	struct hmo_slot *s;

	core_start(defaults, NULL);
	ck_assert_uint_eq(hmo_large_threshold, 64 * 1024);
	core_count(FN_MEMSET, 64 * 1024 - 1);
	core_count(FN_MEMSET, 64 * 1024);
	core_count(FN_MEMSET, 3 << 20);
	s = hmo_tls.slot;
	ck_assert_uint_eq(calls_of(&s->fn[FN_MEMSET]), 3);
	ck_assert_uint_eq(s->fn[FN_MEMSET].large_calls, 2);
	ck_assert_uint_eq(s->fn[FN_MEMSET].large_bytes, 64 * 1024 + (3 << 20));
	ck_assert_uint_eq(s->fn[FN_MEMSET].bytes, 64 * 1024 - 1 + 64 * 1024 + (3 << 20));
}
END_TEST

/* Bucket 0 holds 0 (and calls of unknown size), bucket k holds [2^(k-1), 2^k). */
START_TEST(histogram_buckets)
{
	static const struct { uint64_t n; unsigned bucket; } cases[] = {
		{ 0, 0 }, { 1, 1 }, { 2, 2 }, { 3, 2 }, { 4, 3 }, { 4095, 12 }, { 4096, 13 },
		{ (1u << 20) - 1, 20 }, { 1u << 20, 21 }, { UINT64_MAX, 64 },
	};
	struct hmo_slot *s;
	uint64_t want[HMO_HIST_BUCKETS] = { 0 };

	core_start(defaults, NULL);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		core_count(FN_MMAP, cases[i].n);
		want[cases[i].bucket]++;
	}
	/* free does not know its size: a call in bucket 0, no bytes */
	s = hmo_tls.slot;
	hmo_count_call(s, FN_FREE);
	for (int b = 0; b < HMO_HIST_BUCKETS; b++)
		ck_assert_msg(s->fn[FN_MMAP].hist[b] == want[b], "bucket %d: %llu calls, not %llu", b,
			      (unsigned long long)s->fn[FN_MMAP].hist[b], (unsigned long long)want[b]);
	ck_assert_uint_eq(s->fn[FN_FREE].hist[0], 1);
	ck_assert_uint_eq(s->fn[FN_FREE].bytes, 0);
	ck_assert(!hmo_fn_has_bytes[FN_FREE]);
	ck_assert(hmo_fn_has_bytes[FN_MALLOC]);
}
END_TEST

/* Under the guard (hmo's own work) and before hmo is initialised nothing is counted. */
START_TEST(guard_and_uninitialised_count_nothing)
{
	struct hmo_fn_stats sum[FN_COUNT];

	hmo_count_slow(FN_MALLOC, 100, true);	/* not initialised yet */
	ck_assert_ptr_null(hmo_tls.slot);
	core_start(defaults, NULL);
	hmo_guard_enter();
	core_count(FN_MALLOC, 100);
	hmo_guard_leave();
	hmo_counters_sum(sum);
	ck_assert_uint_eq(calls_of(&sum[FN_MALLOC]), 0);
	core_count(FN_MALLOC, 100);
	hmo_counters_sum(sum);
	ck_assert_uint_eq(calls_of(&sum[FN_MALLOC]), 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("counters");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, threads_count_their_own_calls);
	tcase_add_test(tc, exit_frees_slot_keeping_counts);
	tcase_add_test(tc, calls_after_exit_go_to_shared_slot);
	tcase_add_test(tc, fork_child_starts_from_zero);
	tcase_add_test(tc, large_calls_from_threshold);
	tcase_add_test(tc, histogram_buckets);
	tcase_add_test(tc, guard_and_uninitialised_count_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite(), CK_FORK);
}
