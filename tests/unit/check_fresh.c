/* HMO_HUGEPAGES=auto's evidence (fresh.c): the choice from synthetic first-touch
 * rates and systems (fast THP, slow THP, free page reporting, hugetlb reserved or
 * used up, no THP, a memory limit, explicit values), free page reporting read from a
 * balloon's sysfs files, and the boot's record: written 0600, read back, and ignored
 * when it is damaged, someone else's, readable by others, a link, or of another
 * boot; two writers racing leave one whole record. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/options.h"
#include "common/trace.h"
#include "preload/fresh.h"
#include "preload/os.h"
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
	ck_assert(!fresh_prefers_thp(&(struct fresh_rates){ 470, 2500, false }));
	/* Bare metal, THP as fast or faster per byte. */
	ck_assert(fresh_prefers_thp(&(struct fresh_rates){ 6000, 3000, false }));
	ck_assert(fresh_prefers_thp(&(struct fresh_rates){ 2500, 2500, false }));
	/* At most a quarter slower is worth the TLB; more is not. */
	ck_assert(fresh_prefers_thp(&(struct fresh_rates){ 2000, 2500, false }));
	ck_assert(!fresh_prefers_thp(&(struct fresh_rates){ 1999, 2500, false }));
	/* No THP at all (disabled, or the probe failed). */
	ck_assert(!fresh_prefers_thp(&(struct fresh_rates){ 0, 2500, false }));
	/* Free page reporting: whatever a probe saw of warm huge pages. */
	ck_assert(!fresh_prefers_thp(&(struct fresh_rates){ 7000, 1300, true }));
}
END_TEST

static void expect(struct fresh_choice c, size_t hugetlb_page, bool thp, unsigned why)
{
	ck_assert_uint_eq(c.hugetlb_page, hugetlb_page);
	ck_assert_int_eq(c.thp, thp);
	ck_assert_uint_eq(c.why, why);
}

START_TEST(choice_of_pages)
{
	const struct fresh_system plain = { true, false, 0 }, nothp = { false, false, 0 },
				  limited = { true, true, 0 }, reserved = { true, false, 64 };
	const struct fresh_rates fast = { 6000, 3000, false }, slow = { 470, 2500, false },
				 reporting = { 0, 1300, true };
	const size_t m2 = (size_t)2 << 20, g1 = (size_t)1 << 30;

	expect(fresh_choose(HMO_HP_AUTO, &plain, &fast), 0, true, HMO_WHY_THP_CHEAP);
	expect(fresh_choose(HMO_HP_AUTO, &plain, &slow), 0, false, HMO_WHY_THP_COSTLY);
	expect(fresh_choose(HMO_HP_AUTO, &plain, &reporting), 0, false, HMO_WHY_REPORTING);
	/* No rates (the probe failed): THP, as hmo did before it measured. */
	expect(fresh_choose(HMO_HP_AUTO, &plain, NULL), 0, true, HMO_WHY_UNMEASURED);
	expect(fresh_choose(HMO_HP_AUTO, &nothp, &fast), 0, false, HMO_WHY_NO_THP);
	expect(fresh_choose(HMO_HP_AUTO, &limited, &fast), 0, false, HMO_WHY_LIMITED);
	/* Reserved hugetlb pages first (never reported: they stay warm), and beyond
	 * them what the rates say. */
	expect(fresh_choose(HMO_HP_AUTO, &reserved, &fast), m2, true, HMO_WHY_THP_CHEAP);
	expect(fresh_choose(HMO_HP_AUTO, &reserved, &reporting), m2, false, HMO_WHY_REPORTING);
	/* Explicit values force their backing whatever the rates. */
	expect(fresh_choose(HMO_HP_THP, &plain, &slow), 0, true, HMO_WHY_FORCED);
	/* Forced THP where the system has none: 4 KiB pages, said as such. */
	expect(fresh_choose(HMO_HP_THP, &nothp, &slow), 0, false, HMO_WHY_NO_THP);
	expect(fresh_choose(HMO_HP_HUGETLB, &nothp, &slow), m2, false, HMO_WHY_NO_THP);
	expect(fresh_choose(HMO_HP_OFF, &plain, &fast), 0, false, HMO_WHY_FORCED);
	expect(fresh_choose(HMO_HP_HUGETLB, &plain, &slow), m2, true, HMO_WHY_FORCED);
	expect(fresh_choose(HMO_HP_1G, &limited, &slow), g1, true, HMO_WHY_FORCED);
}
END_TEST

/* A balloon's sysfs directory: virtioN links to device directories with a
 * "features" file, bit 0 first. */
static void balloon(const char *features)
{
	char dev[PATH_MAX + 32], path[PATH_MAX + 64], link[PATH_MAX + 32];

	snprintf(dev, sizeof dev, "%s/devices", dir);
	mkdir(dev, 0700);
	snprintf(dev, sizeof dev, "%s/devices/virtio3", dir);
	ck_assert_int_eq(mkdir(dev, 0700), 0);
	snprintf(path, sizeof path, "%s/features", dev);
	write_text(path, features, 0600);
	snprintf(link, sizeof link, "%s/driver", dir);
	ck_assert_int_eq(mkdir(link, 0700), 0);
	snprintf(path, sizeof path, "%s/driver/bind", dir);	/* not a device */
	write_text(path, "", 0600);
	snprintf(link, sizeof link, "%s/driver/virtio3", dir);
	ck_assert_int_eq(symlink(dev, link), 0);
}

START_TEST(reporting_from_sysfs)
{
	char drv[PATH_MAX + 32];

	fresh_dir();
	snprintf(drv, sizeof drv, "%s/driver", dir);
	ck_assert(!os_free_page_reporting(drv));	/* no balloon */
	/* This VM's: stats queue, deflate on OOM, free page reporting (bit 5). */
	balloon("0110010100000000000000000000000010000000000000000000000000000000\n");
	ck_assert(os_free_page_reporting(drv));
	gone();
	fresh_dir();
	balloon("0110000100000000000000000000000010000000000000000000000000000000\n");
	ck_assert(!os_free_page_reporting(drv));	/* a balloon without it */
	gone();
	fresh_dir();
	balloon("0110\n");	/* too short to say */
	ck_assert(!os_free_page_reporting(drv));
	gone();
}
END_TEST

START_TEST(probe_measures)
{
	struct fresh_rates r = { 0, 0, false };

	ck_assert(fresh_probe(&r, false));
	ck_assert_uint_gt(r.small_mbps, 0);
	ck_assert(!r.reporting);
	/* Under free page reporting huge pages are not probed: a probe would see the
	 * last seconds' frees, still warm. */
	ck_assert(fresh_probe(&r, true));
	ck_assert_uint_gt(r.small_mbps, 0);
	ck_assert_uint_eq(r.thp_mbps, 0);
	ck_assert(r.reporting);
}
END_TEST

START_TEST(record_round_trip)
{
	struct fresh_rates w = { 470, 2500, false }, r = { 0, 0, true };
	struct stat st;

	fresh_dir();
	ck_assert(!fresh_load(rec, BOOT, &r));	/* none yet */
	fresh_store(rec, BOOT, &w);
	ck_assert_int_eq(stat(rec, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert(fresh_load(rec, BOOT, &r));
	ck_assert_uint_eq(r.thp_mbps, 470);
	ck_assert_uint_eq(r.small_mbps, 2500);
	ck_assert(!r.reporting);
	fresh_store(rec, BOOT, &(struct fresh_rates){ 0, 1300, true });
	ck_assert(fresh_load(rec, BOOT, &r));
	ck_assert_uint_eq(r.thp_mbps, 0);
	ck_assert_uint_eq(r.small_mbps, 1300);
	ck_assert(r.reporting);
	/* Another boot's record is not this boot's. */
	ck_assert(!fresh_load(rec, "ffffffff-4e5f-6789-abcd-ef0123456789", &r));
	gone();
}
END_TEST

START_TEST(record_not_trusted)
{
	struct fresh_rates r = { 7, 7, false };
	char link[PATH_MAX + 32], good[PATH_MAX + 32];
	static const char *const damaged[] = {
		"",
		"hmo-fresh 2 " BOOT " 470 2500\n",		/* cut short */
		"hmo-fresh 2 " BOOT " 470 2500 0",		/* no newline */
		"hmo-fresh 2 " BOOT " 470 2500 0\nmore\n",	/* something after */
		"hmo-fresh 1 " BOOT " 470 2500\n",		/* another version */
		"hmo-fresh 2 " BOOT " -1 2500 0\n",
		"hmo-fresh 2 " BOOT " 470 0 0\n",		/* no 4 KiB rate */
		"hmo-fresh 2 " BOOT " 470 2500 2\n",		/* not a flag */
		"hmo-fresh 2 " BOOT " 99999999999 2500 0\n",	/* overflows */
		"hmo-fresh 2 " BOOT "X 470 2500 0\n",
	};

	fresh_dir();
	for (size_t i = 0; i < sizeof damaged / sizeof *damaged; i++) {
		write_text(rec, damaged[i], 0600);
		ck_assert_msg(!fresh_load(rec, BOOT, &r), "damaged record %zu accepted", i);
	}
	/* Whole, but readable or writable by others. */
	write_text(rec, "hmo-fresh 2 " BOOT " 470 2500 0\n", 0644);
	ck_assert(!fresh_load(rec, BOOT, &r));
	write_text(rec, "hmo-fresh 2 " BOOT " 470 2500 0\n", 0620);
	ck_assert(!fresh_load(rec, BOOT, &r));
	/* A link to a good record is not followed. */
	snprintf(good, sizeof good, "%s/good", dir);
	write_text(good, "hmo-fresh 2 " BOOT " 470 2500 0\n", 0600);
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
				fresh_store(rec, BOOT, &(struct fresh_rates){ 1000 + (uint32_t)i, 2000 + (uint32_t)i, false });
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
	tcase_add_test(t, choice_of_pages);
	tcase_add_test(t, reporting_from_sysfs);
	tcase_add_test(t, probe_measures);
	tcase_add_test(t, record_round_trip);
	tcase_add_test(t, record_not_trusted);
	tcase_add_test(t, writers_race);
	suite_add_tcase(s, t);
	return unit_run(s, CK_FORK);
}
