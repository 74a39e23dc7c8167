/* FIELD-NOTES 4.11: libhmo opened with dlopen (python's ctypes does this) rather
 * than preloaded: its initial-exec TLS must fit, and nothing may break when it is
 * closed again while threads come and go. */
#include <dlfcn.h>
#include <pthread.h>
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

	CHECK(argc == 2);
	if (argc != 2)
		return 2;
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
	if (!h) {
		check_say(dlerror());
		check_say("\n");
	}
	CHECK(h != NULL);
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
