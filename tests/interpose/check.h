/* Tiny assertion helpers for the programs that run under LD_PRELOAD=libhmo.so.
 * They print with write(2) only, so that a failing check does not itself allocate. */
#ifndef HMO_TEST_CHECK_H
#define HMO_TEST_CHECK_H

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../include/hmo.h"

static int check_failures;

static inline void check_say(const char *s)
{
	ssize_t r = write(2, s, strlen(s));
	(void)r;
}

#define CHECK(cond)                                                      \
	do {                                                             \
		if (!(cond)) {                                           \
			char m_[512];                                    \
			snprintf(m_, sizeof m_, "FAIL %s:%d: %s\n",      \
				 __FILE__, __LINE__, #cond);             \
			check_say(m_);                                   \
			check_failures++;                                \
		}                                                        \
	} while (0)

static inline int check_done(const char *name)
{
	char m[256];
	snprintf(m, sizeof m, "%s: %s (%d failed checks)\n", name,
		 check_failures ? "FAIL" : "ok", check_failures);
	check_say(m);
	return check_failures ? 1 : 0;
}

/* check_stats(rc): when T_STATS names a file, writes hmo_stats's figures there as
 * key=value lines, for the shell test to read with jget (tests/lib.sh); returns rc,
 * so that main can end with return check_stats(run_x()). hmo_stats is looked up at
 * run time: without libhmo the file says hmo=0 and nothing else. */
static inline int check_stats(int rc)
{
	const char *path = getenv("T_STATS");
	if (!path || !*path)
		return rc;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		check_say("check_stats: cannot create the T_STATS file\n");
		return rc ? rc : 1;
	}
	int (*get)(struct hmo_stats *, size_t) =
		(int (*)(struct hmo_stats *, size_t))dlsym(RTLD_DEFAULT, "hmo_stats_sized");
	struct hmo_stats s;
	char m[2048];
	int n;
	if (!get || get(&s, sizeof s) != 0)
		n = snprintf(m, sizeof m, "hmo=0\n");
	else
		n = snprintf(m, sizeof m,
			     "hmo=1\nalloc_calls=%llu\nalloc_bytes=%llu\nfree_calls=%llu\n"
			     "frames=%llu\nframes_reused=%llu\nframe_fallbacks=%llu\n"
			     "frames_freed=%llu\nlive_frames=%llu\nframe_bytes=%llu\n"
			     "pool_mapped_bytes=%llu\nfaults_avoided=%llu\n"
			     "copy_calls=%llu\ncopy_bytes=%llu\nlarge_copy_calls=%llu\n"
			     "large_copy_bytes=%llu\nlarge_copy_ns=%llu\nlarge_copy_gbps=%.6f\n",
			     (unsigned long long)s.alloc_calls, (unsigned long long)s.alloc_bytes,
			     (unsigned long long)s.free_calls, (unsigned long long)s.frames,
			     (unsigned long long)s.frames_reused, (unsigned long long)s.frame_fallbacks,
			     (unsigned long long)s.frames_freed, (unsigned long long)s.live_frames,
			     (unsigned long long)s.frame_bytes, (unsigned long long)s.pool_mapped_bytes,
			     (unsigned long long)s.faults_avoided, (unsigned long long)s.copy_calls,
			     (unsigned long long)s.copy_bytes, (unsigned long long)s.large_copy_calls,
			     (unsigned long long)s.large_copy_bytes, (unsigned long long)s.large_copy_ns,
			     s.large_copy_gbps);
	if (n < 0 || (size_t)n >= sizeof m || write(fd, m, (size_t)n) != n) {
		check_say("check_stats: cannot write the T_STATS file\n");
		rc = rc ? rc : 1;
	}
	close(fd);
	return rc;
}

#endif
