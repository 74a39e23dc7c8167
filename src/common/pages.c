/* pages.c: see pages.h. No malloc and no stdio: libhmo says it at exit. */
#include "pages.h"

static void say_rate(struct fmt_buf *b, const char *what, uint32_t mbps)
{
	fmt_str(b, what);
	fmt_fixed(b, mbps, 1000, 2);
	fmt_str(b, " GB/s");
}

void pages_say(struct fmt_buf *b, const struct hmo_rec_pool *r)
{
	bool thp = r->backing == HMO_BACK_THP;

	fmt_str(b, "frames on ");
	if (r->hugetlb_page) {
		if (r->hugetlb_page == (uint64_t)1 << 30) {
			fmt_str(b, "reserved 1 GiB hugetlb pages, then ");
		} else {
			fmt_str(b, "reserved 2 MiB hugetlb pages (");
			fmt_u64(b, r->hugetlb_free);
			fmt_str(b, " free at the start), then ");
		}
	}
	fmt_str(b, thp ? "transparent huge pages" : "4 KiB pages, reused");
	switch (r->why) {
	case HMO_WHY_FORCED:
		fmt_str(b, ", as HMO_HUGEPAGES says");
		break;
	case HMO_WHY_NO_THP:
		fmt_str(b, ": transparent huge pages are disabled on this system");
		break;
	case HMO_WHY_LIMITED:
		fmt_str(b, ": a cgroup memory limit applies, and a huge page's untouched tail would count");
		break;
	case HMO_WHY_REPORTING:
		fmt_str(b, ": this VM hands free memory back to its host (free page reporting), so a huge "
			   "page freed a few seconds ago costs a host fault when touched again");
		break;
	case HMO_WHY_THP_CHEAP:
		fmt_str(b, ": fresh huge pages cost at most a quarter more than 4 KiB pages");
		break;
	case HMO_WHY_THP_COSTLY:
		fmt_str(b, ": fresh huge pages cost more than a quarter more than 4 KiB pages");
		break;
	case HMO_WHY_UNMEASURED:
		fmt_str(b, ": first touches could not be timed");
		break;
	default:
		break;
	}
	if (!r->small_mbps)
		return;
	fmt_str(b, "; fresh memory on this boot: ");
	if (r->thp_mbps)
		say_rate(b, "huge pages ", r->thp_mbps), fmt_str(b, ", ");
	say_rate(b, "4 KiB pages ", r->small_mbps);
	fmt_str(b, r->flags & HMO_POOL_MEASURED_NOW ? " (measured now)" : " (measured earlier this boot)");
}
