/* A known set of calls, for counts.sh to find exactly in the summary. It uses no
 * stdio and nothing else that allocates.
 *
 *   t_counts [_exit|_Exit]   leave through return (0), _exit (3) or _Exit (4)
 *   t_counts none            make none of the calls: the baseline */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static unsigned char src[300000], dst[300000];

int main(int argc, char **argv)
{
	void *p[10];

	if (argc > 1 && strcmp(argv[1], "none") == 0)
		return 0;

	for (int i = 0; i < 10; i++)
		p[i] = malloc(1000);			/* 10 x 1,000 */
	for (int i = 0; i < 10; i++)
		free(p[i]);				/* 10 frees */
	for (int i = 0; i < 3; i++)
		p[i] = calloc(5, 400000);		/* 3 x 2,000,000: large */
	for (int i = 0; i < 3; i++)
		p[i] = realloc(p[i], 3000000);		/* 3 x 3,000,000: large */
	for (int i = 0; i < 3; i++)
		free(p[i]);				/* 3 more frees: 13 */
	if (posix_memalign(&p[0], 4096, 12345) == 0)	/* 1 x 12,345 */
		free(p[0]);				/* 14 frees */
	p[1] = aligned_alloc(2 << 20, 4 << 20);		/* 1 x 4 MiB: large */
	free(p[1]);					/* 15 frees */
	p[2] = memalign(64, 7);				/* 1 x 7 */
	(void)malloc_usable_size(p[2]);			/* 1 call */
	free(p[2]);					/* 16 frees */
	for (int i = 0; i < 7; i++)
		memcpy(dst, src, 123457);		/* 7 x 123,457 */
	memmove(dst + 1, dst, 200000);			/* 1 x 200,000 */
	memset(dst, 0, 300000);				/* 1 x 300,000 */
	void *m = mmap(NULL, 5 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED)				/* 1 x 5 MiB: large */
		munmap(m, 5 << 20);			/* 1 x 5 MiB: large */
	/* "_exit" and "_Exit" leave without exit(): the summary must still come. */
	if (argc > 1 && strcmp(argv[1], "_exit") == 0)
		_exit(dst[5] + 3);
	if (argc > 1 && strcmp(argv[1], "_Exit") == 0)
		_Exit(dst[5] + 4);
	return dst[5];
}
