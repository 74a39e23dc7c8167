/* Preloaded after libhmo: initialised before it, so finalised after it. Its
 * destructor allocates, copies and maps once hmo's destructor has written the
 * summary; all of that must still work. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

__attribute__((destructor)) static void late(void)
{
	int ok = 1;
	char *p = malloc(1000), *q = calloc(1, 5 << 20);
	void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ok = p && q && m != MAP_FAILED;
	if (ok) {
		memset(p, 'x', 1000);
		memcpy(q, p, 1000);
		p = realloc(p, 4 << 20);
		ok = p && q[999] == 'x' && p[999] == 'x' && munmap(m, 1 << 20) == 0;
		free(p);
		free(q);
	}
	if (write(2, ok ? "late ok\n" : "late FAIL\n", ok ? 8 : 10) < 0)
		_exit(3);
}
