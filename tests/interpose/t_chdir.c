/* Started with a relative LD_PRELOAD path, the program changes
 * directory and runs a child. The child must still load libhmo (hmo made the
 * path absolute at start) and the dynamic loader must print nothing.
 *
 *   t_chdir            parent: chdir("/"), run "t_chdir child" with the same env
 *   t_chdir child      exit 0 when libhmo.so is mapped into this process */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int hmo_loaded(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, "/libhmo.so"))
			found = 1;
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	char self[4096];
	ssize_t n;

	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return hmo_loaded() ? 0 : 3;
	CHECK(hmo_loaded());
	const char *pre = getenv("LD_PRELOAD");
	CHECK(pre && pre[0] == '/');
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	CHECK(n > 0);
	self[n > 0 ? n : 0] = '\0';
	CHECK(chdir("/") == 0);
	pid_t pid = fork();
	if (pid == 0) {
		execl(self, self, "child", (char *)NULL);
		_exit(127);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	CHECK(WEXITSTATUS(st) == 0);
	return check_done("t_chdir");
}
