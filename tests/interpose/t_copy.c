/* The copy hooks copy exactly (overlaps, odd sizes and
 * alignments), the _chk forms pass and fail as glibc's do, and nothing allocates.
 *
 *   t_copy           the checks
 *   t_copy overflow  __memcpy_chk with a destination too small: must abort
 *
 * With T_STATS=FILE, t_copy writes hmo_stats's figures to FILE at the end (check_stats). */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "check.h"

extern void *__memcpy_chk(void *, const void *, size_t, size_t);
extern void *__memmove_chk(void *, const void *, size_t, size_t);
extern void *__memset_chk(void *, int, size_t, size_t);

static unsigned char a[1 << 20], b[1 << 20], ref[1 << 20];

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)((i * 131 + seed) >> 3);
}

static void ref_move(unsigned char *d, const unsigned char *s, size_t n)
{
	unsigned char tmp[1 << 16];
	for (size_t i = 0; i < n; i++)
		tmp[i] = s[i];
	for (size_t i = 0; i < n; i++)
		d[i] = tmp[i];
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 7, 8, 15, 16, 31, 63, 64, 100, 255, 256,
					4095, 4096, 4097, 65535 };

	if (argc > 1 && strcmp(argv[1], "overflow") == 0) {
		char small[8];
		__memcpy_chk(small, a, 16, sizeof small);
		return 0;	/* not reached */
	}
	for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
		size_t n = sizes[si];
		for (size_t off = 0; off < 9; off++) {
			fill(a, n + 64, (unsigned)(n + off));
			memset(b, 0, n + 64);
			CHECK(memcpy(b + off, a + 3, n) == b + off);
			CHECK(memcmp(b + off, a + 3, n) == 0);
			CHECK(off == 0 || b[off - 1] == 0);
			CHECK(b[off + n] == 0);
			/* overlapping memmove, both directions, against a reference */
			fill(a, n + 64, (unsigned)n);
			memcpy(ref, a, n + 64);
			CHECK(memmove(a + off, a, n) == a + off);
			ref_move(ref + off, ref, n);
			CHECK(memcmp(a, ref, n + 64) == 0);
			CHECK(memmove(a, a + off, n) == a);
			ref_move(ref, ref + off, n);
			CHECK(memcmp(a, ref, n + 64) == 0);
			CHECK(memset(b + off, 0xa5, n) == b + off);
			for (size_t i = 0; i < n; i++)
				if (b[off + i] != 0xa5) {
					CHECK(!"memset");
					break;
				}
			CHECK(b[off + n] == 0);
			CHECK(__memcpy_chk(b, a, n, n) == b && memcmp(b, a, n) == 0);
			CHECK(__memmove_chk(b, a, n, n + 1) == b);
			CHECK(__memset_chk(b, 1, n, n) == b && (n == 0 || b[n - 1] == 1));
		}
	}
	/* a large copy */
	fill(a, sizeof a, 9);
	CHECK(memcpy(b, a, sizeof a) == b && memcmp(a, b, sizeof a) == 0);

	/* An overflowing __memcpy_chk aborts, as glibc's does. */
	pid_t pid = fork();
	if (pid == 0) {
		execl(argv[0], argv[0], "overflow", (char *)NULL);
		_exit(127);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	return check_stats(check_done("t_copy"));
}
