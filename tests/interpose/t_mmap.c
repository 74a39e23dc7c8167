/* Mappings hmo did not make reach the kernel exactly as asked:
 * MAP_FIXED, file mappings, PROT_NONE reservations, partial munmap, mremap with
 * and without MREMAP_FIXED, madvise, and the errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

int main(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	char path[] = "/tmp/hmo-mmap-XXXXXX";
	char *r, *p, *q;

	/* A PROT_NONE reservation, committed in part, as CUDA and JITs do. */
	r = mmap(NULL, 64 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(r != MAP_FAILED);
	CHECK(mprotect(r + 8 * pg, 8 * pg, PROT_READ | PROT_WRITE) == 0);
	r[8 * pg] = 1;
	/* MAP_FIXED over part of it. */
	p = mmap(r + 16 * pg, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(p == r + 16 * pg);
	p[0] = 2;
	CHECK(madvise(p, 4 * pg, MADV_DONTNEED) == 0 && p[0] == 0);
	/* Partial munmap in the middle, then of the rest. */
	CHECK(munmap(r + 17 * pg, pg) == 0);
	CHECK(munmap(r, 64 * pg) == 0);

	/* A file mapping sees the file's bytes and writes them back. */
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK(write(fd, "hello mapping", 13) == 13);
	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED && memcmp(p, "hello mapping", 13) == 0);
	p[0] = 'J';
	CHECK(msync(p, pg, MS_SYNC) == 0 && munmap(p, pg) == 0);
	char b;
	CHECK(pread(fd, &b, 1, 0) == 1 && b == 'J');
	close(fd);
	unlink(path);

	/* mremap: grow in place or move, with contents kept; MREMAP_FIXED to a place. */
	p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 0x77, 4 * pg);
	q = mremap(p, 4 * pg, 256 * pg, MREMAP_MAYMOVE);
	CHECK(q != MAP_FAILED && q[4 * pg - 1] == 0x77);
	char *target = mmap(NULL, 512 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(target != MAP_FAILED);
	p = mremap(q, 256 * pg, 128 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, target + 64 * pg);
	CHECK(p == target + 64 * pg && p[0] == 0x77);
	CHECK(munmap(target, 512 * pg) == 0);

	/* Errors: MAP_FAILED or -1, with the kernel's errno. */
	errno = 0;
	CHECK(mmap(NULL, pg, PROT_READ, MAP_SHARED, 12345, 0) == MAP_FAILED && errno == EBADF);
	errno = 0;
	CHECK(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL);
	errno = 0;
	CHECK(munmap((char *)NULL + 1, pg) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(mremap((void *)(uintptr_t)pg, pg, 2 * pg, 0) == MAP_FAILED && errno == EFAULT);
	/* Large mappings, as an allocator of frames makes them. */
	p = mmap64(NULL, 64u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	p[(64u << 20) - 1] = 1;
	CHECK(munmap(p, 64u << 20) == 0);
	return check_done("t_mmap");
}
