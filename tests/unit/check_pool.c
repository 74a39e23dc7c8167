/* The frame pool (pool.c), without LD_PRELOAD: the threshold it takes frames from; a
 * frame's first allocation maps memory (a miss) and a freed frame of the same size is
 * handed out again (a hit); realloc keeps the contents, in place or moved; what the
 * pool owns; usable sizes and alignment; the statistics the summary prints; zeroed
 * frames are zero after reuse; the cap on cached memory; and a double free or a free
 * inside a block aborts with one hmo: line.
 *
 * HMO_HUGEPAGES=off: 4 KiB pages, no probe of the machine, no hugetlb pages. */
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "core.h"

#define MiB ((size_t)1 << 20)

static const char *const small_pages[] = { "HMO_HUGEPAGES=off", "HMO_THRESHOLD=1M", NULL };

static void fill(void *p, size_t n, unsigned seed)
{
	unsigned char *c = p;

	for (size_t i = 0; i < n; i += 509)
		c[i] = (unsigned char)(seed + i / 509);
}

static bool filled(const void *p, size_t n, unsigned seed)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i += 509)
		if (c[i] != (unsigned char)(seed + i / 509))
			return false;
	return true;
}

START_TEST(threshold_from_options)
{
	static const char *const opts[] = { "HMO_HUGEPAGES=off", "HMO_THRESHOLD=2M", NULL };

	core_start(opts, NULL);
	ck_assert_uint_eq(hmo_pool_threshold, 2 * MiB);
	/* nothing is owned before the pool starts, on its first frame */
	ck_assert_uint_eq(hmo_pool_size, 0);
	ck_assert(!hmo_pool_owns((void *)4096));
}
END_TEST

START_TEST(pool_off_takes_no_frames)
{
	static const char *const opts[] = { "HMO_POOL=off", NULL };

	core_start(opts, NULL);
	ck_assert_uint_eq(hmo_pool_threshold, SIZE_MAX);
}
END_TEST

START_TEST(pool_off_but_traced_takes_frames)
{
	static const char *const opts[] = { "HMO_POOL=off", "HMO_TRACE=/nonexistent/t.trace",
					    "HMO_THRESHOLD=256K", NULL };

	core_start(opts, NULL);
	ck_assert_uint_eq(hmo_pool_threshold, 256 * 1024);
}
END_TEST

START_TEST(miss_then_hit)
{
	struct pool_last last = { 0 };
	void *p, *q;

	core_start(small_pages, NULL);
	p = pool_alloc(4 * MiB, 0, false, &last);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(last.outcome, HMO_OUT_POOL_MISS);
	ck_assert_uint_eq(last.backing, HMO_BACK_4K);
	ck_assert_int_eq(last.node, -1);
	ck_assert_uint_eq((uintptr_t)p & 4095, 0);
	fill(p, 4 * MiB, 1);
	pool_free(p);
	q = pool_alloc(4 * MiB, 0, false, &last);
	ck_assert_ptr_eq(q, p);
	ck_assert_uint_eq(last.outcome, HMO_OUT_POOL_HIT);
	ck_assert_uint_eq(last.backing, HMO_BACK_4K);
	pool_free(q);
}
END_TEST

START_TEST(owns_only_its_blocks)
{
	int on_stack;
	void *heap = malloc(64);
	void *p;

	core_start(small_pages, NULL);
	p = pool_alloc(2 * MiB, 0, false, NULL);
	ck_assert_ptr_nonnull(p);
	ck_assert(hmo_pool_owns(p));
	ck_assert(hmo_pool_owns((char *)p + 2 * MiB - 1));
	ck_assert(hmo_pool_overlaps((char *)p - 100, 200));
	ck_assert(!hmo_pool_owns(heap));
	ck_assert(!hmo_pool_owns(&on_stack));
	ck_assert(!hmo_pool_owns(NULL));
	ck_assert(!hmo_pool_overlaps(heap, 64));
	ck_assert(!hmo_pool_owns((char *)hmo_pool_base - 1));
	ck_assert(!hmo_pool_owns((char *)hmo_pool_base + hmo_pool_size));
	pool_free(p);
	free(heap);
}
END_TEST

START_TEST(usable_size_and_alignment)
{
	static const size_t sizes[] = { MiB, MiB + 1, 3 * MiB + 12345, 17 * MiB };
	void *p[4];

	core_start(small_pages, NULL);
	for (int i = 0; i < 4; i++) {
		p[i] = pool_alloc(sizes[i], 0, false, NULL);
		ck_assert_ptr_nonnull(p[i]);
		ck_assert_uint_ge(pool_usable_size(p[i]), sizes[i]);
		ck_assert_uint_eq((uintptr_t)p[i] & 4095, 0);
		/* the whole usable size is the program's */
		memset(p[i], 0x5a, pool_usable_size(p[i]));
	}
	void *a = pool_alloc(2 * MiB, 2 * MiB, false, NULL);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq((uintptr_t)a & (2 * MiB - 1), 0);
	void *b = pool_alloc(MiB, 64 * 1024, false, NULL);
	ck_assert_uint_eq((uintptr_t)b & (64 * 1024 - 1), 0);
	for (int i = 0; i < 4; i++)
		pool_free(p[i]);
	pool_free(a);
	pool_free(b);
}
END_TEST

START_TEST(realloc_keeps_contents)
{
	struct pool_last last;
	void *p, *q, *r, *s, *blocker;

	core_start(small_pages, NULL);
	p = pool_alloc(2 * MiB, 0, false, NULL);
	fill(p, 2 * MiB, 7);
	/* grown: in place or moved, the bytes come along */
	q = pool_realloc(p, 6 * MiB, &last);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_ge(pool_usable_size(q), 6 * MiB);
	ck_assert(filled(q, 2 * MiB, 7));
	ck_assert(hmo_pool_owns(q));
	/* shrunk: in place */
	r = pool_realloc(q, 3 * MiB, &last);
	ck_assert_ptr_eq(r, q);
	ck_assert_uint_ge(pool_usable_size(r), 3 * MiB);
	ck_assert_uint_lt(pool_usable_size(r), 6 * MiB);
	ck_assert(filled(r, 2 * MiB, 7));
	/* a block right behind it: growing far has to move it */
	blocker = pool_alloc(64 * MiB, 0, false, NULL);
	fill(r, 3 * MiB, 9);
	s = pool_realloc(r, 256 * MiB, &last);
	ck_assert_ptr_nonnull(s);
	ck_assert(filled(s, 3 * MiB, 9));
	pool_free(s);
	pool_free(blocker);
}
END_TEST

START_TEST(statistics)
{
	struct pool_stats st;
	void *a, *b, *c;
	size_t ua, ub;

	core_start(small_pages, NULL);
	pool_get_stats(&st);
	ck_assert_uint_eq(st.allocs, 0);
	a = pool_alloc(4 * MiB, 0, false, NULL);
	ua = pool_usable_size(a);
	pool_free(a);
	b = pool_alloc(4 * MiB, 0, false, NULL);	/* a's frame again */
	c = pool_alloc(8 * MiB, 0, false, NULL);
	ub = pool_usable_size(b) + pool_usable_size(c);
	pool_get_stats(&st);
	ck_assert_uint_eq(st.allocs, 3);
	ck_assert_uint_eq(st.reused, 1);
	ck_assert_uint_eq(st.reused_bytes, ua);
	ck_assert_uint_eq(st.frees, 1);
	ck_assert_uint_eq(st.freed_bytes, ua);
	ck_assert_uint_eq(st.live_blocks, 2);
	ck_assert_uint_eq(st.live_bytes, ub);
	ck_assert_uint_eq(st.peak_live_bytes, ub);
	ck_assert_uint_eq(st.served_bytes, ua + ub);
	ck_assert_uint_eq(st.fallbacks, 0);
	ck_assert_uint_eq(st.hugetlb_page, 0);
	ck_assert_uint_eq(st.hugetlb_bytes, 0);
	ck_assert_uint_ge(st.small_page_bytes, ub);
	ck_assert_uint_eq(st.thp_bytes, 0);
	ck_assert_uint_eq(st.pages.backing, HMO_BACK_4K);
	ck_assert_uint_eq(st.pages.why, HMO_WHY_FORCED);
	pool_free(b);
	pool_free(c);
	pool_get_stats(&st);
	ck_assert_uint_eq(st.live_blocks, 0);
	ck_assert_uint_eq(st.live_bytes, 0);
	ck_assert_uint_eq(st.peak_live_bytes, ub);
	ck_assert_uint_eq(st.frees, 3);
}
END_TEST

/* What the pool told its listener (the trace writer, in libhmo) when it started. */
static struct hmo_rec_pool heard;
static int heard_times;

static void listen_pages(const struct hmo_rec_pool *r)
{
	heard = *r;
	heard_times++;
}

START_TEST(pages_chosen_once)
{
	core_start(small_pages, NULL);
	pool_on_pages_chosen(listen_pages);
	ck_assert_int_eq(heard_times, 0);
	void *p = pool_alloc(MiB, 0, false, NULL);
	void *q = pool_alloc(MiB, 0, false, NULL);
	ck_assert_int_eq(heard_times, 1);
	ck_assert_uint_eq(heard.backing, HMO_BACK_4K);
	ck_assert_uint_eq(heard.why, HMO_WHY_FORCED);
	ck_assert_uint_eq(heard.hugetlb_page, 0);
	ck_assert(!pool_advise_thp());
	pool_free(p);
	pool_free(q);
}
END_TEST

START_TEST(zeroed_after_reuse)
{
	struct pool_last last;
	unsigned char *p, *q;
	size_t n;

	core_start(small_pages, NULL);
	p = pool_alloc(4 * MiB, 0, false, NULL);
	n = pool_usable_size(p);
	memset(p, 0xab, n);
	pool_free(p);
	q = pool_alloc(4 * MiB, 0, true, &last);
	ck_assert_ptr_eq(q, p);
	ck_assert_uint_eq(last.outcome, HMO_OUT_POOL_HIT);
	for (size_t i = 0; i < n; i++)
		if (q[i])
			ck_abort_msg("byte %zu of a zeroed frame is %#x", i, q[i]);
	pool_free(q);
}
END_TEST

/* Four frames of 4 MiB, written (resident), then freed: 16 MiB the pool may cache. */
static void touch_and_free_four(void)
{
	void *p[4];

	for (int i = 0; i < 4; i++) {
		p[i] = pool_alloc(4 * MiB, 0, false, NULL);
		memset(p[i], 1, 4 * MiB);
	}
	for (int i = 0; i < 4; i++)
		pool_free(p[i]);
}

/* HMO_POOL_MAX: freed frames beyond it go back to the kernel. */
START_TEST(cap_releases_cached_frames)
{
	static const char *const opts[] = { "HMO_HUGEPAGES=off", "HMO_POOL_MAX=1M", NULL };
	struct pool_stats st;

	core_start(opts, NULL);
	ck_assert_uint_eq(hmo_opt.pool_max, MiB);
	touch_and_free_four();
	pool_get_stats(&st);
	ck_assert_uint_ge(st.cap_purges, 1);
	ck_assert_uint_ge(st.purged_bytes, 4 * MiB);
	ck_assert_uint_le(pool_cached_bytes(), MiB);
}
END_TEST

/* Without the cap's pressure, the same frames stay cached for reuse. */
START_TEST(uncapped_frames_stay_cached)
{
	struct pool_stats st;

	core_start(small_pages, NULL);
	touch_and_free_four();
	pool_get_stats(&st);
	ck_assert_uint_eq(st.cap_purges, 0);
	ck_assert_uint_ge(pool_cached_bytes(), 16 * MiB);
}
END_TEST

/* ---- misuse: in a child of its own, which must die of SIGABRT with one hmo: line */

static void double_free(void *arg)
{
	(void)arg;
	core_start(small_pages, NULL);
	void *p = pool_alloc(2 * MiB, 0, false, NULL);
	pool_free(p);
	pool_free(p);
}

static void free_inside(void *arg)
{
	(void)arg;
	core_start(small_pages, NULL);
	char *p = pool_alloc(2 * MiB, 0, false, NULL);
	pool_free(p + 8192);
}

static void realloc_moved(void *arg)
{
	(void)arg;
	core_start(small_pages, NULL);
	char *p = pool_alloc(2 * MiB, 0, false, NULL);
	void *blocker = pool_alloc(2 * MiB, 0, false, NULL);
	char *q = pool_realloc(p, 512 * MiB, NULL);
	(void)blocker;
	if (q == p)
		_exit(3);	/* not moved: nothing to test */
	pool_realloc(p, 4 * MiB, NULL);
}

static void expect_abort(void (*fn)(void *), const char *fn_name, const char *what, const char *also)
{
	char err[4096], want[128];
	int status = core_in_child(fn, NULL, err, sizeof err);

	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
		      "the child did not abort: status %#x, stderr: %s", status, err);
	snprintf(want, sizeof want, "hmo: %s(): %s", fn_name, what);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "stderr: %s", err);
	ck_assert_msg(strstr(err, also) != NULL, "stderr: %s", err);
	ck_assert_msg(strstr(err, "; aborting\n") != NULL, "stderr: %s", err);
	/* one line */
	ck_assert_ptr_eq(strchr(err, '\n'), err + strlen(err) - 1);
}

START_TEST(double_free_aborts)
{
	expect_abort(double_free, "free", "double free or invalid pointer 0x", "not a live frame-pool block");
}
END_TEST

START_TEST(free_inside_a_block_aborts)
{
	expect_abort(free_inside, "free", "invalid pointer 0x", "inside the frame-pool block 0x");
}
END_TEST

START_TEST(realloc_of_a_moved_block_aborts)
{
	expect_abort(realloc_moved, "realloc", "double free or invalid pointer 0x", "moved by realloc");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, threshold_from_options);
	tcase_add_test(tc, pool_off_takes_no_frames);
	tcase_add_test(tc, pool_off_but_traced_takes_frames);
	tcase_add_test(tc, miss_then_hit);
	tcase_add_test(tc, owns_only_its_blocks);
	tcase_add_test(tc, usable_size_and_alignment);
	tcase_add_test(tc, realloc_keeps_contents);
	tcase_add_test(tc, statistics);
	tcase_add_test(tc, pages_chosen_once);
	tcase_add_test(tc, zeroed_after_reuse);
	tcase_add_test(tc, cap_releases_cached_frames);
	tcase_add_test(tc, uncapped_frames_stay_cached);
	tcase_add_test(tc, double_free_aborts);
	tcase_add_test(tc, free_inside_a_block_aborts);
	tcase_add_test(tc, realloc_of_a_moved_block_aborts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite(), CK_FORK);
}
