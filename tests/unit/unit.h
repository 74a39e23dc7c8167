/* What every Check unit test's main() does: run the suite, exit non-zero on any
 * failure. */
#ifndef HMO_TEST_UNIT_H
#define HMO_TEST_UNIT_H

/* configure only warns when Check is missing, so that hmo builds without it. */
#ifndef HMO_HAVE_CHECK
#error "the unit tests need Check, which configure did not find: install it (Debian: check) and run configure again"
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int unit_run(Suite *s, enum fork_status fork)
{
	SRunner *sr = srunner_create(s);
	int failed;

	if (fork == CK_NOFORK)
		srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* A new directory of the test's own under $TMPDIR (or /tmp): NAME.PID.N. */
static inline void unit_tmpdir(char *out, size_t cap, const char *name)
{
	static unsigned n;
	const char *tmp = getenv("TMPDIR");

	snprintf(out, cap, "%s/%s.%ld.%u", tmp && *tmp ? tmp : "/tmp", name, (long)getpid(), n++);
	ck_assert_int_eq(mkdir(out, 0700), 0);
}

/* Removes DIR and everything in it; rm's status (also usable outside a test). */
static inline int unit_rmtree(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

#endif
