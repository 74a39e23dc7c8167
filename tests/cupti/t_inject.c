/* t_inject: loads libhmo-cupti.so and calls InitializeInjection, as the CUDA driver
 * does for CUDA_INJECTION64_PATH. Prints "started" or "not started"; either way the
 * program goes on and prints "done". */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	void *h = argc > 1 ? dlopen(argv[1], RTLD_NOW | RTLD_LOCAL) : NULL;
	int (*init)(void);

	if (!h) {
		printf("cannot load: %s\n", dlerror());
		return 1;
	}
	*(void **)&init = dlsym(h, "InitializeInjection");
	if (!init)
		return 1;
	printf("%s\n", init() ? "started" : "not started");
	printf("done\n");
	return 0;
}
