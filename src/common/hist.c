#include "hist.h"

uint64_t hmo_hist_lower(unsigned i)
{
	return i == 0 ? 0 : (uint64_t)1 << (i - 1);
}

uint64_t hmo_hist_upper(unsigned i)
{
	if (i == 0)
		return 0;
	if (i >= 64)
		return UINT64_MAX;
	return ((uint64_t)1 << i) - 1;
}

uint64_t hmo_hist_total(const uint64_t h[HMO_HIST_BUCKETS])
{
	uint64_t t = 0;

	for (unsigned i = 0; i < HMO_HIST_BUCKETS; i++)
		t += h[i];
	return t;
}

int hmo_hist_quantile_bucket(const uint64_t h[HMO_HIST_BUCKETS], unsigned permille)
{
	uint64_t total = hmo_hist_total(h), run = 0;

	if (total == 0)
		return -1;
	if (permille > 1000)
		permille = 1000;
	/* rank = ceil(total * q / 1000), at least 1 */
	unsigned __int128 r = ((unsigned __int128)total * permille + 999) / 1000;
	uint64_t rank = r ? (uint64_t)r : 1;
	for (unsigned i = 0; i < HMO_HIST_BUCKETS; i++) {
		run += h[i];
		if (run >= rank)
			return (int)i;
	}
	return HMO_HIST_BUCKETS - 1;
}

int hmo_hist_max_bucket(const uint64_t h[HMO_HIST_BUCKETS])
{
	for (int i = HMO_HIST_BUCKETS - 1; i >= 0; i--)
		if (h[i])
			return i;
	return -1;
}

void hmo_hist_merge(uint64_t dst[HMO_HIST_BUCKETS], const uint64_t src[HMO_HIST_BUCKETS])
{
	for (unsigned i = 0; i < HMO_HIST_BUCKETS; i++)
		dst[i] += src[i];
}
