/* libhmo opened with dlopen (python's ctypes does this) rather
 * than preloaded. Its dependency jemalloc has 2.6 KiB of initial-exec TLS, more
 * than glibc's default static-TLS surplus, so without
 * GLIBC_TUNABLES=glibc.rtld.optional_static_tls=... the dlopen may fail: it must then
 * fail cleanly, and the program must go on.
 *
 *   t_dlopen_hmo LIB            dlopen must succeed
 *   t_dlopen_hmo LIB may-fail   a clean failure (NULL and a dlerror) is accepted */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++)
		free(malloc((size_t)i + 1));
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[4];

	CHECK(argc == 2 || argc == 3);
	if (argc < 2)
		return 2;
	bool may_fail = argc == 3 && strcmp(argv[2], "may-fail") == 0;
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
	if (!h) {
		const char *e = dlerror();
		CHECK(e != NULL);
		check_say("dlopen failed: ");
		check_say(e ? e : "(no dlerror)");
		check_say("\n");
	}
	CHECK(h != NULL || may_fail);
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	if (h)
		CHECK(dlclose(h) == 0);
	/* Threads that start and exit after dlclose. */
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	char *s = strdup("still fine");
	CHECK(s && strcmp(s, "still fine") == 0);
	free(s);
	return check_done("t_dlopen_hmo");
}
