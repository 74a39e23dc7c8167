/* libotherhmo: stands for a libhmo of another version in the process. It exports
 * hmo__instance, as every libhmo does, with a table layout (abi) that this libhmo does
 * not know. Preloaded before libhmo, it is the first copy in the global scope: libhmo
 * must then say once that it keeps its own state, and go on working. */
#include <stddef.h>
#include <stdint.h>

struct other_instance {
	uint32_t abi, size;
	void *fns[13];
};

static const struct other_instance table = { 99, sizeof(struct other_instance), { NULL } };
__attribute__((visibility("default"))) const struct other_instance *const hmo__instance = &table;
