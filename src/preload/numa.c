/* numa.c: HMO_NUMA decisions and their mbind. See numa.h. */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "numa.h"

/* From <linux/mempolicy.h>, kept here so that the pure part needs no libnuma. */
enum { MPOL_DEFAULT_ = 0, MPOL_PREFERRED_ = 1, MPOL_BIND_ = 2, MPOL_INTERLEAVE_ = 3 };

void numa_topo_from_hwloc(hwloc_topology_t t, struct numa_topo *out)
{
	int n = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);

	out->nnodes = 0;
	out->nodes = 0;
	out->gpu_node = -1;
	for (int c = 0; c < NUMA_MAX_CPUS; c++)
		out->cpu_node[c] = 0xff;
	for (int i = 0; i < n; i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, (unsigned)i);
		if (!o || o->os_index >= NUMA_MAX_NODES)
			continue;
		out->nodes |= (uint64_t)1 << o->os_index;
		out->nnodes++;
		int cpu;
		hwloc_bitmap_foreach_begin(cpu, o->cpuset)
			if (cpu < NUMA_MAX_CPUS)
				out->cpu_node[cpu] = (uint8_t)o->os_index;
		hwloc_bitmap_foreach_end();
	}
	/* The first NVIDIA display or 3D controller, and the node of its closest
	 * non-I/O ancestor. */
	for (hwloc_obj_t d = NULL; (d = hwloc_get_next_pcidev(t, d)) != NULL;) {
		unsigned cls = d->attr->pcidev.class_id >> 8;
		if (d->attr->pcidev.vendor_id != 0x10de || cls != 0x03)
			continue;
		hwloc_obj_t a = hwloc_get_non_io_ancestor_obj(t, d);
		int node = a && a->nodeset ? hwloc_bitmap_first(a->nodeset) : -1;
		if (node >= 0 && node < NUMA_MAX_NODES)
			out->gpu_node = node;
		break;
	}
}

void numa_topo_system(struct numa_topo *out, int io)
{
	hwloc_topology_t t;

	out->nnodes = 1;
	out->nodes = 1;
	out->gpu_node = -1;
	for (int c = 0; c < NUMA_MAX_CPUS; c++)
		out->cpu_node[c] = 0;
	if (hwloc_topology_init(&t) != 0)
		return;
	if (io)
		hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
	if (hwloc_topology_load(t) == 0)
		numa_topo_from_hwloc(t, out);
	hwloc_topology_destroy(t);
}

static int bits(uint64_t m)
{
	return __builtin_popcountll(m);
}

const char *numa_plan_make(const struct hmo_numa *want, const struct numa_topo *t,
			   struct numa_plan *out)
{
	uint64_t m;

	out->mpol = MPOL_DEFAULT_;
	out->mask = 0;
	out->nodes_used = 0;
	switch (want->mode) {
	case HMO_NUMA_LOCAL:
		return NULL;
	case HMO_NUMA_NODE:
	case HMO_NUMA_PREFERRED:
		if (!(t->nodes & want->nodes))
			return "HMO_NUMA names a node this machine does not have: local placement";
		out->mpol = want->mode == HMO_NUMA_NODE ? MPOL_BIND_ : MPOL_PREFERRED_;
		out->mask = want->nodes;
		break;
	case HMO_NUMA_INTERLEAVE:
		m = want->nodes ? want->nodes & t->nodes : t->nodes;
		if (!m)
			return "HMO_NUMA=interleave lists no node this machine has: local placement";
		if (bits(m) == 1) {
			out->mpol = MPOL_BIND_;	/* interleaving over one node is binding to it */
		} else {
			out->mpol = MPOL_INTERLEAVE_;
		}
		out->mask = m;
		break;
	case HMO_NUMA_GPU:
		if (t->gpu_node < 0)
			return "HMO_NUMA=gpu, but hwloc found no NVIDIA GPU: local placement";
		out->mpol = MPOL_PREFERRED_;
		out->mask = (uint64_t)1 << t->gpu_node;
		break;
	}
	out->nodes_used = bits(out->mask);
	return NULL;
}

void numa_plan_node(int node, struct numa_plan *out)
{
	out->mpol = MPOL_PREFERRED_;
	out->mask = (uint64_t)1 << node;
	out->nodes_used = 1;
}

int numa_apply(const struct numa_plan *p, void *addr, size_t len)
{
	unsigned long mask = (unsigned long)p->mask;

	if (p->mpol == MPOL_DEFAULT_)
		return 0;
	/* maxnode counts bits and the kernel reads one less: 65 covers 64 nodes. */
	if (syscall(SYS_mbind, addr, len, p->mpol, &mask, NUMA_MAX_NODES + 1, 0) != 0)
		return errno;
	return 0;
}
