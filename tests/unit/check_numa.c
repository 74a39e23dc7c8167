/* HMO_NUMA: parsing, topology from synthetic hwloc topologies, and the decisions
 * made on 1-, 2- and 4-node machines (CI has one node); then this machine's
 * topology and a plan applied for real, checked against libnuma. libhmo itself
 * never uses libnuma (doc/design.md says why): here it is a second opinion. */
#ifndef HMO_HAVE_LIBNUMA
#error "tests/unit/check_numa needs libnuma, which configure did not find: install it (Debian: libnuma-dev) and run configure again"
#endif

#include <errno.h>
#include <hwloc.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "preload/numa.h"
#include "unit.h"

START_TEST(parse_forms)
{
	struct hmo_numa v;

	ck_assert_ptr_null(hmo_parse_numa("local", &v));
	ck_assert_int_eq(v.mode, HMO_NUMA_LOCAL);
	ck_assert_ptr_null(hmo_parse_numa("GPU", &v));
	ck_assert_int_eq(v.mode, HMO_NUMA_GPU);
	ck_assert_ptr_null(hmo_parse_numa("node:3", &v));
	ck_assert_int_eq(v.mode, HMO_NUMA_NODE);
	ck_assert_uint_eq(v.nodes, 1u << 3);
	ck_assert_ptr_null(hmo_parse_numa("preferred:63", &v));
	ck_assert_int_eq(v.mode, HMO_NUMA_PREFERRED);
	ck_assert_uint_eq(v.nodes, 1ull << 63);
	ck_assert_ptr_null(hmo_parse_numa("interleave", &v));
	ck_assert_int_eq(v.mode, HMO_NUMA_INTERLEAVE);
	ck_assert_uint_eq(v.nodes, 0);
	ck_assert_ptr_null(hmo_parse_numa("interleave:0-2,5,7-7", &v));
	ck_assert_uint_eq(v.nodes, 0x7 | 1u << 5 | 1u << 7);
}
END_TEST

START_TEST(parse_malformed)
{
	static const char *const bad[] = {
		"", "remote", "node", "node:", "node:64", "node:-1", "node:1x", "node:1,2",
		"preferred:", "interleave:", "interleave:3-1", "interleave:0,", "interleave:0;1",
		"interleave:a", "gpu:0", " local", "node: 1",
	};
	struct hmo_numa v = { HMO_NUMA_PREFERRED, 42 };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(hmo_parse_numa(bad[i], &v) != NULL, "accepted \"%s\"", bad[i]);
	ck_assert_int_eq(v.mode, HMO_NUMA_PREFERRED);
	ck_assert_uint_eq(v.nodes, 42);
}
END_TEST

static void synthetic(const char *desc, struct numa_topo *t)
{
	hwloc_topology_t h;

	ck_assert_int_eq(hwloc_topology_init(&h), 0);
	ck_assert_int_eq(hwloc_topology_set_synthetic(h, desc), 0);
	ck_assert_int_eq(hwloc_topology_load(h), 0);
	numa_topo_from_hwloc(h, t);
	hwloc_topology_destroy(h);
}

START_TEST(topology_from_hwloc)
{
	struct numa_topo t;

	synthetic("pack:2 numa:1 core:2 pu:1", &t);
	ck_assert_int_eq(t.nnodes, 2);
	ck_assert_uint_eq(t.nodes, 0x3);
	ck_assert_int_eq(t.gpu_node, -1);	/* synthetic topologies have no PCI devices */
	/* Each CPU maps to its package's node: the per-node arenas pick by it. */
	ck_assert_uint_eq(t.cpu_node[0], 0);
	ck_assert_uint_eq(t.cpu_node[1], 0);
	ck_assert_uint_eq(t.cpu_node[2], 1);
	ck_assert_uint_eq(t.cpu_node[3], 1);
	ck_assert_uint_eq(t.cpu_node[4], 0xff);
	synthetic("pack:2 numa:2 core:2 pu:1", &t);
	ck_assert_int_eq(t.nnodes, 4);
	ck_assert_uint_eq(t.nodes, 0xf);
	for (int c = 0; c < 8; c++)
		ck_assert_uint_eq(t.cpu_node[c], c / 2);
	synthetic("core:2 pu:1", &t);
	ck_assert_int_eq(t.nnodes, 1);
}
END_TEST

static struct numa_plan plan_for(const char *opt, const struct numa_topo *t, const char **note)
{
	struct hmo_numa want;
	struct numa_plan p;

	ck_assert_ptr_null(hmo_parse_numa(opt, &want));
	*note = numa_plan_make(&want, t, &p);
	return p;
}

enum { DEFAULT = 0, PREFERRED = 1, BIND = 2, INTERLEAVE = 3 };

START_TEST(decisions_two_nodes)
{
	struct numa_topo t;
	const char *note;
	struct numa_plan p;

	synthetic("pack:2 numa:1 core:2 pu:1", &t);
	p = plan_for("local", &t, &note);
	ck_assert_ptr_null(note);
	ck_assert_int_eq(p.mpol, DEFAULT);
	p = plan_for("node:1", &t, &note);
	ck_assert_ptr_null(note);
	ck_assert_int_eq(p.mpol, BIND);
	ck_assert_uint_eq(p.mask, 0x2);
	p = plan_for("node:2", &t, &note);	/* no such node: local, with a note */
	ck_assert_ptr_nonnull(note);
	ck_assert_int_eq(p.mpol, DEFAULT);
	p = plan_for("interleave", &t, &note);
	ck_assert_int_eq(p.mpol, INTERLEAVE);
	ck_assert_uint_eq(p.mask, 0x3);
	ck_assert_int_eq(p.nodes_used, 2);
	p = plan_for("preferred:0", &t, &note);
	ck_assert_int_eq(p.mpol, PREFERRED);
	ck_assert_uint_eq(p.mask, 0x1);
	p = plan_for("gpu", &t, &note);	/* no GPU: local, with a note */
	ck_assert_ptr_nonnull(note);
	ck_assert_ptr_nonnull(strstr(note, "no NVIDIA GPU"));
	ck_assert_int_eq(p.mpol, DEFAULT);
}
END_TEST

START_TEST(decisions_four_nodes)
{
	struct numa_topo t;
	const char *note;
	struct numa_plan p;

	synthetic("pack:2 numa:2 core:2 pu:1", &t);
	p = plan_for("interleave:1-2,7", &t, &note);	/* 7 is not there: dropped */
	ck_assert_ptr_null(note);
	ck_assert_int_eq(p.mpol, INTERLEAVE);
	ck_assert_uint_eq(p.mask, 0x6);
	p = plan_for("interleave:3", &t, &note);	/* one node: bound to it */
	ck_assert_int_eq(p.mpol, BIND);
	ck_assert_uint_eq(p.mask, 0x8);
	p = plan_for("interleave:4-9", &t, &note);
	ck_assert_ptr_nonnull(note);
	ck_assert_int_eq(p.mpol, DEFAULT);
	/* The GPU's node, as hwloc would report it for a GPU on the second package. */
	t.gpu_node = 2;
	p = plan_for("gpu", &t, &note);
	ck_assert_ptr_null(note);
	ck_assert_int_eq(p.mpol, PREFERRED);
	ck_assert_uint_eq(p.mask, 0x4);
}
END_TEST

START_TEST(per_node_plan)
{
	struct numa_plan p;

	numa_plan_node(3, &p);
	ck_assert_int_eq(p.mpol, PREFERRED);
	ck_assert_uint_eq(p.mask, 0x8);
	ck_assert_int_eq(p.nodes_used, 1);
}
END_TEST

START_TEST(one_node)
{
	struct numa_topo t;
	const char *note;
	struct numa_plan p;

	synthetic("core:2 pu:1", &t);
	p = plan_for("interleave", &t, &note);
	ck_assert_ptr_null(note);
	ck_assert_int_eq(p.mpol, BIND);
	ck_assert_uint_eq(p.mask, 0x1);
	p = plan_for("node:1", &t, &note);
	ck_assert_ptr_nonnull(note);
	ck_assert_int_eq(p.mpol, DEFAULT);
}
END_TEST

/* This machine: hwloc's nodes (what hmo plans with) are nodes libnuma knows, and a
 * plan binding to one of them, applied by numa_apply's own mbind call, is the policy
 * get_mempolicy reads back and where move_pages (query mode) finds the pages. */
START_TEST(system_against_libnuma)
{
	struct numa_topo t;
	struct numa_plan p;
	const char *note;
	char opt[32];

	numa_topo_system(&t, 0);
	ck_assert_int_ge(t.nnodes, 1);
	if (numa_available() < 0) {
		printf("check_numa: the kernel has no NUMA calls: nothing to compare with libnuma\n");
		return;
	}
	for (int n = 0; n < NUMA_MAX_NODES; n++)
		if (t.nodes >> n & 1)
			ck_assert_msg(numa_bitmask_isbitset(numa_nodes_ptr, (unsigned)n),
				      "hwloc's node %d is not a node libnuma knows", n);
	ck_assert_int_le(t.nnodes, numa_num_configured_nodes());

	int node = __builtin_ctzll(t.nodes);
	snprintf(opt, sizeof opt, "node:%d", node);
	p = plan_for(opt, &t, &note);
	ck_assert_ptr_null(note);
	ck_assert_int_eq(p.mpol, BIND);

	enum { PAGES = 4 };
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	char *a = mmap(NULL, PAGES * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(a != MAP_FAILED);
	int err = numa_apply(&p, a, PAGES * pg);
	if (err == EPERM || err == ENOSYS) {
		/* A container's seccomp filter may refuse mbind: numa.sh skips then too. */
		printf("check_numa: mbind refused here (%s): placement not compared\n", strerror(err));
		munmap(a, PAGES * pg);
		return;
	}
	ck_assert_int_eq(err, 0);

	int mode = -1;
	unsigned long mask[1024 / (8 * sizeof(unsigned long))] = { 0 };
	ck_assert_int_eq(get_mempolicy(&mode, mask, 1024, a, MPOL_F_ADDR), 0);
	ck_assert_int_eq(mode, MPOL_BIND);
	ck_assert_uint_eq(mask[0], p.mask);
	for (size_t i = 1; i < sizeof mask / sizeof mask[0]; i++)
		ck_assert_uint_eq(mask[i], 0);

	void *pages[PAGES];
	int status[PAGES];
	memset(a, 1, PAGES * pg);
	for (int i = 0; i < PAGES; i++) {
		pages[i] = a + (size_t)i * pg;
		status[i] = -1;
	}
	ck_assert_int_eq(numa_move_pages(0, PAGES, pages, NULL, status, 0), 0);
	for (int i = 0; i < PAGES; i++)
		ck_assert_msg(status[i] == node, "page %d on node %d, bound to %d", i, status[i], node);
	munmap(a, PAGES * pg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("numa");
	TCase *t = tcase_create("numa");

	tcase_add_test(t, parse_forms);
	tcase_add_test(t, parse_malformed);
	tcase_add_test(t, topology_from_hwloc);
	tcase_add_test(t, decisions_two_nodes);
	tcase_add_test(t, decisions_four_nodes);
	tcase_add_test(t, one_node);
	tcase_add_test(t, per_node_plan);
	tcase_add_test(t, system_against_libnuma);
	suite_add_tcase(s, t);
	return unit_run(s, CK_FORK);
}
