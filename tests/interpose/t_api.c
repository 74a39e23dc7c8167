/* t_api: every function of hmo.h, and every error path, in a program linked with
 * -lhmo (and also run with libhmo preloaded: one library, one state).
 *   t_api        all the checks; prints "api ok"
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/hmo.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "t_api: %s:%d: %s\n", __FILE__, __LINE__, #c); exit(1); } } while (0)
#define MiB ((size_t)1 << 20)

static void frames(void)
{
	struct hmo_buffer b, z;

	/* bad input: a documented error each */
	b = hmo_alloc(0, HMO_NODE_ANY, 0);
	CHECK(!b.addr && errno == EINVAL);
	b = hmo_alloc(MiB, HMO_NODE_ANY, 0x80);
	CHECK(!b.addr && errno == EINVAL);
	b = hmo_alloc(MiB, 64, 0);
	CHECK(!b.addr && errno == EINVAL);
	b = hmo_alloc(MiB, 63, 0);	/* no machine here has 64 nodes */
	CHECK(!b.addr && errno == EINVAL);
	CHECK(hmo_free(NULL) == -EINVAL && errno == EINVAL);
	/* a frame: aligned, backed, writable, given back once */
	b = hmo_alloc(8 * MiB, HMO_NODE_ANY, HMO_ALLOC_PREFAULT);
	CHECK(b.addr && b.size == 8 * MiB && ((uintptr_t)b.addr & (2 * MiB - 1)) == 0);
	CHECK(b.backing == HMO_BACKING_THP || b.backing == HMO_BACKING_HUGETLB ||
	      b.backing == HMO_BACKING_SMALL_PAGES);
	memset(b.addr, 0xab, b.size);
	struct hmo_buffer copy = b;
	CHECK(hmo_free(&b) == 0 && b.addr == NULL);
	CHECK(hmo_free(&copy) == -EINVAL && errno == EINVAL);	/* the same buffer twice: refused */
	/* a buffer hmo did not make */
	char local[64];
	struct hmo_buffer fake = { local, sizeof local, HMO_NODE_ANY, 0 };
	CHECK(hmo_free(&fake) == -EINVAL);
	/* zeroed memory after reuse */
	b = hmo_alloc(4 * MiB, HMO_NODE_ANY, 0);
	CHECK(b.addr);
	memset(b.addr, 0x5a, b.size);
	CHECK(hmo_free(&b) == 0);
	z = hmo_alloc(4 * MiB, HMO_NODE_ANY, HMO_ALLOC_ZERO);
	CHECK(z.addr);
	for (size_t i = 0; i < z.size; i += 4096)
		CHECK(((unsigned char *)z.addr)[i] == 0);
	CHECK(hmo_free(&z) == 0);
	/* on node 0 */
	b = hmo_alloc(4 * MiB, 0, HMO_ALLOC_PREFAULT);
	CHECK(b.addr && b.node == 0);
	CHECK(hmo_free(&b) == 0);
}

static void caches(void)
{
	static char buf[1 << 16];
	CHECK(hmo_prefetch(NULL, 10) == -EINVAL);
	CHECK(hmo_flush(NULL, 10) == -EINVAL);
	CHECK(hmo_prefetch(NULL, 0) == 0);
	CHECK(hmo_prefetch(buf + 3, sizeof buf - 3) == 0);
	memset(buf, 7, sizeof buf);
	CHECK(hmo_flush(buf + 3, sizeof buf - 3) == 0);
	CHECK(buf[100] == 7);
}

static void phys(void)
{
	uint64_t pa = 0;
	static char page[8192] __attribute__((aligned(4096)));

	CHECK(hmo_phys_addr(NULL, &pa) == -EINVAL);
	page[100] = 1;
	int rc = hmo_phys_addr(page + 100, &pa);
	if (geteuid() == 0)
		CHECK(rc == 0 && pa % 4096 == 100);
	else
		CHECK(rc == 0 ? pa % 4096 == 100 : rc == -EPERM);
	/* a page never touched is not resident */
	char *fresh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(fresh != MAP_FAILED);
	CHECK(hmo_phys_addr(fresh, &pa) == -ENOENT);
	munmap(fresh, 4096);
}

static void shm(void)
{
	struct hmo_shm s, t;
	char name[64], big[300];

	snprintf(name, sizeof name, "t-api-%d", (int)getpid());
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK(hmo_shm_create("", MiB, 0, &s) == -EINVAL);
	CHECK(hmo_shm_create("a/b", MiB, 0, &s) == -EINVAL);
	CHECK(hmo_shm_create("..", MiB, 0, &s) == -EINVAL);
	CHECK(hmo_shm_create(big, MiB, 0, &s) == -EINVAL);
	CHECK(hmo_shm_create(name, 0, 0, &s) == -EINVAL);
	CHECK(hmo_shm_open("t-api-no-such-segment", &t) == -ENOENT);
	CHECK(hmo_shm_create(name, 3 * MiB, HMO_SHM_HUGE, &s) == 0 && s.addr && s.size >= 3 * MiB);
	CHECK(hmo_shm_create(name, MiB, 0, &t) == -EEXIST);
	memset(s.addr, 0x3c, 3 * MiB);
	/* across a fork: the child maps it by name, checks and writes */
	pid_t pid = fork();
	if (pid == 0) {
		struct hmo_shm c;
		if (hmo_shm_open(name, &c) != 0 || ((unsigned char *)c.addr)[MiB] != 0x3c)
			_exit(3);
		((unsigned char *)c.addr)[2 * MiB] = 0x77;
		hmo_shm_close(&c, 0);
		_exit(0);
	}
	int st;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(((unsigned char *)s.addr)[2 * MiB] == 0x77);
	CHECK(hmo_shm_close(&s, 1) == 0);
	CHECK(hmo_shm_open(name, &t) == -ENOENT);
	CHECK(hmo_shm_close(NULL, 0) == -EINVAL);
}

static void stats(void)
{
	struct hmo_stats s;
	void *p[3];

	CHECK(hmo_stats(NULL) == -EINVAL);
	for (int i = 0; i < 3; i++) {
		p[i] = malloc(6 * MiB);	/* frames: the pool serves them, under hmo */
		CHECK(p[i]);
		memset(p[i], i, 6 * MiB);
	}
	memcpy(p[0], p[1], 2 * MiB);
	CHECK(hmo_stats(&s) == 0);
	CHECK(s.alloc_calls >= 3 && s.alloc_bytes >= 18 * MiB);
	CHECK(s.frames >= 3 + 4);	/* the three mallocs and hmo_alloc's four frames */
	CHECK(s.large_copy_calls >= 1 && s.copy_bytes >= 2 * MiB);
	CHECK(s.pool_live_bytes >= 18 * MiB && s.pool_peak_bytes >= s.pool_live_bytes);
	CHECK(s.pool_hit_rate >= 0 && s.pool_hit_rate <= 1);
	for (int i = 0; i < 3; i++)
		free(p[i]);
}

int main(void)
{
	frames();
	caches();
	phys();
	shm();
	stats();
	printf("api ok\n");
	return 0;
}
