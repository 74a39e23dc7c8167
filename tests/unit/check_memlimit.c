/* The cgroup memory limit as libhmo reads it (memlimit.c), over trees made here in
 * the forms the kernel and container runtimes give: v1 beside v2, v2 alone, nested
 * groups, a container that mounts its own group as the root, paths outside the
 * namespace, "max", v1's "unlimited" number, and the usage and PSI files. CI has
 * v1 only; these are how v2 is checked. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload/os.h"
#include "unit.h"

static char root[PATH_MAX];

/* put("a/b/memory.max", "300\n"): makes the directories and writes the file. */
static void put(const char *rel, const char *text)
{
	char path[PATH_MAX * 2];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	}
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void fresh(void)
{
	if (root[0])
		ck_assert_int_eq(unit_rmtree(root), 0);
	unit_tmpdir(root, sizeof root, "hmo-memlimit");
}

/* Reads the tree: `cgroup` is the text of /proc/self/cgroup, sys/ the mount. */
static void read_tree(const char *cgroup, struct os_memlimit *m)
{
	char proc[PATH_MAX + 16], sys[PATH_MAX + 16];

	put("proc-cgroup", cgroup);
	snprintf(proc, sizeof proc, "%s/proc-cgroup", root);
	snprintf(sys, sizeof sys, "%s/sys", root);
	os_memory_limit_at(m, proc, sys);
}

static int ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && strcmp(s + a - b, tail) == 0;
}

START_TEST(v1_beside_v2_takes_the_smallest_up_the_path)
{
	struct os_memlimit m;

	fresh();
	put("sys/memory/memory.limit_in_bytes", "9223372036854771712\n");	/* v1: none */
	put("sys/memory/a/memory.limit_in_bytes", "419430400\n");
	put("sys/memory/a/b/memory.limit_in_bytes", "524288000\n");
	put("sys/memory/a/memory.stat", "cache 10\nrss 20\ntotal_cache 4096\ntotal_rss 123456\n");
	put("sys/unified/cgroup.procs", "");
	read_tree("12:pids:/\n4:cpu,memory:/a/b\n0::/\n", &m);
	ck_assert_uint_eq(m.limit, 419430400);
	ck_assert(!m.v2);
	ck_assert(ends_with(m.stat, "/sys/memory/a/memory.stat"));
	ck_assert_str_eq(m.pressure, "/proc/pressure/memory");	/* v1 has none per group */
	ck_assert_uint_eq(os_memory_anon(&m), 123456);	/* total_rss, not rss */
}
END_TEST

START_TEST(v2_alone_max_and_high)
{
	struct os_memlimit m;

	fresh();
	put("sys/cgroup.controllers", "cpu memory pids\n");
	put("sys/x/memory.max", "629145600\n");
	put("sys/x/memory.high", "max\n");
	put("sys/x/y/memory.max", "max\n");
	put("sys/x/y/memory.high", "314572800\n");
	put("sys/x/y/memory.stat", "anon 2097152\nfile 999999999\n");
	put("sys/x/y/memory.pressure", "some avg10=12.34 avg60=1.00 avg300=0.00 total=5\n"
				       "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
	read_tree("0::/x/y\n", &m);
	ck_assert_uint_eq(m.limit, 314572800);
	ck_assert(m.v2);
	ck_assert(ends_with(m.stat, "/sys/x/y/memory.stat"));
	ck_assert_uint_eq(os_memory_anon(&m), 2097152);	/* anon: page cache left out */
	ck_assert(ends_with(m.pressure, "/sys/x/y/memory.pressure"));
	ck_assert_int_eq(os_pressure_avg10(m.pressure), 1234);
}
END_TEST

START_TEST(container_with_its_group_as_root)
{
	struct os_memlimit m;

	/* Without a cgroup namespace, /proc/self/cgroup names the host's path, which the
	 * container's mount does not have: the mount's own root limit is found. */
	fresh();
	put("sys/cgroup.controllers", "memory\n");
	put("sys/memory.max", "209715200\n");
	put("sys/memory.stat", "anon 1\n");
	read_tree("0::/kubepods/pod1/abc\n", &m);
	ck_assert_uint_eq(m.limit, 209715200);
	/* A path outside the namespace's root is read as the root. */
	read_tree("0::/../../sibling\n", &m);
	ck_assert_uint_eq(m.limit, 209715200);
}
END_TEST

START_TEST(no_limit)
{
	struct os_memlimit m;

	fresh();
	put("sys/cgroup.controllers", "memory\n");
	put("sys/a/memory.max", "max\n");
	put("sys/a/memory.high", "max\n");
	put("sys/a/memory.stat", "anon 5\n");
	read_tree("0::/a\n", &m);
	ck_assert_uint_eq(m.limit, 0);
	/* A limit of 0 is no usable limit either; and nothing readable at all. */
	put("sys/a/memory.max", "0\n");
	read_tree("0::/a\n", &m);
	ck_assert_uint_eq(m.limit, 0);
	read_tree("", &m);
	ck_assert_uint_eq(m.limit, 0);
	ck_assert_int_eq(os_pressure_avg10("/nonexistent/memory.pressure"), -1);
	ck_assert_uint_eq(os_read_u64("/nonexistent"), UINT64_MAX);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("memlimit");
	TCase *t = tcase_create("memlimit");

	tcase_add_test(t, v1_beside_v2_takes_the_smallest_up_the_path);
	tcase_add_test(t, v2_alone_max_and_high);
	tcase_add_test(t, container_with_its_group_as_root);
	tcase_add_test(t, no_limit);
	suite_add_tcase(s, t);
	int rc = unit_run(s, CK_NOFORK);
	if (root[0] && unit_rmtree(root) != 0)
		rc = EXIT_FAILURE;
	return rc;
}
