/* log2 histograms: bucket edges, quantiles, merging. */
#include "unit.h"
#include <stdlib.h>

#include "common/hist.h"

START_TEST(bucket_edges)
{
	ck_assert_uint_eq(hmo_hist_bucket(0), 0);
	ck_assert_uint_eq(hmo_hist_bucket(1), 1);
	ck_assert_uint_eq(hmo_hist_bucket(2), 2);
	ck_assert_uint_eq(hmo_hist_bucket(3), 2);
	ck_assert_uint_eq(hmo_hist_bucket(4), 3);
	ck_assert_uint_eq(hmo_hist_bucket(4095), 12);
	ck_assert_uint_eq(hmo_hist_bucket(4096), 13);
	ck_assert_uint_eq(hmo_hist_bucket(UINT64_MAX), 64);
	/* Every value lies within its bucket's bounds, and the bounds tile the line. */
	for (unsigned i = 1; i < HMO_HIST_BUCKETS; i++) {
		ck_assert_uint_eq(hmo_hist_bucket(hmo_hist_lower(i)), i);
		ck_assert_uint_eq(hmo_hist_bucket(hmo_hist_upper(i)), i);
		if (i > 1)
			ck_assert_uint_eq(hmo_hist_upper(i - 1) + 1, hmo_hist_lower(i));
	}
	ck_assert_uint_eq(hmo_hist_lower(0), 0);
	ck_assert_uint_eq(hmo_hist_upper(0), 0);
}
END_TEST

START_TEST(quantiles)
{
	uint64_t h[HMO_HIST_BUCKETS] = { 0 };

	ck_assert_int_eq(hmo_hist_quantile_bucket(h, 500), -1);
	ck_assert_int_eq(hmo_hist_max_bucket(h), -1);
	/* 90 small (bucket 5), 9 medium (bucket 13), 1 large (bucket 27). */
	h[5] = 90;
	h[13] = 9;
	h[27] = 1;
	ck_assert_uint_eq(hmo_hist_total(h), 100);
	ck_assert_int_eq(hmo_hist_quantile_bucket(h, 0), 5);
	ck_assert_int_eq(hmo_hist_quantile_bucket(h, 500), 5);
	ck_assert_int_eq(hmo_hist_quantile_bucket(h, 900), 5);
	ck_assert_int_eq(hmo_hist_quantile_bucket(h, 901), 13);
	ck_assert_int_eq(hmo_hist_quantile_bucket(h, 990), 13);
	ck_assert_int_eq(hmo_hist_quantile_bucket(h, 991), 27);
	ck_assert_int_eq(hmo_hist_quantile_bucket(h, 1000), 27);
	ck_assert_int_eq(hmo_hist_quantile_bucket(h, 5000), 27);
	ck_assert_int_eq(hmo_hist_max_bucket(h), 27);
}
END_TEST

START_TEST(merge)
{
	uint64_t a[HMO_HIST_BUCKETS] = { 0 }, b[HMO_HIST_BUCKETS] = { 0 };

	a[0] = 1;
	a[64] = 2;
	b[64] = 3;
	b[10] = 4;
	hmo_hist_merge(a, b);
	ck_assert_uint_eq(a[0], 1);
	ck_assert_uint_eq(a[10], 4);
	ck_assert_uint_eq(a[64], 5);
	ck_assert_uint_eq(hmo_hist_total(a), 10);
	ck_assert_uint_eq(hmo_hist_total(b), 7);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hist");
	TCase *t = tcase_create("hist");

	tcase_add_test(t, bucket_edges);
	tcase_add_test(t, quantiles);
	tcase_add_test(t, merge);
	suite_add_tcase(s, t);
	return unit_run(s, CK_FORK);
}
