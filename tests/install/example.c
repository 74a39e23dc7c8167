/* Built against an installed hmo (pkg-config --cflags --libs hmo) by make
 * installcheck: a frame from the pool, and the statistics that count it. */
#include <hmo.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct hmo_buffer b = hmo_alloc(4 << 20, HMO_NODE_ANY, 0);
	struct hmo_stats s;

	if (!b.addr)
		return 1;
	memset(b.addr, 1, b.size);
	if (hmo_stats(&s) != 0 || s.frames < 1)
		return 1;
	hmo_free(&b);
	printf("hmo %d.%d: example ok\n", HMO_VERSION_MAJOR, HMO_VERSION_MINOR);
	return 0;
}
