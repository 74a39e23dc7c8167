/* Tiny assertion helpers for the programs that run under LD_PRELOAD=libhmo.so.
 * They print with write(2) only, so that a failing check does not itself allocate. */
#ifndef HMO_TEST_CHECK_H
#define HMO_TEST_CHECK_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

#endif
