/* HMO_HUGEPAGES=auto's evidence (fresh.c): the choice from synthetic first-touch
 * rates, and the boot's record: written 0600, read back, and ignored when it is
 * damaged, someone else's, readable by others, a link, or of another boot; two
 * writers racing leave one whole record. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "preload/fresh.h"
#include "unit.h"

#define BOOT "0a1b2c3d-4e5f-6789-abcd-ef0123456789"

static char dir[PATH_MAX], rec[PATH_MAX + 32];

static void fresh_dir(void)
{
	unit_tmpdir(dir, sizeof dir, "hmo-fresh");
	snprintf(rec, sizeof rec, "%s/record", dir);
}

static void gone(void)
{
	ck_assert_int_eq(unit_rmtree(dir), 0);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(choice_from_rates)
{
	/* This VM class: fresh huge pages at 0.47 GB/s, 4 KiB at 2.5 GB/s. */
	ck_assert(!fresh_prefers_thp(&(struct fresh_rates){ 470, 2500 }));
	/* Bare metal, THP as fast or faster per byte. */
	ck_assert(fresh_prefers_thp(&(struct fresh_rates){ 6000, 3000 }));
	ck_assert(fresh_prefers_thp(&(struct fresh_rates){ 2500, 2500 }));
	/* At most a quarter slower is worth the TLB; more is not. */
	ck_assert(fresh_prefers_thp(&(struct fresh_rates){ 2000, 2500 }));
	ck_assert(!fresh_prefers_thp(&(struct fresh_rates){ 1999, 2500 }));
	/* No THP at all (disabled, or the probe failed). */
	ck_assert(!fresh_prefers_thp(&(struct fresh_rates){ 0, 2500 }));
}
END_TEST

START_TEST(probe_measures)
{
	struct fresh_rates r = { 0, 0 };

	ck_assert(fresh_probe(&r));
	ck_assert_uint_gt(r.small_mbps, 0);
}
END_TEST

START_TEST(record_round_trip)
{
	struct fresh_rates w = { 470, 2500 }, r = { 0, 0 };
	struct stat st;

	fresh_dir();
	ck_assert(!fresh_load(rec, BOOT, &r));	/* none yet */
	fresh_store(rec, BOOT, &w);
	ck_assert_int_eq(stat(rec, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert(fresh_load(rec, BOOT, &r));
	ck_assert_uint_eq(r.thp_mbps, 470);
	ck_assert_uint_eq(r.small_mbps, 2500);
	/* Another boot's record is not this boot's. */
	ck_assert(!fresh_load(rec, "ffffffff-4e5f-6789-abcd-ef0123456789", &r));
	gone();
}
END_TEST

START_TEST(record_not_trusted)
{
	struct fresh_rates r = { 7, 7 };
	char link[PATH_MAX + 32], good[PATH_MAX + 32];
	static const char *const damaged[] = {
		"",
		"hmo-fresh 1 " BOOT " 470\n",			/* cut short */
		"hmo-fresh 1 " BOOT " 470 2500",		/* no newline */
		"hmo-fresh 1 " BOOT " 470 2500\nmore\n",	/* something after */
		"hmo-fresh 2 " BOOT " 470 2500\n",		/* another version */
		"hmo-fresh 1 " BOOT " -1 2500\n",
		"hmo-fresh 1 " BOOT " 470 0\n",		/* no 4 KiB rate */
		"hmo-fresh 1 " BOOT " 99999999999 2500\n",	/* overflows */
		"hmo-fresh 1 " BOOT "X 470 2500\n",
	};

	fresh_dir();
	for (size_t i = 0; i < sizeof damaged / sizeof *damaged; i++) {
		write_text(rec, damaged[i], 0600);
		ck_assert_msg(!fresh_load(rec, BOOT, &r), "damaged record %zu accepted", i);
	}
	/* Whole, but readable or writable by others. */
	write_text(rec, "hmo-fresh 1 " BOOT " 470 2500\n", 0644);
	ck_assert(!fresh_load(rec, BOOT, &r));
	write_text(rec, "hmo-fresh 1 " BOOT " 470 2500\n", 0620);
	ck_assert(!fresh_load(rec, BOOT, &r));
	/* A link to a good record is not followed. */
	snprintf(good, sizeof good, "%s/good", dir);
	write_text(good, "hmo-fresh 1 " BOOT " 470 2500\n", 0600);
	ck_assert(fresh_load(good, BOOT, &r));
	snprintf(link, sizeof link, "%s/link", dir);
	ck_assert_int_eq(symlink(good, link), 0);
	ck_assert(!fresh_load(link, BOOT, &r));
	/* Someone else's (only root can make one here). */
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(good, 65534, 65534), 0);
		ck_assert(!fresh_load(good, BOOT, &r));
	}
	/* A directory, and a FIFO, are not records (and opening the FIFO never waits). */
	ck_assert(!fresh_load(dir, BOOT, &r));
	snprintf(good, sizeof good, "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(good, 0600), 0);
	ck_assert(!fresh_load(good, BOOT, &r));
	ck_assert_uint_eq(r.thp_mbps, 470);	/* untouched by the refusals after the good read */
	gone();
}
END_TEST

START_TEST(writers_race)
{
	struct fresh_rates r;

	fresh_dir();
	for (int i = 0; i < 8; i++) {
		if (fork() == 0) {
			for (int k = 0; k < 200; k++)
				fresh_store(rec, BOOT, &(struct fresh_rates){ 1000 + (uint32_t)i, 2000 + (uint32_t)i });
			_exit(0);
		}
	}
	for (int i = 0; i < 8; i++) {
		int status;
		ck_assert_int_gt(wait(&status), 0);
	}
	ck_assert(fresh_load(rec, BOOT, &r));
	/* One writer's whole record. */
	ck_assert_uint_eq(r.small_mbps - r.thp_mbps, 1000);
	gone();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fresh");
	TCase *t = tcase_create("fresh");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, choice_from_rates);
	tcase_add_test(t, probe_measures);
	tcase_add_test(t, record_round_trip);
	tcase_add_test(t, record_not_trusted);
	tcase_add_test(t, writers_race);
	suite_add_tcase(s, t);
	return unit_run(s, CK_FORK);
}
