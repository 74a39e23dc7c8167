/* t_inject: loads libhmo-cupti.so and calls InitializeInjection, as the CUDA driver
 * does for CUDA_INJECTION64_PATH. Prints "started" or "not started"; either way the
 * program goes on and prints "done".
 *
 *   t_inject LIB          just that
 *   t_inject LIB held     the program takes CUPTI's subscriber slot first, as
 *                         torch.profiler's Kineto does; it then prints how many
 *                         activity kinds are enabled (over the fake CUPTI) and
 *                         whether its own subscription is still there
 *   t_inject LIB fork N   over the fake CUPTI (tests/cupti/fakecupti.c): N copies of
 *                         GPU work, still in CUPTI's buffers when the program forks;
 *                         the child leaves through exit(3), the parent after it
 *   t_inject count TRACE  how many records of each type TRACE holds, a line each
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/trace.h"

static void on_callback(void *u, int d, unsigned id, const void *data)
{
	(void)u, (void)d, (void)id, (void)data;
}

static int count(const char *path)
{
	static const char *names[] = {
		[HMO_REC_PROCESS] = "process", [HMO_REC_MODULE] = "module", [HMO_REC_STACK] = "stack",
		[HMO_REC_EVENT] = "event", [HMO_REC_COPY] = "copy", [HMO_REC_SAMPLE] = "sample",
		[HMO_REC_COUNTERS] = "counters", [HMO_REC_END] = "end", [HMO_REC_CUDA] = "cuda",
		[HMO_REC_GPU_COPY] = "gpu_copy", [HMO_REC_GPU_MEMSET] = "gpu_memset", [HMO_REC_GPU_KERNEL] = "gpu_kernel",
		[HMO_REC_GPU_MEMORY] = "gpu_memory", [HMO_REC_GPU_API] = "gpu_api", [HMO_REC_GPU_INFO] = "gpu_info",
	};
	unsigned long n[64] = { 0 };
	struct hmo_trace_header h;
	struct hmo_rec r;
	FILE *f = fopen(path, "rb");

	if (!f || fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, HMO_TRACE_MAGIC, 8) != 0) {
		printf("not a trace: %s\n", path);
		return 1;
	}
	fseek(f, h.header_size, SEEK_SET);
	while (fread(&r, sizeof r, 1, f) == 1 && r.size <= HMO_REC_MAX) {
		if (fseek(f, (r.size + 7) & ~7u, SEEK_CUR) != 0)
			break;
		n[r.type < 64 ? r.type : 0]++;
	}
	fclose(f);
	for (unsigned t = 0; t < 64; t++)
		if (n[t]) {
			if (t < sizeof names / sizeof names[0] && names[t])
				printf("%s %lu\n", names[t], n[t]);
			else
				printf("type%u %lu\n", t, n[t]);
		}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "count"))
		return count(argv[2]);

	void *h = argc > 1 ? dlopen(argv[1], RTLD_NOW | RTLD_LOCAL) : NULL;
	const char *mode = argc > 2 ? argv[2] : "";
	int (*init)(void);

	if (!h) {
		printf("cannot load: %s\n", dlerror());
		return 1;
	}
	*(void **)&init = dlsym(h, "InitializeInjection");
	if (!init)
		return 1;
	/* The CUPTI the collector was loaded with, real or fake. */
	void *cupti = dlopen("libcupti.so.13", RTLD_NOW | RTLD_NOLOAD);
	void *sub = NULL;
	if (!strcmp(mode, "held")) {
		int (*subscribe)(void **, void (*)(void *, int, unsigned, const void *), void *);
		*(void **)&subscribe = cupti ? dlsym(cupti, "cuptiSubscribe") : NULL;
		int rc = subscribe ? subscribe(&sub, on_callback, NULL) : -1;
		if (rc != 0) {
			printf("cannot take the subscriber slot (%d)\n", rc);
			return 1;
		}
	}
	printf("%s\n", init() ? "started" : "not started");
	if (!strcmp(mode, "held")) {
		int (*enabled)(void);
		int (*unsubscribe)(void *);
		*(void **)&enabled = dlsym(cupti, "fakecupti_enabled");
		*(void **)&unsubscribe = dlsym(cupti, "cuptiUnsubscribe");
		if (enabled)
			printf("activity kinds enabled: %d\n", enabled());
		printf("own subscription %s\n", unsubscribe && unsubscribe(sub) == 0 ? "intact" : "lost");
	}
	if (!strcmp(mode, "fork")) {
		void (*copies)(unsigned);
		*(void **)&copies = cupti ? dlsym(cupti, "fakecupti_copies") : NULL;
		if (!copies) {
			printf("fork needs the fake CUPTI\n");
			return 1;
		}
		copies(argc > 3 ? (unsigned)atoi(argv[3]) : 1);
		printf("parent %d\n", (int)getpid());
		fflush(stdout);
		pid_t c = fork();
		if (c < 0)
			return 1;
		if (c == 0)
			exit(0);
		int st;
		if (waitpid(c, &st, 0) != c)
			return 1;
		printf("child %d exited %d\n", (int)c, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	printf("done\n");
	return 0;
}
