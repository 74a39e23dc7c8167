/* Preloaded after libhmo, so its constructor runs before hmo's: these calls reach
 * hmo's hooks before hmo's constructor has run. */
#include <stdlib.h>
#include <string.h>

#include "check.h"

void *early_block[6];

__attribute__((constructor)) static void early(void)
{
	char tmp[32];

	memcpy(tmp, "copied before hmo's constructor", 32);
	early_block[0] = malloc(100);
	early_block[1] = calloc(10, 10);
	early_block[2] = realloc(NULL, 200);
	if (posix_memalign(&early_block[3], 4096, 5000) != 0)
		early_block[3] = NULL;
	early_block[4] = strdup(tmp);
	early_block[5] = malloc(3 << 20);
	if (early_block[0])
		memset(early_block[0], 0x11, 100);
	if (early_block[2])
		memset(early_block[2], 0x22, 200);
}
