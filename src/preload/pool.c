/* pool.c: the frame pool on jemalloc arenas with hmo's extent hooks. See pool.h.
 *
 * One reserved address range, split between NUMA nodes (one set of arenas per node
 * under HMO_NUMA=local on a machine with several, else one set), and within a set
 * between the backings: explicit hugetlb pages (when the system has some reserved,
 * or HMO_HUGEPAGES asks) and transparent huge pages or 4 KiB pages for the rest.
 * Each backing is its own jemalloc arena, whose extent hooks carve extents from that
 * backing's part of the range with a bump pointer and place them on its node. A
 * frame is asked of the hugetlb arena first; when hugetlb pages run out,
 * that arena's hook fails at mapping time (MAP_HUGETLB reserves then, so never a
 * later SIGBUS) and the frame comes from the other arena.
 *
 * Address space is kept: dalloc declines, so jemalloc retains extents and reuses
 * them; only under RLIMIT_AS does the unused part of the range go back
 * (pool_give_back). Physical memory goes back through purge (MADV_DONTNEED) when
 * jemalloc's decay (HMO_POOL_DECAY) or the cap (HMO_POOL_MAX) says so; hugetlb pages
 * are kept until exit, as a reserved resource. Pool work runs under hmo's guard, so
 * jemalloc's own mmaps and copies pass straight through. */
#include <errno.h>

/* jemalloc is linked in statically under hmo_je_ names (see Makefile.am). */
#define mallocx hmo_je_mallocx
#define dallocx hmo_je_dallocx
#define sallocx hmo_je_sallocx
#define nallocx hmo_je_nallocx
#define rallocx hmo_je_rallocx
#define mallctl hmo_je_mallctl
#include <jemalloc/jemalloc.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/fmt.h"
#include "fresh.h"
#include "base.h"
#include "counters.h"
#include "process.h"
#include "numa.h"
#include "os.h"
#include "pool.h"

#define HUGE_2M ((size_t)2 << 20)
#define HUGE_1G ((size_t)1 << 30)

/* jemalloc reads this when it starts (its weak malloc_conf, renamed). Its default
 * purges every extent of 8 MiB or more the moment it is freed ("oversize"), whatever
 * the decay time: exactly the frames the pool exists to keep. Raised to 1 TiB,
 * frames stay cached for HMO_POOL_DECAY. No background thread: decay is driven by
 * hmo (pool_tick). */
const char *hmo_je_malloc_conf = "oversize_threshold:1099511627776,background_thread:false";

/* jemalloc's other sources of settings, MALLOC_CONF and the /etc/malloc.conf link,
 * are the user's, meant for a jemalloc the user chose: hmo's copy asks here
 * (the Makefile renames its calls) and is told that neither exists. A jemalloc
 * preloaded next to hmo still reads them. */
char *hmo_je_secure_getenv(const char *name);
ssize_t hmo_je_readlink(const char *path, char *buf, size_t len);

char *hmo_je_secure_getenv(const char *name)
{
	(void)name;
	return NULL;
}

ssize_t hmo_je_readlink(const char *path, char *buf, size_t len)
{
	(void)path, (void)buf, (void)len;
	errno = ENOENT;
	return -1;
}

uintptr_t hmo_pool_base;
size_t hmo_pool_size = 0;
bool hmo_pool_partial;
bool hmo_pool_may_give_back;

size_t hmo_pool_threshold = SIZE_MAX;

#define POOL_MAX_ARENAS 8

/* One backing: its arenas, its part of the range, how its extents are mapped. The
 * hooks come first, so that the hooks pointer jemalloc passes back is the backing. */
struct backing {
	extent_hooks_t hooks;
	bool on;
	size_t hugetlb_page;	/* 2 MiB or 1 GiB for hugetlb; 0 otherwise */
	bool thp;		/* advise MADV_HUGEPAGE (non-hugetlb backing) */
	unsigned arena;		/* the first of its arenas */
	int flags;		/* MALLOCX_ARENA | MALLOCX_TCACHE_NONE, of that one */
	/* Arenas sharing the backing's hooks and range: each thread uses one, so that
	 * threads allocating frames at once do not all wait on one arena's locks. */
	unsigned narenas;
	unsigned arenas[POOL_MAX_ARENAS];
	uintptr_t base;
	size_t size, used;
	size_t kept;		/* after pool_give_back: [base, base+kept) is still the pool's */
	unsigned failures;	/* hugetlb mappings refused in a row */
	struct numa_plan plan;	/* mbind of its new extents */
};

/* The arenas of one NUMA node (or of the whole machine). */
/* Frames freed and not yet handed back to jemalloc, per set: a frame freed and
 * asked for again at once (a decoder's cycle) comes back from here without any of
 * jemalloc's locks and extent work, about 10 times faster; glibc's own reuse of a
 * freed chunk is that fast. The ticker hands the frames to jemalloc every tick,
 * whence they decay as any other. `usable` is a hint, checked after taking. */
#define RECENT_SLOTS 16
struct recent {
	void *p[RECENT_SLOTS];
	size_t usable[RECENT_SLOTS];
	size_t bytes;		/* held now, at most RECENT_MAX */
};
/* What the slots of a set may hold: frames kept from jemalloc cannot be split or
 * merged for another size, so this is memory the program may find mapped anew. */
#define RECENT_MAX ((size_t)64 << 20)

struct node_set {
	struct backing huge, main;
	struct recent recent;
	int node;		/* os index of the node, for the summary */
};

#define POOL_MAX_NODES 8

enum { POOL_NEW, POOL_STARTING, POOL_READY, POOL_FAILED };
static int pool_state;
static struct node_set sets[POOL_MAX_NODES];
static int nsets = 1;
static size_t per_set_size;	/* each set's part of the range */
/* With several sets: the set of each CPU's node, from hwloc at pool start. */
static uint8_t cpu_set[NUMA_MAX_CPUS];
static struct pool_stats st;

static pthread_mutex_t give_back_lock = PTHREAD_MUTEX_INITIALIZER;

/* Whether giving back could help from now on: see pool.h. Under the lock that
 * pool_give_back holds, so that the last to read the limit is the last to store. A
 * limit set from outside the process is seen at the ticker's next tick. */
static void update_may_give_back(void)
{
	struct rlimit as;

	pthread_mutex_lock(&give_back_lock);
	bool may = __atomic_load_n(&pool_state, __ATOMIC_ACQUIRE) == POOL_READY && !hmo_pool_partial &&
		   getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY;
	__atomic_store_n(&hmo_pool_may_give_back, may, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&give_back_lock);
}
/* The cgroup's limit (os.c). Under one, freed frames are handed to the kernel as
 * MADV_FREE at once: they stay cached and reusable without a fault, but the kernel
 * takes them back itself when the group nears its limit, where dirty pages could
 * only be swapped or end in the OOM killer. */
static struct os_memlimit memlimit;
static bool limited;
/* One bit per 4 KiB page of the range, set where a live block starts: the pool's own
 * record of what it handed out, so that a double free, a free inside a block, or a
 * free after realloc moved the block is caught (as glibc catches them) instead of
 * handing the same memory out twice. Mapped with the range, touched only where
 * frames are. */
static uint64_t *live_map;
static size_t live_map_len;
static __thread bool grew __attribute__((tls_model("initial-exec")));

#define STAT_ADD(f, v) __atomic_fetch_add(&st.f, (v), __ATOMIC_RELAXED)
#define STAT_SUB(f, v) __atomic_fetch_sub(&st.f, (v), __ATOMIC_RELAXED)

/* Counts of frames served and freed: in the calling thread's slot (counters.c), with
 * plain stores, when it has one (pool work runs under the guard, which keeps the
 * slot in `saved`); else, for a thread that is exiting or has none yet, in
 * `shared_counts` with atomics. Summed by pool_get_stats. */
static struct hmo_pool_counts shared_counts;

static struct hmo_pool_counts *counts(bool *own)
{
	struct hmo_slot *s = hmo_tls.saved;

	*own = s && !hmo_tls.exiting;
	return *own ? &s->pool : &shared_counts;
}

#define COUNT(c, own, f, v)                                                            \
	do {                                                                           \
		if (own)                                                               \
			HMO_ADD((c)->f, (v));                                          \
		else                                                                   \
			__atomic_fetch_add(&(c)->f, (v), __ATOMIC_RELAXED);            \
	} while (0)

/* ---- extent hooks --------------------------------------------------------
 * jemalloc's convention: false means success for everything but alloc. */

/* Binds a new extent to its backing's nodes before anything touches it. A refusal
 * leaves first-touch placement, counted. */
static void place(struct backing *b, void *p, size_t len)
{
	if (!b->plan.mpol)
		return;
	if (numa_apply(&b->plan, p, len) == 0)
		STAT_ADD(placed_bytes, len);
	else
		STAT_ADD(place_failures, 1);
}

/* Takes [start, start+len) of the backing's range, aligned; 0 when it is full.
 * *prev is where the range's free part began before. */
static uintptr_t carve(struct backing *b, size_t len, size_t align, size_t *prev)
{
	size_t old = __atomic_load_n(&b->used, __ATOMIC_RELAXED), start, end;

	do {
		start = (old + align - 1) & ~(align - 1);
		end = start + len;
		if (end > b->size || end < start)
			return 0;
	} while (!__atomic_compare_exchange_n(&b->used, &old, end, false, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	*prev = old;
	return b->base + start;
}

/* Gives back an extent the kernel refused to back (an impossible size, a commit
 * limit), so that a refused request costs no address space; when another extent was
 * carved after it meanwhile, it stays a hole. */
static void uncarve(struct backing *b, uintptr_t p, size_t len, size_t prev)
{
	size_t end = p - b->base + len;

	(void)__atomic_compare_exchange_n(&b->used, &end, prev, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* A hugetlb extent: mapped over its part of the reservation with MAP_HUGETLB, which
 * takes the pages now or fails now. After a refusal, only every 64th request tries
 * the kernel again (pages may have been freed by other processes meanwhile). */
static void *alloc_hugetlb(struct backing *b, size_t size, size_t align)
{
	size_t page = b->hugetlb_page, len = (size + page - 1) & ~(page - 1), prev;
	uintptr_t p;

	if (b->failures && (__atomic_add_fetch(&b->failures, 1, __ATOMIC_RELAXED) % 64) != 0)
		return NULL;
	p = carve(b, len, align > page ? align : page, &prev);
	if (!p)
		return NULL;
	if (os_map_hugetlb((void *)p, len, page) != 0) {
		uncarve(b, p, len, prev);
		__atomic_store_n(&b->failures, 1, __ATOMIC_RELAXED);
		STAT_ADD(hugetlb_refused, 1);
		return NULL;
	}
	place(b, (void *)p, len);
	__atomic_store_n(&b->failures, 0, __ATOMIC_RELAXED);
	STAT_ADD(hugetlb_bytes, len);
	return (void *)p;
}

static void *ext_alloc(extent_hooks_t *h, void *new_addr, size_t size, size_t align,
		       bool *zero, bool *commit, unsigned arena)
{
	struct backing *b = (struct backing *)h;
	void *p;

	(void)arena;
	if (new_addr)	/* growing in place at a given address: not offered */
		return NULL;
	if (b->hugetlb_page) {
		p = alloc_hugetlb(b, size, align);
		if (!p)
			return NULL;
	} else {
		if (b->thp && align < HUGE_2M && size >= HUGE_2M)
			align = HUGE_2M;	/* whole huge pages for frame-sized extents */
		size_t prev;
		p = (void *)carve(b, size, align, &prev);
		if (!p)
			return NULL;
		if (os_commit(p, size) != 0) {
			uncarve(b, (uintptr_t)p, size, prev);
			return NULL;	/* the frame falls back, and gets the kernel's answer */
		}
		place(b, p, size);
		/* Backing chosen per extent: huge pages where the advice is taken. */
		if (b->thp && os_advise_thp(p, size) == 0)
			STAT_ADD(thp_bytes, size);
		else
			STAT_ADD(small_page_bytes, size);
	}
	if (hmo_opt.prefault)
		(void)os_populate(p, size);
	*zero = true;	/* never used before: the kernel's zero pages */
	*commit = true;
	grew = true;
	STAT_ADD(extents, 1);
	STAT_ADD(extent_bytes, size);
	return p;
}

static bool ext_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed, unsigned arena)
{
	(void)h, (void)addr, (void)size, (void)committed, (void)arena;
	return true;	/* keep the address space: jemalloc retains and reuses it */
}

static void ext_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed, unsigned arena)
{
	(void)h, (void)committed, (void)arena;
	(void)os_purge(addr, size);
}

static bool ext_commit(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len,
		       unsigned arena)
{
	(void)size, (void)arena;
	if (((struct backing *)h)->hugetlb_page)
		return false;	/* mapped read-write from the start */
	return os_commit((char *)addr + off, len) != 0;
}

static bool ext_decommit(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len,
			 unsigned arena)
{
	(void)h, (void)addr, (void)size, (void)off, (void)len, (void)arena;
	return true;	/* always committed; purge gives the pages back */
}

static bool ext_purge_lazy(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len,
			   unsigned arena)
{
	struct backing *b = (struct backing *)h;
	uintptr_t start = (uintptr_t)addr + off, end = start + len;

	(void)size, (void)arena;
	if (!limited || b->hugetlb_page)
		return true;	/* not asked for (see backing_start) */
	/* Whole huge pages only: MADV_FREE on part of one would split it. The edges stay
	 * as they are, resident, until the forced purge. */
	if (b->thp) {
		start = (start + HUGE_2M - 1) & ~(HUGE_2M - 1);
		end &= ~(HUGE_2M - 1);
		if (end <= start)
			return false;
	}
	return os_purge_lazy((void *)start, end - start) != 0;
}

static bool ext_purge_forced(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len,
			     unsigned arena)
{
	(void)size, (void)arena;
	if (((struct backing *)h)->hugetlb_page)
		return true;	/* hugetlb pages stay with the pool until exit */
	if (os_purge((char *)addr + off, len) != 0)
		return true;
	STAT_ADD(purged_bytes, len);
	return false;
}

static bool ext_split(extent_hooks_t *h, void *addr, size_t size, size_t a, size_t b,
		      bool committed, unsigned arena)
{
	(void)h, (void)addr, (void)size, (void)a, (void)b, (void)committed, (void)arena;
	return false;	/* bookkeeping only: nothing is unmapped */
}

static bool ext_merge(extent_hooks_t *h, void *a, size_t asize, void *b, size_t bsize,
		      bool committed, unsigned arena)
{
	(void)h, (void)a, (void)asize, (void)b, (void)bsize, (void)committed, (void)arena;
	return false;	/* adjacent extents of one backing lie in one part of the range */
}

static const extent_hooks_t hooks = {
	ext_alloc, ext_dalloc, ext_destroy, ext_commit, ext_decommit,
	ext_purge_lazy, ext_purge_forced, ext_split, ext_merge,
};

/* ---- set-up ------------------------------------------------------------ */

void pool_configure(void)
{
	/* With the pool off, frames still take the frame path when they are traced. */
	hmo_pool_threshold = hmo_opt.pool || hmo_opt.trace.kind != HMO_DEST_OFF ? (size_t)hmo_opt.threshold
									: SIZE_MAX;
}

/* How much address space to reserve: twice physical memory, from 16 GiB to 1 TiB,
 * and no more than half of RLIMIT_AS where one is set. */
static size_t reserve_size(void)
{
	size_t want = 2 * os_physical_memory();
	struct rlimit rl;

	if (want < ((size_t)16 << 30))
		want = (size_t)16 << 30;
	if (want > ((size_t)1 << 40))
		want = (size_t)1 << 40;
	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 2 < want)
		want = rl.rlim_cur / 2;
	return want & ~(HUGE_1G - 1) ? want & ~(HUGE_1G - 1) : want & ~(HUGE_2M - 1);
}

/* One line, only when the user asked for hmo's output (HMO_STATS). */
static void pool_warn(const char *what, int err)
{
	char line[256];
	struct fmt_buf b;

	if (hmo_opt.stats.kind == HMO_DEST_OFF)
		return;
	fmt_init(&b, line, sizeof line);
	fmt_str(&b, "hmo: frame pool: ");
	fmt_str(&b, what);
	if (err) {
		fmt_str(&b, " (");
		fmt_errno(&b, err);
		fmt_str(&b, ")");
	}
	os_warn(line);
}

/* "arena.<i>.<leaf>" and the like, without stdio. */
static const char *arena_ctl(char *buf, size_t cap, const char *pre, unsigned arena, const char *leaf)
{
	struct fmt_buf b;

	fmt_init(&b, buf, cap);
	fmt_str(&b, pre);
	fmt_u64(&b, arena);
	fmt_str(&b, leaf);
	return buf;
}

static void arena_set_ssize(unsigned arena, const char *leaf, ssize_t v)
{
	char name[64];

	(void)mallctl(arena_ctl(name, sizeof name, "arena.", arena, leaf), NULL, NULL, &v, sizeof v);
}

/* Creates the backing's `n` arenas over [base, base+size). */
static bool backing_start(struct backing *b, uintptr_t base, size_t size, unsigned n)
{
	extent_hooks_t *hp = &b->hooks;

	b->hooks = hooks;
	b->base = base;
	b->size = size;
	for (b->narenas = 0; b->narenas < n; b->narenas++) {
		unsigned a;
		size_t sz = sizeof a;
		if (mallctl("arenas.create", &a, &sz, &hp, sizeof hp) != 0)
			break;
		/* Free frames stay dirty (reusable, resident) for HMO_POOL_DECAY, then go
		 * straight back to the kernel. Under a cgroup limit they become lazily free
		 * (muzzy) at once, and are given back HMO_POOL_DECAY later: the kernel may
		 * take them before. hugetlb pages are never given back, so their arena
		 * does not try. */
		ssize_t decay = (ssize_t)hmo_opt.pool_decay_ms;
		arena_set_ssize(a, ".dirty_decay_ms", b->hugetlb_page ? -1 : limited ? 0 : decay);
		arena_set_ssize(a, ".muzzy_decay_ms", b->hugetlb_page ? -1 : limited ? decay : 0);
		/* jemalloc grows an arena by ever larger extents; on hugetlb pages, taken
		 * whole when mapped, the part beyond the frame would hold reserved pages
		 * that the next frame may not fit in. Grow by what is asked. */
		if (b->hugetlb_page)
			arena_set_ssize(a, ".retain_grow_limit", (ssize_t)b->hugetlb_page);
		b->arenas[b->narenas] = a;
	}
	if (!b->narenas)
		return false;
	b->arena = b->arenas[0];
	b->flags = MALLOCX_ARENA(b->arena) | MALLOCX_TCACHE_NONE;
	b->on = true;
	return true;
}

/* Arenas per main backing: as many as the set's CPUs, up to HMO's limit. */
static unsigned main_arenas(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN) / nsets;

	return cpus < 1 ? 1 : cpus > POOL_MAX_ARENAS ? POOL_MAX_ARENAS : (unsigned)cpus;
}

/* The calling thread's arena of a backing: threads are dealt out in turn as they
 * first allocate a frame. */
static __thread unsigned thread_turn __attribute__((tls_model("initial-exec")));
static unsigned next_turn;

static int arena_flags(const struct backing *b)
{
	unsigned t = thread_turn;

	if (b->narenas <= 1)
		return b->flags;
	if (!t)
		thread_turn = t = __atomic_add_fetch(&next_turn, 1, __ATOMIC_RELAXED);
	return MALLOCX_ARENA(b->arenas[t % b->narenas]) | MALLOCX_TCACHE_NONE;
}

/* Who hears of the choice (the trace writer, set by hmo_init). */
static void (*on_pages_chosen)(const struct hmo_rec_pool *);

/* The choice and its evidence into the statistics (the summary) and to its
 * listener. */
static void note_pages(const struct fresh_choice *c, const struct fresh_rates *r, bool measured,
			uint64_t hugetlb_free)
{
	struct hmo_rec_pool rec = {
		.t = os_now_ns(), .hugetlb_page = c->hugetlb_page, .backing = c->thp ? HMO_BACK_THP : HMO_BACK_4K,
		.why = c->why, .hugetlb_free = hugetlb_free > UINT32_MAX ? UINT32_MAX : (uint32_t)hugetlb_free,
	};
	if (r) {
		rec.thp_mbps = r->thp_mbps;
		rec.small_mbps = r->small_mbps;
		rec.flags = (measured ? HMO_POOL_MEASURED_NOW : 0) | (r->reporting ? HMO_POOL_FREE_PAGE_REPORTING : 0);
	}
	st.pages = rec;
	if (on_pages_chosen)
		on_pages_chosen(&rec);
}

void pool_on_pages_chosen(void (*fn)(const struct hmo_rec_pool *))
{
	on_pages_chosen = fn;
}

/* The pages for fresh frames (fresh.h), chosen once per process when the pool
 * starts (under hmo's guard); HMO_MMAP=advise follows the choice from then on. A
 * forked child keeps its parent's. */
static struct fresh_choice chosen;
static bool choice_made;

bool pool_advise_thp(void)
{
	if (hmo_opt.hugepages != HMO_HP_AUTO)
		return hmo_opt.hugepages != HMO_HP_OFF;
	/* Before the pool has chosen, no advice: a process that never uses the pool
	 * pays neither the probe nor the record's reading. */
	return __atomic_load_n(&choice_made, __ATOMIC_ACQUIRE) && chosen.thp;
}

/* The choice, for the pool's start, with a line where an explicit HMO_HUGEPAGES
 * cannot be had. */
static struct fresh_choice pages_choice(void)
{
	struct fresh_system sys = { os_thp_available(), limited, os_hugetlb_free() };
	struct fresh_rates rates;
	bool have = false, measured = false;

	/* Only auto looks at the rates, and only where THP is in question. */
	if (hmo_opt.hugepages == HMO_HP_AUTO && sys.thp && !limited)
		have = fresh_rates_for_boot(&rates, &measured);
	chosen = fresh_choose(hmo_opt.hugepages, &sys, have ? &rates : NULL);
	note_pages(&chosen, have ? &rates : NULL, measured, sys.hugetlb_2m);
	__atomic_store_n(&choice_made, true, __ATOMIC_RELEASE);
	if (hmo_opt.hugepages == HMO_HP_HUGETLB && !os_hugetlb_reserved(HUGE_2M))
		pool_warn("HMO_HUGEPAGES=hugetlb, but no 2 MiB pages are reserved "
			  "(/proc/sys/vm/nr_hugepages): frames use THP", 0);
	if (hmo_opt.hugepages == HMO_HP_1G && !os_hugetlb_reserved(HUGE_1G))
		pool_warn("HMO_HUGEPAGES=1G, but no 1 GiB pages are reserved: frames use THP", 0);
	if (hmo_opt.hugepages == HMO_HP_THP && !chosen.thp)
		pool_warn("HMO_HUGEPAGES=thp, but transparent huge pages are disabled: 4 KiB pages", 0);
	return chosen;
}

static void pool_start(void)
{
	void *base = NULL;
	size_t size = reserve_size();
	int err = ENOMEM;
	struct numa_topo topo = { .nnodes = 1, .nodes = 1, .gpu_node = -1 };
	struct numa_plan global;
	bool thp;
	size_t hugetlb_page;

	while (size >= ((size_t)256 << 20) && (err = os_reserve(size, HUGE_1G, &base)) != 0)
		size /= 2;
	if (base) {
		size_t map_len = ((size >> 15) + 4095) & ~(size_t)4095;	/* a bit per page */
		live_map_len = map_len;
		live_map = os_raw_mmap(NULL, map_len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (live_map == MAP_FAILED) {
			err = errno;
			live_map = NULL;
			os_raw_munmap(base, size);
			base = NULL;
		}
	}
	if (!base) {
		pool_warn("cannot reserve address space; frames go to the program's allocator", err);
		__atomic_store_n(&pool_state, POOL_FAILED, __ATOMIC_RELEASE);
		return;
	}
	/* Under a cgroup limit, auto keeps to 4 KiB pages: a huge page's untouched tail
	 * is resident all the same, up to 2 MiB a frame, and that overhead (a fifth of
	 * libx264's peak) is what turns a program that fits under glibc into one the
	 * OOM killer ends. Elsewhere it takes THP only where fresh huge pages do not
	 * cost much more than 4 KiB pages on this boot: a short job is mostly first
	 * touches. */
	struct fresh_choice pages = pages_choice();
	thp = pages.thp;
	hugetlb_page = pages.hugetlb_page;
	/* The topology, read once, where a placement needs it. */
	if (hmo_opt.numa.mode != HMO_NUMA_LOCAL || os_numa_nodes() > 1)
		numa_topo_system(&topo, hmo_opt.numa.mode == HMO_NUMA_GPU);
	const char *note = numa_plan_make(&hmo_opt.numa, &topo, &global);
	if (note)
		pool_warn(note, 0);
	/* Local placement on several nodes: a set of arenas per node, each preferring its
	 * node, so that a frame freed on one node is reused there. */
	if (hmo_opt.numa.mode == HMO_NUMA_LOCAL && topo.nnodes > 1 && topo.nnodes <= POOL_MAX_NODES)
		nsets = topo.nnodes;
	st.hugetlb_page = hugetlb_page;
	st.numa_mpol = nsets > 1 ? 1 : global.mpol;
	st.numa_mask = nsets > 1 ? topo.nodes : global.mask;
	st.nsets = nsets;
	/* Publish the range before an arena can hand out anything in it: base first,
	 * then the size that makes it count (see hmo_pool_owns). */
	__atomic_store_n(&hmo_pool_base, (uintptr_t)base, __ATOMIC_RELAXED);
	__atomic_store_n(&hmo_pool_size, size, __ATOMIC_RELEASE);
	size_t per_set = (size / (size_t)nsets) & ~(HUGE_2M - 1);
	per_set_size = per_set;
	for (int i = 0, node = 0; i < nsets; i++, node++) {
		struct node_set *ns = &sets[i];
		uintptr_t set_base = (uintptr_t)base + (size_t)i * per_set;
		while (nsets > 1 && !(topo.nodes >> node & 1))
			node++;
		ns->node = nsets > 1 ? node : -1;
		ns->main.thp = thp;
		ns->huge.hugetlb_page = hugetlb_page;
		if (nsets > 1) {
			numa_plan_node(node, &ns->main.plan);
			numa_plan_node(node, &ns->huge.plan);
			for (int c = 0; c < NUMA_MAX_CPUS; c++)
				if (topo.cpu_node[c] == node)
					cpu_set[c] = (uint8_t)i;
		} else {
			ns->main.plan = global;
			ns->huge.plan = global;
		}
		/* hugetlb gets the first half of the set's part when it is used. */
		size_t huge_part = hugetlb_page ? (per_set / 2) & ~(HUGE_1G - 1) : 0;
		if (huge_part && !backing_start(&ns->huge, set_base, huge_part, 1))
			ns->huge.hugetlb_page = 0;
		if (!backing_start(&ns->main, set_base + huge_part, per_set - huge_part, main_arenas())) {
			pool_warn("jemalloc refused to create an arena; frames go to the program's allocator", 0);
			__atomic_store_n(&pool_state, POOL_FAILED, __ATOMIC_RELEASE);
			return;
		}
	}
	__atomic_store_n(&pool_state, POOL_READY, __ATOMIC_RELEASE);
	update_may_give_back();
}

/* True once the pool can serve. The first caller starts it; a concurrent caller
 * does not wait (frames go to the next allocator meanwhile). */
static bool pool_ready(void)
{
	int s = __atomic_load_n(&pool_state, __ATOMIC_ACQUIRE), expect = POOL_NEW;

	if (HMO_LIKELY(s == POOL_READY))
		return true;
	if (s == POOL_NEW && __atomic_compare_exchange_n(&pool_state, &expect, POOL_STARTING, false,
							  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		pool_start();
	return __atomic_load_n(&pool_state, __ATOMIC_ACQUIRE) == POOL_READY;
}

/* The backing whose part of the range holds `p`. */
static struct backing *backing_of(const void *p)
{
	uintptr_t a = (uintptr_t)p;

	for (int i = 0; i < nsets; i++) {
		if (sets[i].huge.on && a - sets[i].huge.base < sets[i].huge.size)
			return &sets[i].huge;
		if (a - sets[i].main.base < sets[i].main.size)
			return &sets[i].main;
	}
	return &sets[0].main;
}

/* The set whose part of the range holds p. */

static int set_index(const void *p)
{
	size_t i = nsets > 1 ? ((uintptr_t)p - hmo_pool_base) / per_set_size : 0;

	return i < (size_t)nsets ? (int)i : nsets - 1;
}

/* The calling thread's set: the one of the node its CPU is on. */
static struct node_set *current_set(void)
{
	int cpu;

	if (nsets == 1)
		return &sets[0];
	cpu = sched_getcpu();
	return &sets[cpu >= 0 && cpu < NUMA_MAX_CPUS ? cpu_set[cpu] : 0];
}

/* ---- serving ------------------------------------------------------------ */

static void note_live(size_t add)
{
	uint64_t live = STAT_ADD(live_bytes, add) + add;
	uint64_t peak = __atomic_load_n(&st.peak_live_bytes, __ATOMIC_RELAXED);

	while (live > peak && !__atomic_compare_exchange_n(&st.peak_live_bytes, &peak, live, false,
							   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* The word and bit of p's page in live_map. */
static uint64_t *live_word(const void *p, uint64_t *bit)
{
	size_t page = ((uintptr_t)p - hmo_pool_base) >> 12;

	*bit = (uint64_t)1 << (page & 63);
	return &live_map[page >> 6];
}

static void mark_live(const void *p)
{
	uint64_t bit, *w = live_word(p, &bit);

	__atomic_fetch_or(w, bit, __ATOMIC_RELAXED);
}

/* Clears p's bit; false when p was not the start of a live block (then nothing
 * changes). */
static bool take_live(const void *p)
{
	uint64_t bit, *w;

	if ((uintptr_t)p & 4095)
		return false;
	w = live_word(p, &bit);
	return (__atomic_fetch_and(w, ~bit, __ATOMIC_RELAXED) & bit) != 0;
}

static bool is_live(const void *p)
{
	uint64_t bit;

	return !((uintptr_t)p & 4095) && (__atomic_load_n(live_word(p, &bit), __ATOMIC_RELAXED) & bit);
}

/* The live block that holds p, if any: the nearest block start at or below it
 * (looking back at most 4 GiB) whose size reaches p. Only on the way to abort. */
static const void *live_block_around(const void *p, size_t *size)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095;

	for (size_t back = 0; back < ((size_t)4 << 30) && a >= hmo_pool_base; back += 4096, a -= 4096) {
		if (is_live((void *)a)) {
			*size = sallocx((void *)a, 0);
			return (uintptr_t)p < a + *size ? (void *)a : NULL;
		}
	}
	return NULL;
}

/* A pointer given to free or realloc that is not a live block: one line, then abort,
 * as glibc does ("free(): double free detected"); going on would hand the block out
 * twice. */
static __attribute__((noreturn, cold)) void misuse(const char *fn, const void *p)
{
	char line[256];
	struct fmt_buf b;
	const void *block;
	size_t size = 0;

	fmt_init(&b, line, sizeof line);
	fmt_str(&b, "hmo: ");
	fmt_str(&b, fn);
	fmt_str(&b, "(): ");
	block = live_block_around(p, &size);
	if (block) {
		fmt_str(&b, "invalid pointer ");
		fmt_hex(&b, (uintptr_t)p);
		fmt_str(&b, ", inside the frame-pool block ");
		fmt_hex(&b, (uintptr_t)block);
		fmt_str(&b, " of ");
		fmt_u64(&b, size);
		fmt_str(&b, " bytes");
	} else {
		fmt_str(&b, "double free or invalid pointer ");
		fmt_hex(&b, (uintptr_t)p);
		fmt_str(&b, ": not a live frame-pool block (freed already, or moved by realloc)");
	}
	fmt_str(&b, "; aborting");
	os_warn(line);
	abort();
}

void pool_check_live(const char *fn, const void *p)
{
	if (HMO_UNLIKELY(!is_live(p)))
		misuse(fn, p);
}

/* What serving p did, for the caller's trace event; node -1 when there is one set. */
static void note_last(struct pool_last *last, const void *p, int node)
{
	if (!last)
		return;
	const struct backing *b = backing_of(p);
	last->outcome = grew ? HMO_OUT_POOL_MISS : HMO_OUT_POOL_HIT;
	last->backing = b->hugetlb_page ? HMO_BACK_HUGETLB : b->thp ? HMO_BACK_THP : HMO_BACK_4K;
	last->node = (int8_t)node;
}

/* On transparent huge pages, a frame of 2 MiB or more is whole huge pages: aligned
 * and rounded up. Otherwise the first write to its last, partial page would fault
 * in a huge page that reaches into the free memory beyond it, which no purge of the
 * frame gives back (it stays resident after the frame is freed and decayed). */
static size_t thp_size(const struct backing *b, size_t size)
{
	if (!b->thp || size < HUGE_2M || size > SIZE_MAX - HUGE_2M)
		return size;
	return (size + HUGE_2M - 1) & ~(HUGE_2M - 1);
}

#define LG_ALIGN_MASK 0x3f	/* the flags' log2 alignment, as jemalloc lays them out */

static int thp_align(const struct backing *b, size_t size, int flags)
{
	if (!b->thp || size < HUGE_2M || (flags & LG_ALIGN_MASK) >= 21)
		return flags;
	return (flags & ~LG_ALIGN_MASK) | MALLOCX_LG_ALIGN(21);
}

/* ---- address-space limits ------------------------------------------------ */

/* Whether glibc would get `size` more bytes under RLIMIT_AS and RLIMIT_DATA, as
 * they are now (a process may lower them at any time; a forked worker often does).
 * The pool's reservation and the free memory it caches count for the kernel but
 * would not exist under glibc, which unmaps a freed block: they are taken out, and
 * the live frames put in. Costs a read of /proc/self/statm per frame, only where a
 * limit is set. */
static uint64_t rl_as = RLIM_INFINITY, rl_data = RLIM_INFINITY;
/* Bumped by every change made here; the limits are read again when it moved since
 * they were last read (a change during the read is seen at the next frame). */
static unsigned rl_gen = 1, rl_seen;

void pool_rlimits_changed(void)
{
	__atomic_add_fetch(&rl_gen, 1, __ATOMIC_RELEASE);
	update_may_give_back();
}

static bool within_rlimits(size_t size)
{
	struct rlimit rl;
	uint64_t vm = 0, vdata = 0, reserved, committed, live, as, data;
	unsigned gen = __atomic_load_n(&rl_gen, __ATOMIC_ACQUIRE);

	/* Read once, and again after the process changed them (the setrlimit and prlimit
	 * hooks); a limit changed from outside (prlimit on this pid) is seen at the next
	 * change made here. */
	if (gen != __atomic_load_n(&rl_seen, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&rl_as, getrlimit(RLIMIT_AS, &rl) == 0 ? rl.rlim_cur : RLIM_INFINITY,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&rl_data, getrlimit(RLIMIT_DATA, &rl) == 0 ? rl.rlim_cur : RLIM_INFINITY,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&rl_seen, gen, __ATOMIC_RELEASE);
	}
	as = __atomic_load_n(&rl_as, __ATOMIC_RELAXED);
	data = __atomic_load_n(&rl_data, __ATOMIC_RELAXED);
	if (as == RLIM_INFINITY && data == RLIM_INFINITY)
		return true;
	if (os_vm_size(&vm, &vdata) != 0)
		return true;
	reserved = hmo_pool_size + live_map_len - __atomic_load_n(&st.given_back_bytes, __ATOMIC_RELAXED);
	/* Writable private memory of hmo's: what the pool made writable, and its map. */
	committed = __atomic_load_n(&st.extent_bytes, __ATOMIC_RELAXED) + live_map_len;
	live = __atomic_load_n(&st.live_bytes, __ATOMIC_RELAXED);
	if (as != RLIM_INFINITY && vm >= reserved && vm - reserved + live + size > as)
		return false;
	if (data != RLIM_INFINITY && vdata >= committed && vdata - committed + live + size > data)
		return false;
	return true;
}

/* The reservation's part that no extent ever used: what giving back would free. */
static uint64_t unused_reservation(void)
{
	uint64_t used = 0;

	for (int i = 0; i < nsets; i++) {
		const struct backing *bs[2] = { &sets[i].huge, &sets[i].main };
		for (int k = 0; k < 2; k++)
			if (bs[k]->on)
				used += __atomic_load_n(&bs[k]->used, __ATOMIC_RELAXED);
	}
	return hmo_pool_size > used ? hmo_pool_size - used : 0;
}

bool pool_give_back(size_t need)
{
	struct rlimit as;
	uint64_t freed = 0, vm = 0, data = 0;
	bool was;

	if (__atomic_load_n(&pool_state, __ATOMIC_ACQUIRE) != POOL_READY ||
	    __atomic_load_n(&hmo_pool_partial, __ATOMIC_ACQUIRE) || getrlimit(RLIMIT_AS, &as) != 0 ||
	    as.rlim_cur == RLIM_INFINITY || need > as.rlim_cur || os_vm_size(&vm, &data) != 0)
		return false;
	/* Only where the reservation is what stands in the way: the address space is
	 * short now, and would not be without it. A request no limit allows (an
	 * overflowed calloc, a probe) leaves the pool as it is. */
	if (need && (vm + need <= as.rlim_cur || vm - unused_reservation() + need > as.rlim_cur))
		return false;
	/* A limit just lowered: when the process already uses half of it. */
	if (!need && vm <= as.rlim_cur / 2)
		return false;
	hmo_guard_enter();
	pthread_mutex_lock(&give_back_lock);
	was = hmo_pool_partial;
	if (!was) {
		/* Close every backing to new extents first, and say so before the holes
		 * exist, so that nothing mapped there later is taken for the pool's. */
		for (int i = 0; i < nsets; i++) {
			struct backing *bs[2] = { &sets[i].huge, &sets[i].main };
			for (int k = 0; k < 2; k++) {
				struct backing *b = bs[k];
				size_t page = b->hugetlb_page ? b->hugetlb_page : HUGE_2M;
				size_t used = b->on ? __atomic_exchange_n(&b->used, b->size, __ATOMIC_RELAXED) : 0;
				b->kept = (used + page - 1) & ~(page - 1);
				if (b->kept > b->size)
					b->kept = b->size;
			}
		}
		__atomic_store_n(&hmo_pool_partial, true, __ATOMIC_RELEASE);
		uintptr_t lo[2 * POOL_MAX_NODES], hi[2 * POOL_MAX_NODES];
		int n = pool_ranges(lo, hi, 2 * POOL_MAX_NODES);
		uintptr_t cur = hmo_pool_base, end = hmo_pool_base + hmo_pool_size;
		for (int r = 0; r <= n; r++) {
			uintptr_t stop = r < n ? lo[r] : end;
			if (stop > cur && os_raw_munmap((void *)cur, stop - cur) == 0)
				freed += stop - cur;
			if (r < n)
				cur = hi[r];
		}
		STAT_ADD(given_back_bytes, freed);
		__atomic_store_n(&hmo_pool_may_give_back, false, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&give_back_lock);
	hmo_guard_leave();
	return freed != 0 || was;	/* another thread just gave it back: worth a retry too */
}

int pool_ranges(uintptr_t lo[], uintptr_t hi[], int max)
{
	int n = 0;

	if (!__atomic_load_n(&hmo_pool_partial, __ATOMIC_ACQUIRE)) {
		if (max > 0 && hmo_pool_size) {
			lo[0] = hmo_pool_base;
			hi[0] = hmo_pool_base + hmo_pool_size;
			return 1;
		}
		return 0;
	}
	for (int i = 0; i < nsets; i++) {
		const struct backing *bs[2] = { &sets[i].huge, &sets[i].main };
		for (int k = 0; k < 2 && n < max; k++)
			if (bs[k]->on && bs[k]->kept) {
				lo[n] = bs[k]->base;
				hi[n++] = bs[k]->base + bs[k]->kept;
			}
	}
	return n;
}

bool pool_owns_kept(const void *p)
{
	return pool_overlaps_kept(p, 1);
}

bool pool_overlaps_kept(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	for (int i = 0; i < nsets; i++) {
		const struct backing *bs[2] = { &sets[i].huge, &sets[i].main };
		for (int k = 0; k < 2; k++)
			if (bs[k]->on && a < bs[k]->base + bs[k]->kept && a + len > bs[k]->base)
				return true;
	}
	return false;
}

void *pool_alloc(size_t size, size_t align, bool zero, struct pool_last *last)
{
	return pool_alloc_from(size, align, zero, POOL_ANY, last);
}

/* Whether freed frames are kept in the sets' recent slots: not with no decay time
 * (then nothing may stay cached, and no ticker runs to flush them). */
static bool recent_off;	/* no ticker could be started */

static bool recent_on(void)
{
	/* Not under a memory limit either: frames freed there are left to the kernel
	 * at once (MADV_FREE), which a slot would delay. */
	return hmo_opt.pool_decay_ms != 0 && !limited && !__atomic_load_n(&recent_off, __ATOMIC_RELAXED);
}

/* A recently freed frame of one of the two usable sizes, aligned to `align`. */
static void *recent_take(struct recent *r, size_t u1, size_t u2, size_t align)
{
	for (int i = 0; i < RECENT_SLOTS; i++) {
		size_t u = __atomic_load_n(&r->usable[i], __ATOMIC_RELAXED);
		void *p;
		if (u != u1 && u != u2)
			continue;
		p = __atomic_load_n(&r->p[i], __ATOMIC_ACQUIRE);
		if (!p || ((uintptr_t)p & (align - 1)) ||
		    !__atomic_compare_exchange_n(&r->p[i], &p, NULL, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		/* Taken; another size may have been put there meanwhile. */
		u = sallocx(p, 0);
		__atomic_sub_fetch(&r->bytes, u, __ATOMIC_RELAXED);
		if (u == u1 || u == u2)
			return p;
		dallocx(p, MALLOCX_TCACHE_NONE);
	}
	return NULL;
}

static bool recent_put(struct recent *r, void *p, size_t usable)
{
	if (__atomic_add_fetch(&r->bytes, usable, __ATOMIC_RELAXED) > RECENT_MAX) {
		__atomic_sub_fetch(&r->bytes, usable, __ATOMIC_RELAXED);
		return false;
	}
	for (int i = 0; i < RECENT_SLOTS; i++) {
		void *none = NULL;
		if (__atomic_load_n(&r->p[i], __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&r->usable[i], usable, __ATOMIC_RELAXED);
		if (__atomic_compare_exchange_n(&r->p[i], &none, p, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return true;
	}
	__atomic_sub_fetch(&r->bytes, usable, __ATOMIC_RELAXED);
	return false;
}

static uint64_t recent_bytes(const struct recent *r)
{
	uint64_t bytes = 0;

	for (int k = 0; k < RECENT_SLOTS; k++)
		if (__atomic_load_n(&r->p[k], __ATOMIC_RELAXED))
			bytes += __atomic_load_n(&r->usable[k], __ATOMIC_RELAXED);
	return bytes;
}

/* Every set's recent frames to jemalloc (the ticker, malloc_trim, pressure). */
static void recent_flush(void)
{
	for (int i = 0; i < nsets; i++)
		for (int k = 0; k < RECENT_SLOTS; k++) {
			void *p = __atomic_exchange_n(&sets[i].recent.p[k], NULL, __ATOMIC_ACQUIRE);
			if (p) {
				__atomic_sub_fetch(&sets[i].recent.bytes, sallocx(p, 0), __ATOMIC_RELAXED);
				dallocx(p, MALLOCX_TCACHE_NONE);
			}
		}
}

void *pool_alloc_from(size_t size, size_t align, bool zero, enum pool_want want, struct pool_last *last)
{
	void *p = NULL;
	int saved_errno = errno;

	hmo_guard_enter();
	bool ready = pool_ready();

	if (ready && HMO_UNLIKELY(!within_rlimits(size))) {
		STAT_ADD(rlimit_refusals, 1);
	} else if (ready) {
		/* Page alignment at least: frames start on a page (and a huge page when
		 * large), and jemalloc's random cache-colouring offset, which it applies
		 * only below page alignment, would make every reuse a different address. */
		int flags = (zero ? MALLOCX_ZERO : 0) | MALLOCX_ALIGN(align > 4096 ? align : 4096);
		struct node_set *ns = current_set();
		grew = false;
		if (want == POOL_ANY && recent_on()) {
			size_t a = align > 4096 ? align : 4096;
			size_t u1 = nallocx(thp_size(&ns->main, size), thp_align(&ns->main, size, flags));
			size_t u2 = ns->huge.on ? nallocx(size, flags) : u1;
			if ((p = recent_take(&ns->recent, u1, u2, a)) != NULL && zero)
				os_memset(p, 0, sallocx(p, 0));	/* as MALLOCX_ZERO does */
		}
		if (!p && ns->huge.on && want != POOL_NO_HUGETLB)
			p = mallocx(size, ns->huge.flags | flags);
		if (!p && want != POOL_HUGETLB_ONLY)
			p = mallocx(thp_size(&ns->main, size), arena_flags(&ns->main) | thp_align(&ns->main, size, flags));
		if (p) {
			size_t usable = sallocx(p, 0);
			bool own;
			struct hmo_pool_counts *c = counts(&own);
			COUNT(c, own, allocs, 1);
			COUNT(c, own, served_bytes, usable);
			if (!grew) {
				COUNT(c, own, reused, 1);
				COUNT(c, own, reused_bytes, usable);
			}
			note_live(usable);
			note_last(last, p, nsets > 1 ? ns->node : -1);
			mark_live(p);
		}
	}
	if (!p) {
		STAT_ADD(fallbacks, 1);
		if (last)
			*last = (struct pool_last){ HMO_OUT_FALLBACK, HMO_BACK_NONE, -1 };
	}
	hmo_guard_leave();
	errno = saved_errno;
	return p;
}

/* The free pages an arena holds resident: dirty, and muzzy (lazily freed, until the
 * kernel takes them). Needs a fresh "epoch" first. */
static uint64_t arena_cached(unsigned arena)
{
	static const char *const leaves[] = { ".pdirty", ".pmuzzy" };
	uint64_t bytes = 0;
	char name[64];

	for (int k = 0; k < 2; k++) {
		size_t pages, sz = sizeof pages;
		if (mallctl(arena_ctl(name, sizeof name, "stats.arenas.", arena, leaves[k]), &pages, &sz,
			    NULL, 0) == 0)
			bytes += (uint64_t)pages * 4096;
	}
	return bytes;
}

static uint64_t backing_cached(const struct backing *b)
{
	uint64_t bytes = 0;

	for (unsigned k = 0; k < b->narenas; k++)
		bytes += arena_cached(b->arenas[k]);
	return bytes;
}

/* Every main arena's free pages back to the kernel (hugetlb pages stay). True when
 * a purge was made. */
static bool purge_main(void)
{
	char name[64];
	bool any = false;

	recent_flush();
	for (int i = 0; i < nsets; i++)
		for (unsigned k = 0; k < sets[i].main.narenas; k++)
			any |= mallctl(arena_ctl(name, sizeof name, "arena.", sets[i].main.arenas[k], ".purge"),
				       NULL, NULL, NULL, 0) == 0;
	return any;
}

/* ---- decay and pressure, driven by hmo's thread -------------------------
 * jemalloc decays an arena only when that arena is used: a program that frees its
 * frames and then idles, or works with small blocks only, would keep them for ever.
 * A thread of hmo's own (signals blocked, started on the first frame freed in each
 * process) calls for decay a few times per HMO_POOL_DECAY and, under a cgroup limit,
 * releases everything cached when the group's usage comes within a margin of the
 * limit or memory pressure (PSI) rises. */

static pid_t ticker_pid;

/* The margin kept below the limit: an eighth of it, at least 32 MiB. */
static bool near_limit(void)
{
	uint64_t used, margin = memlimit.limit / 8 > ((uint64_t)32 << 20) ? memlimit.limit / 8
									  : (uint64_t)32 << 20;

	if (!limited)
		return false;
	used = os_memory_anon(&memlimit);
	if (used != UINT64_MAX && used + margin >= memlimit.limit)
		return true;
	/* Tasks stalled on memory 10% of the last 10 s. */
	return os_pressure_avg10(memlimit.pressure) >= 1000;
}

static void tick(void)
{
	char name[64];
	uint64_t epoch = 1, cached = 0;

	recent_flush();
	if (!__atomic_load_n(&hmo_pool_partial, __ATOMIC_ACQUIRE))
		update_may_give_back();	/* a limit set from outside (prlimit --pid) */
	(void)mallctl("epoch", NULL, NULL, &epoch, sizeof epoch);
	for (int i = 0; i < nsets; i++)
		cached += backing_cached(&sets[i].main);
	if (!cached)
		return;
	if (near_limit()) {
		if (purge_main())
			STAT_ADD(pressure_purges, 1);
		return;
	}
	for (int i = 0; i < nsets; i++)
		for (unsigned k = 0; k < sets[i].main.narenas; k++)
			(void)mallctl(arena_ctl(name, sizeof name, "arena.", sets[i].main.arenas[k], ".decay"),
				      NULL, NULL, NULL, 0);
}

static void *ticker(void *arg)
{
	/* "never" (-1) decays nothing, but the slots and the limit still need ticks. */
	int64_t ms = hmo_opt.pool_decay_ms < 0 ? 1000 : hmo_opt.pool_decay_ms / 8;
	pid_t me = (pid_t)(intptr_t)arg;

	hmo_guard_enter();	/* what it calls passes straight through */
	if (ms > 1000)
		ms = 1000;
	if (limited && ms > 100)
		ms = 100;
	if (ms < 10)
		ms = 10;
	/* A child forked meanwhile has its own (pool_atfork_child). */
	while (__atomic_load_n(&ticker_pid, __ATOMIC_RELAXED) == me) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		tick();
	}
	return NULL;
}

static void start_ticker(void)
{
	pthread_t t;
	pthread_attr_t a;
	sigset_t all_sigs, old;
	pid_t seen = __atomic_load_n(&ticker_pid, __ATOMIC_RELAXED), me = hmo_pid;

	if (seen == me || !__atomic_compare_exchange_n(&ticker_pid, &seen, me, false, __ATOMIC_RELAXED,
							__ATOMIC_RELAXED))
		return;
	if (hmo_opt.pool_decay_ms == 0)
		return;	/* jemalloc purges at once: nothing stays cached */
	sigfillset(&all_sigs);
	pthread_sigmask(SIG_SETMASK, &all_sigs, &old);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	/* glibc takes static TLS out of the stack: room for a program's large TLS. */
	pthread_attr_setstacksize(&a, 1024 * 1024);
	if (pthread_create(&t, &a, ticker, (void *)(intptr_t)me) == 0) {
		pthread_setname_np(t, "hmo-pool");
	} else {
		/* Nothing would flush the slots: stop using them (decay then runs only
		 * when the arenas are used, as jemalloc does by itself). */
		__atomic_store_n(&recent_off, true, __ATOMIC_RELAXED);
		recent_flush();
	}
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void pool_atfork_child(void)
{
	__atomic_store_n(&ticker_pid, 0, __ATOMIC_RELAXED);
	pthread_mutex_init(&give_back_lock, NULL);	/* a thread of the parent may have held it */
}

uint64_t pool_read_limits(void)
{
	uint64_t ram = os_physical_memory();

	os_memory_limit(&memlimit);
	limited = memlimit.limit && memlimit.limit < ram;
	st.mem_limit = limited ? memlimit.limit : 0;
	return limited ? memlimit.limit : ram;
}

bool pool_trim(void)
{
	bool any;

	if (__atomic_load_n(&pool_state, __ATOMIC_ACQUIRE) != POOL_READY)
		return false;
	hmo_guard_enter();
	uint64_t before = __atomic_load_n(&st.purged_bytes, __ATOMIC_RELAXED);
	any = purge_main() && __atomic_load_n(&st.purged_bytes, __ATOMIC_RELAXED) != before;
	if (any)
		STAT_ADD(trim_purges, 1);
	hmo_guard_leave();
	return any;
}

/* Over the cap, the main arenas' cached (dirty) pages all go back to the kernel. The
 * check is cheap until more than the cap has ever been mapped beyond what is live. */
static void enforce_cap(void)
{
	uint64_t mapped = __atomic_load_n(&st.extent_bytes, __ATOMIC_RELAXED);
	uint64_t live = __atomic_load_n(&st.live_bytes, __ATOMIC_RELAXED);
	uint64_t dirty = 0, epoch = 1;

	if (mapped - live <= hmo_opt.pool_max)
		return;
	(void)mallctl("epoch", NULL, NULL, &epoch, sizeof epoch);
	for (int i = 0; i < nsets; i++) {
		dirty += backing_cached(&sets[i].main);
		dirty += recent_bytes(&sets[i].recent);
	}
	if (dirty <= hmo_opt.pool_max)
		return;
	if (purge_main())
		STAT_ADD(cap_purges, 1);
}

void pool_free(void *p)
{
	int saved_errno = errno;

	if (HMO_UNLIKELY(!take_live(p)))
		misuse("free", p);
	hmo_guard_enter();
	size_t usable = sallocx(p, 0);
	STAT_SUB(live_bytes, usable);
	bool own;
	struct hmo_pool_counts *c = counts(&own);
	COUNT(c, own, freed_bytes, usable);
	COUNT(c, own, frees, 1);
	if (!recent_on() || !recent_put(&sets[set_index(p)].recent, p, usable))
		dallocx(p, MALLOCX_TCACHE_NONE);
	enforce_cap();
	if (HMO_UNLIKELY(__atomic_load_n(&ticker_pid, __ATOMIC_RELAXED) != hmo_pid))
		start_ticker();
	hmo_guard_leave();
	errno = saved_errno;
}

size_t pool_usable_size(const void *p)
{
	return sallocx((void *)p, 0);
}

void *pool_realloc(void *p, size_t size, struct pool_last *last)
{
	int saved_errno = errno;
	size_t old, now;
	void *q;

	/* Taken before jemalloc can free p, put back on whatever block comes out. */
	if (HMO_UNLIKELY(!take_live(p)))
		misuse("realloc", p);
	hmo_guard_enter();
	old = sallocx(p, 0);
	if (size > old && !within_rlimits(size - old)) {
		mark_live(p);
		STAT_ADD(rlimit_refusals, 1);
		hmo_guard_leave();
		errno = ENOMEM;
		return NULL;
	}
	grew = false;
	struct backing *b = backing_of(p);
	q = rallocx(p, thp_size(b, size), arena_flags(b) | thp_align(b, size, MALLOCX_ALIGN(4096)));
	mark_live(q ? q : p);
	if (q) {
		now = sallocx(q, 0);
		bool own;
		struct hmo_pool_counts *c = counts(&own);
		STAT_SUB(live_bytes, old);
		COUNT(c, own, freed_bytes, old);
		COUNT(c, own, served_bytes, now);
		note_live(now);
		COUNT(c, own, allocs, 1);
		COUNT(c, own, reallocs, 1);	/* one block in, one out: as many live */
		if (!grew)
			COUNT(c, own, reused, 1);
		note_last(last, q, -1);	/* a block keeps its set's arena: no node to name */
	}
	hmo_guard_leave();
	errno = q ? saved_errno : ENOMEM;
	return q;
}

static void sum_counts(struct hmo_pool_counts *sum, const struct hmo_pool_counts *c)
{
	sum->allocs += __atomic_load_n(&c->allocs, __ATOMIC_RELAXED);
	sum->reallocs += __atomic_load_n(&c->reallocs, __ATOMIC_RELAXED);
	sum->reused += __atomic_load_n(&c->reused, __ATOMIC_RELAXED);
	sum->reused_bytes += __atomic_load_n(&c->reused_bytes, __ATOMIC_RELAXED);
	sum->served_bytes += __atomic_load_n(&c->served_bytes, __ATOMIC_RELAXED);
	sum->frees += __atomic_load_n(&c->frees, __ATOMIC_RELAXED);
	sum->freed_bytes += __atomic_load_n(&c->freed_bytes, __ATOMIC_RELAXED);
}

static void add_slot_counts(struct hmo_slot *s, void *arg)
{
	sum_counts(arg, &s->pool);
}

static void add_slot_allocs(struct hmo_slot *s, void *arg)
{
	*(uint64_t *)arg += __atomic_load_n(&s->pool.allocs, __ATOMIC_RELAXED);
}

void pool_get_stats(struct pool_stats *out)
{
	struct hmo_pool_counts sum = { 0 };

	*out = st;
	/* Frees before allocations: a block freed while the slots are read was
	 * allocated before, so the derived live count is never below the truth's. */
	hmo_counters_each(add_slot_counts, &sum);
	sum_counts(&sum, &shared_counts);
	uint64_t allocs = 0;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	hmo_counters_each(add_slot_allocs, &allocs);
	allocs += __atomic_load_n(&shared_counts.allocs, __ATOMIC_RELAXED);
	sum.allocs = allocs;
	out->allocs = sum.allocs;
	out->reused = sum.reused;
	out->reused_bytes = sum.reused_bytes;
	out->served_bytes = sum.served_bytes;
	out->frees = sum.frees;
	out->freed_bytes = sum.freed_bytes;
	/* Read while other threads count: never below zero. */
	out->live_blocks = sum.allocs > sum.reallocs + sum.frees ? sum.allocs - sum.reallocs - sum.frees : 0;
}

void pool_restore_placement(void *p, size_t len)
{
	const struct backing *b = backing_of(p);

	if (b->plan.mpol)
		(void)numa_apply(&b->plan, p, len);
	else
		(void)syscall(SYS_mbind, p, len, 0 /* MPOL_DEFAULT */, NULL, 0, 0);
}

int pool_backing_of(const void *p)
{
	const struct backing *b;

	if (!hmo_pool_owns(p))
		return HMO_BACK_NONE;
	b = backing_of(p);
	return b->hugetlb_page ? HMO_BACK_HUGETLB : b->thp ? HMO_BACK_THP : HMO_BACK_4K;
}

uint64_t pool_cached_bytes(void)
{
	uint64_t dirty = 0, epoch = 1;

	if (__atomic_load_n(&pool_state, __ATOMIC_ACQUIRE) != POOL_READY)
		return 0;
	hmo_guard_enter();
	(void)mallctl("epoch", NULL, NULL, &epoch, sizeof epoch);
	for (int i = 0; i < nsets; i++) {
		const struct backing *bs[2] = { &sets[i].huge, &sets[i].main };
		for (int k = 0; k < 2; k++)
			if (bs[k]->on)
				dirty += backing_cached(bs[k]);
		dirty += recent_bytes(&sets[i].recent);
	}
	hmo_guard_leave();
	return dirty;
}

#define SAMPLES 1024
#define BATCH 256

static int sample_backing(const struct backing *b, uint64_t bytes[64])
{
	static void *pages[BATCH];
	static int status[BATCH];
	/* After pool_give_back, only the kept part: the rest may be anybody's. */
	size_t used = __atomic_load_n(&hmo_pool_partial, __ATOMIC_ACQUIRE) ? b->kept
									 : __atomic_load_n(&b->used, __ATOMIC_RELAXED);
	size_t step = ((used / SAMPLES) + 4095) & ~(size_t)4095;
	int taken = 0;

	if (!b->on || !used)
		return 0;
	if (step < 4096)
		step = 4096;
	for (size_t off = 0; off < used;) {
		int n = 0;
		for (; n < BATCH && off < used; n++, off += step)
			pages[n] = (void *)(b->base + off);
		if (syscall(SYS_move_pages, 0, (unsigned long)n, pages, NULL, status, 0) != 0)
			return taken;
		for (int i = 0; i < n; i++)
			if (status[i] >= 0 && status[i] < 64)	/* else not resident, or a hole */
				bytes[status[i]] += step;
		taken += n;
	}
	return taken;
}

int pool_residency(uint64_t bytes[64])
{
	int taken = 0;

	if (__atomic_load_n(&pool_state, __ATOMIC_ACQUIRE) != POOL_READY)
		return 0;
	for (int i = 0; i < nsets; i++) {
		taken += sample_backing(&sets[i].huge, bytes);
		taken += sample_backing(&sets[i].main, bytes);
	}
	return taken;
}
