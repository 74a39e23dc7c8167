/* fresh.h: what fresh memory costs on this machine, by backing, measured once per
 * boot; and the backing HMO_HUGEPAGES=auto takes from it.
 *
 * On a VM with free page reporting, a huge page freed a few seconds ago is back with
 * the host, and its next first touch costs several times a 4 KiB page's; bare metal
 * has its own version (THP faults stalled in compaction). The pool's reuse wins
 * once warm, but a short job is mostly warm-up. So the first pool of a boot
 * measures the first-touch rate of THP and of 4 KiB pages on a small probe, and
 * keeps the result in a file of the user's for the rest of the boot. */
#ifndef HMO_PRELOAD_FRESH_H
#define HMO_PRELOAD_FRESH_H

#include <stdbool.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

struct fresh_rates {
	uint32_t thp_mbps;	/* first touch of fresh THP-backed memory, MB/s; 0 without THP */
	uint32_t small_mbps;	/* the same on 4 KiB pages */
};

/* Touches a fresh probe of each backing (4 MiB) and times it. False when nothing
 * could be measured. */
bool fresh_probe(struct fresh_rates *r);

/* The boot's record: `path` holds "hmo-fresh 1 BOOT_ID THP SMALL\n". It is used only
 * when it is a regular file of the caller's own, readable by nobody else, not a
 * link, whole, and of this boot: anything else is ignored (and then replaced). */
bool fresh_load(const char *path, const char *boot_id, struct fresh_rates *r);
/* Writes the record atomically (a private temporary file renamed over it): two
 * processes racing leave one whole record. */
void fresh_store(const char *path, const char *boot_id, const struct fresh_rates *r);

/* THP when its fresh memory costs at most a quarter more than 4 KiB pages': the
 * TLB and fault savings of huge pages pay for that much, not for more. */
bool fresh_prefers_thp(const struct fresh_rates *r);

/* The rates for this boot: from the record, or measured now and recorded (the
 * record lives in $XDG_RUNTIME_DIR, else /tmp, named by uid). *measured says which.
 * Not recorded for a setuid process. False when neither worked. */
bool fresh_rates_for_boot(struct fresh_rates *r, bool *measured);

#pragma GCC visibility pop

#endif
