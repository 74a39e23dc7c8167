/* Allocations made before hmo's constructor (by libearly's) are
 * real blocks the program can use, grow and free; hmo's own symbol lookups leave no
 * error behind for the program's dlerror(). */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int main(void)
{
	void **b = dlsym(RTLD_DEFAULT, "early_block");
	unsigned char *p;

	CHECK(dlerror() == NULL || b != NULL);
	if (!b) {
		check_say("libearly.so is not preloaded\n");
		return 99;
	}
	/* hmo looked up symbols that glibc may lack (free_sized): no error leaks out. */
	CHECK(dlerror() == NULL);
	for (int i = 0; i < 6; i++)
		CHECK(b[i] != NULL);
	p = b[1];
	for (int i = 0; i < 100; i++)
		CHECK(p[i] == 0);
	CHECK((uintptr_t)b[3] % 4096 == 0);
	CHECK(strcmp(b[4], "copied before hmo's constructor") == 0);
	p = realloc(b[0], 1 << 20);
	CHECK(p && p[0] == 0x11 && p[99] == 0x11);
	free(p);
	p = realloc(b[2], 10);
	CHECK(p && p[9] == 0x22);
	free(p);
	for (int i = 1; i < 6; i++)
		if (i != 2)
			free(b[i]);
	/* An error the program causes is still reported to it. */
	CHECK(dlsym(RTLD_DEFAULT, "no_such_symbol_anywhere") == NULL);
	CHECK(dlerror() != NULL);
	return check_done("t_early");
}
