/* Allocations after hmo's destructor (liblate's destructor, a
 * thread still running at exit, atexit handlers). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void *busy(void *arg)
{
	(void)arg;
	for (;;) {
		void *p = malloc(4096);
		memset(p, 1, 4096);
		free(p);
	}
	return NULL;
}

static void at_exit(void)
{
	void *p = malloc(123);
	free(p);
}

int main(void)
{
	pthread_t t;

	atexit(at_exit);
	CHECK(pthread_create(&t, NULL, busy, NULL) == 0);
	for (int i = 0; i < 1000; i++)
		free(malloc(100));
	return check_done("t_late");
}
