/* fresh.h: what fresh memory costs on this machine, by backing, measured once per
 * boot; and the backing HMO_HUGEPAGES=auto takes from it.
 *
 * On a VM with free page reporting, a huge page freed a few seconds ago is back with
 * the host, and its next first touch costs several times a 4 KiB page's; bare metal
 * has its own version (THP faults stalled in compaction). The pool's reuse wins
 * once warm, but a short job is mostly warm-up. So the first pool of a boot
 * measures the first-touch rate of THP and of 4 KiB pages on a small probe, and
 * keeps the result in a file of the user's for the rest of the boot.
 *
 * A small probe cannot see what free page reporting costs: the kernel hands out the
 * free pages it has not yet reported first, and there are always some (the last
 * seconds' frees), so a 4 MiB probe touches warm huge pages at several GB/s while
 * the gigabyte a real job takes comes back from the host at a fraction of that.
 * Where the balloon reports free pages, auto takes 4 KiB pages without probing
 * huge ones (doc/fresh-memory.md has the figures). */
#ifndef HMO_PRELOAD_FRESH_H
#define HMO_PRELOAD_FRESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

struct fresh_rates {
	uint32_t thp_mbps;	/* first touch of fresh THP-backed memory, MB/s; 0: not measured */
	uint32_t small_mbps;	/* the same on 4 KiB pages */
	bool reporting;		/* the kernel reports free pages to the hypervisor */
};

/* Touches a fresh probe of each backing (4 MiB) and times it; huge pages only where
 * free pages are not reported (`reporting`). False when nothing could be measured. */
bool fresh_probe(struct fresh_rates *r, bool reporting);

/* The boot's record: `path` holds "hmo-fresh 2 BOOT_ID THP SMALL REPORTING\n". It is used only
 * when it is a regular file of the caller's own, readable by nobody else, not a
 * link, whole, and of this boot: anything else is ignored (and then replaced). */
bool fresh_load(const char *path, const char *boot_id, struct fresh_rates *r);
/* Writes the record atomically (a private temporary file renamed over it): two
 * processes racing leave one whole record. */
void fresh_store(const char *path, const char *boot_id, const struct fresh_rates *r);

/* THP when its fresh memory costs at most a quarter more than 4 KiB pages': the
 * TLB and fault savings of huge pages pay for that much, not for more. Never under
 * free page reporting. */
bool fresh_prefers_thp(const struct fresh_rates *r);

/* What the system offers the pool. */
struct fresh_system {
	bool thp;		/* THP can be had with madvise */
	bool limited;		/* a cgroup memory limit applies */
	uint64_t hugetlb_2m;	/* reserved 2 MiB hugetlb pages free and not promised to a
				 * mapping: 0 also when all are taken */
};

/* The pool's pages for fresh frames: reserved hugetlb pages first when
 * hugetlb_page is set, then THP or 4 KiB pages; and why (enum hmo_pool_why). */
struct fresh_choice {
	size_t hugetlb_page;
	bool thp;
	unsigned why;
};

/* The choice for HMO_HUGEPAGES=`mode` (enum hmo_hugepages). `r` is the boot's
 * rates, NULL when they could not be had; only auto looks at them. auto takes
 * reserved 2 MiB hugetlb pages while some are free (they stay with the guest, warm:
 * the kernel never reports them), and beyond them THP where fresh_prefers_thp says
 * so; 4 KiB pages under a memory limit. An explicit value forces its backing, but
 * THP only where the system has it. */
struct fresh_choice fresh_choose(unsigned mode, const struct fresh_system *sys, const struct fresh_rates *r);

/* The rates for this boot: from the record, or measured now and recorded (the
 * record lives in $XDG_RUNTIME_DIR, else /tmp, named by uid). *measured says which.
 * Not recorded for a setuid process. False when neither worked. */
bool fresh_rates_for_boot(struct fresh_rates *r, bool *measured);

#pragma GCC visibility pop

#endif
