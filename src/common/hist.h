/* hist: log2 size histograms.
 *
 * Bucket 0 holds the value 0; bucket i (1..64) holds values in [2^(i-1), 2^i).
 * So 1 is in bucket 1, 2-3 in bucket 2, 4096 in bucket 13, and UINT64_MAX in 64.
 * The bucket of a value is one instruction (lzcnt/bsr), cheap enough for a hook. */
#ifndef HMO_HIST_H
#define HMO_HIST_H

#include <stdint.h>

#define HMO_HIST_BUCKETS 65

static inline unsigned hmo_hist_bucket(uint64_t v)
{
	return v ? 64u - (unsigned)__builtin_clzll(v) : 0u;
}

/* Smallest and largest value that land in bucket `i`. */
uint64_t hmo_hist_lower(unsigned i);
uint64_t hmo_hist_upper(unsigned i);

/* Total count over all buckets. */
uint64_t hmo_hist_total(const uint64_t h[HMO_HIST_BUCKETS]);

/* The bucket that holds the q-th quantile (q in permille, 0..1000) of the counted
 * values: the first bucket whose running total reaches ceil(q * total / 1000).
 * Returns -1 for an empty histogram. */
int hmo_hist_quantile_bucket(const uint64_t h[HMO_HIST_BUCKETS], unsigned permille);

/* Highest non-empty bucket, or -1. */
int hmo_hist_max_bucket(const uint64_t h[HMO_HIST_BUCKETS]);

/* dst += src, bucket by bucket. */
void hmo_hist_merge(uint64_t dst[HMO_HIST_BUCKETS], const uint64_t src[HMO_HIST_BUCKETS]);

#endif
