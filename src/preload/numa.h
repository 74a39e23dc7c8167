/* numa.h: where the frame pool puts its memory (HMO_NUMA).
 *
 * The topology is read once through hwloc into a small plain struct; the decision
 * (which mbind policy, over which nodes, or why not) is a pure function of the
 * option and that struct, so it can be tested on synthetic 2- and 4-node hwloc
 * topologies on a machine with one node. */
#ifndef HMO_PRELOAD_NUMA_H
#define HMO_PRELOAD_NUMA_H

#include <hwloc.h>
#include <stdint.h>

#include "../common/options.h"

#pragma GCC visibility push(hidden)

#define NUMA_MAX_NODES 64
#define NUMA_MAX_CPUS 1024

struct numa_topo {
	int nnodes;
	uint64_t nodes;		/* os indices of the NUMA nodes, as a mask */
	int gpu_node;		/* nearest node of the first NVIDIA GPU, or -1 */
	uint8_t cpu_node[NUMA_MAX_CPUS];	/* node of each CPU (os index), 0xff unknown */
};

struct numa_plan {
	int mpol;		/* MPOL_DEFAULT (0): leave placement to first touch */
	uint64_t mask;
	int nodes_used;		/* bits in mask */
};

/* Fills `out` from a loaded hwloc topology (the system's, or a synthetic one). */
void numa_topo_from_hwloc(hwloc_topology_t t, struct numa_topo *out);
/* Loads this machine's topology once; with `io`, PCI devices too (for "gpu"). */
void numa_topo_system(struct numa_topo *out, int io);
/* The plan for `want` on `t`. Returns NULL, or a note saying why the plan is not
 * what was asked (a node that does not exist, no GPU): the plan is then "local". */
const char *numa_plan_make(const struct hmo_numa *want, const struct numa_topo *t,
			   struct numa_plan *out);
/* The plan for memory kept for the threads of `node` (per-node arenas under
 * HMO_NUMA=local on a machine with several nodes): preferred on that node. */
void numa_plan_node(int node, struct numa_plan *out);
/* Applies the plan to a new extent with mbind. 0 or an errno value. */
int numa_apply(const struct numa_plan *p, void *addr, size_t len);

#pragma GCC visibility pop

#endif
