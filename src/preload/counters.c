/* counters.c: per-thread counters of the hooked calls.
 *
 * Each thread claims a slot the first time it is counted, and only that thread
 * writes it. Slots are never freed: when a thread exits its slot is marked free with
 * its counts kept, and the next new thread goes on adding to it, so the totals are
 * always the plain sum of every slot and nothing is merged or lost at thread exit.
 * Slots live in chunks: the first in .bss, more mapped on demand and pushed on a
 * lock-free list. There is no lock anywhere here, so fork from any thread, or from a
 * signal handler, finds nothing held. */
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../common/hist.h"
#include "counters.h"
#include "os.h"
#include "process.h"

#define SLOTS_PER_CHUNK 32

struct chunk {
	struct chunk *next;
	struct hmo_slot slots[SLOTS_PER_CHUNK];
};

enum { SLOT_FREE = 0, SLOT_USED = 1 };

static struct chunk first_chunk;
static struct chunk *chunks = &first_chunk;
/* Calls from threads whose key destructor has run (their own exit path, other TLS
 * destructors): rare, so counted with atomic adds into one shared slot. */
static struct hmo_slot exiting_slot = { .sample_left = UINT64_MAX };
static pthread_key_t slot_key;
static bool slot_key_ok;
static void (*on_thread_exit)(struct hmo_slot *);

uint64_t hmo_large_threshold = UINT64_MAX;

__thread struct hmo_tls hmo_tls __attribute__((tls_model("initial-exec")));

/* pthread key destructor: the thread is exiting. Its later calls go to exiting_slot;
 * what it has left elsewhere (its trace buffer) goes first. */
static void slot_release(void *p)
{
	struct hmo_slot *s = p;

	if (on_thread_exit)
		on_thread_exit(s);
	hmo_tls.slot = NULL;
	hmo_tls.saved = NULL;
	hmo_tls.exiting = 1;
	__atomic_store_n(&s->state, SLOT_FREE, __ATOMIC_RELEASE);
}

uint64_t hmo_sample_every = UINT64_MAX;

void hmo_counters_init(void (*thread_exit)(struct hmo_slot *))
{
	hmo_large_threshold = hmo_opt.threshold;
	on_thread_exit = thread_exit;
	slot_key_ok = pthread_key_create(&slot_key, slot_release) == 0;
}

static struct hmo_slot *try_claim(void)
{
	for (struct chunk *c = __atomic_load_n(&chunks, __ATOMIC_ACQUIRE); c; c = c->next) {
		for (int i = 0; i < SLOTS_PER_CHUNK; i++) {
			struct hmo_slot *s = &c->slots[i];
			uint32_t expect = SLOT_FREE;
			if (__atomic_load_n(&s->state, __ATOMIC_RELAXED) == SLOT_FREE &&
			    __atomic_compare_exchange_n(&s->state, &expect, SLOT_USED, false,
							__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				return s;
		}
	}
	return NULL;
}

struct hmo_slot *hmo_slot_claim(void)
{
	struct hmo_slot *s;

	while ((s = try_claim()) == NULL) {
		struct chunk *c = os_raw_mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c == MAP_FAILED)
			return NULL;
		c->next = __atomic_load_n(&chunks, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&chunks, &c->next, c, false,
						    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			;
	}
	__atomic_store_n(&s->ever, 1, __ATOMIC_RELAXED);
	s->tid = (uint32_t)gettid();
	s->sample_left = hmo_sample_every;
	if (slot_key_ok)
		(void)pthread_setspecific(slot_key, s);
	return s;
}

void hmo_count_slow(enum hmo_fn fn, uint64_t n, bool sized)
{
	struct hmo_slot *s = hmo_tls.slot;

	if (hmo_tls.guard || !hmo_ready())
		return;
	/* A slow path taken for another reason (a pool block, say) with the slot in hand,
	 * or a thread's first call, which claims one. */
	if (!s && !hmo_tls.exiting) {
		int saved_errno = errno;
		hmo_guard_enter();
		s = hmo_slot_claim();
		hmo_tls.saved = s;	/* becomes hmo_tls.slot when the guard is left */
		hmo_guard_leave();
		errno = saved_errno;
	}
	if (s) {
		if (sized)
			hmo_count(s, fn, n);
		else
			hmo_count_call(s, fn);
		return;
	}
	struct hmo_fn_stats *f = &exiting_slot.fn[fn];
	__atomic_fetch_add(&f->hist[sized ? hmo_hist_bucket(n) : 0], 1, __ATOMIC_RELAXED);
	if (sized) {
		__atomic_fetch_add(&f->bytes, n, __ATOMIC_RELAXED);
		if (n >= hmo_large_threshold) {
			__atomic_fetch_add(&f->large_calls, 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&f->large_bytes, n, __ATOMIC_RELAXED);
		}
	}
}

static void add_slot(struct hmo_fn_stats out[FN_COUNT], struct hmo_slot *s)
{
	for (int f = 0; f < FN_COUNT; f++) {
		struct hmo_fn_stats *src = &s->fn[f];
		out[f].bytes += __atomic_load_n(&src->bytes, __ATOMIC_RELAXED);
		out[f].large_calls += __atomic_load_n(&src->large_calls, __ATOMIC_RELAXED);
		out[f].large_bytes += __atomic_load_n(&src->large_bytes, __ATOMIC_RELAXED);
		out[f].large_ns += __atomic_load_n(&src->large_ns, __ATOMIC_RELAXED);
		out[f].timed_bytes += __atomic_load_n(&src->timed_bytes, __ATOMIC_RELAXED);
		for (int i = 0; i < HMO_HIST_BUCKETS; i++)
			out[f].hist[i] += __atomic_load_n(&src->hist[i], __ATOMIC_RELAXED);
	}
}

void hmo_counters_sum(struct hmo_fn_stats out[FN_COUNT])
{
	os_memset(out, 0, sizeof(struct hmo_fn_stats) * FN_COUNT);
	for (struct chunk *c = __atomic_load_n(&chunks, __ATOMIC_ACQUIRE); c; c = c->next)
		for (int i = 0; i < SLOTS_PER_CHUNK; i++)
			if (__atomic_load_n(&c->slots[i].ever, __ATOMIC_RELAXED))
				add_slot(out, &c->slots[i]);
	add_slot(out, &exiting_slot);
}

void hmo_counters_each(void (*fn)(struct hmo_slot *, void *), void *arg)
{
	for (struct chunk *c = __atomic_load_n(&chunks, __ATOMIC_ACQUIRE); c; c = c->next)
		for (int i = 0; i < SLOTS_PER_CHUNK; i++)
			if (__atomic_load_n(&c->slots[i].ever, __ATOMIC_RELAXED))
				fn(&c->slots[i], arg);
	fn(&exiting_slot, arg);
}

/* In the child of fork: only the forking thread exists. Its counts start again from
 * zero (each process reports its own calls) and every other slot becomes free. */
void hmo_counters_child(void)
{
	struct hmo_slot *mine = hmo_tls.guard ? hmo_tls.saved : hmo_tls.slot;

	for (struct chunk *c = chunks; c; c = c->next) {
		for (int i = 0; i < SLOTS_PER_CHUNK; i++) {
			struct hmo_slot *s = &c->slots[i];
			if (!s->ever)
				continue;
			os_memset(s->fn, 0, sizeof s->fn);
			os_memset(s->lat, 0, sizeof s->lat);
			s->state = (s == mine) ? SLOT_USED : SLOT_FREE;
			if (s == mine)
				s->tid = (uint32_t)gettid();
		}
	}
	os_memset(&exiting_slot, 0, sizeof exiting_slot);
}

void hmo_large_copies(const struct hmo_fn_stats tot[FN_COUNT], struct hmo_large_copies *out)
{
	os_memset(out, 0, sizeof *out);
	for (int f = 0; f < FN_COUNT; f++) {
		if (!hmo_fn_is_copy(f))
			continue;
		out->calls += tot[f].large_calls;
		out->bytes += tot[f].large_bytes;
		out->timed_bytes += tot[f].timed_bytes;
		out->ns += tot[f].large_ns;
	}
}

bool hmo_fn_is_copy(int fn)
{
	switch (fn) {
	case FN_MEMCPY: case FN_MEMMOVE: case FN_MEMSET: case FN_MEMCPY_CHK: case FN_MEMMOVE_CHK:
	case FN_MEMSET_CHK:
		return true;
	default:
		return false;
	}
}
