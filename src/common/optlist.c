/* hmo-options: prints the HMO_* variables from the one option table.
 *
 *   hmo-options            a plain-text list: NAME TYPE DEFAULT HELP
 *   hmo-options --markdown the table that README.md carries between its markers
 *   hmo-options --hmo-run  the options of hmo-run --help (--threshold=SIZE ...)
 */
#include <stdio.h>
#include <string.h>

#include "common/options.h"

/* What a value of the type looks like in hmo-run's --help. */
static const char *metavar(enum hmo_opt_type t)
{
	switch (t) {
	case HMO_OPT_BOOL: return "on|off";
	case HMO_OPT_SIZE: return "SIZE";
	case HMO_OPT_OUTPUT: return "1|PATH";
	case HMO_OPT_ENUM: return "CHOICE";
	case HMO_OPT_MS: return "TIME";
	case HMO_OPT_SIZE_RAM: return "SIZE|N%";
	case HMO_OPT_NUMA: return "PLACEMENT";
	case HMO_OPT_UINT: return "N";
	}
	return "VALUE";
}

static void run_help(void)
{
	for (size_t i = 0; i < hmo_option_count; i++) {
		const struct hmo_option_desc *d = &hmo_option_table[i];
		char opt[64];
		size_t n = 0;

		for (const char *p = d->name + 4; *p && n < sizeof opt - 1; p++)
			opt[n++] = *p == '_' ? '-' : (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		opt[n] = '\0';
		printf("  --%s=%s\n      %s (default %s)\n", opt, metavar(d->type), d->help, d->def);
	}
}

int main(int argc, char **argv)
{
	int md = argc > 1 && strcmp(argv[1], "--markdown") == 0;

	if (argc > 1 && strcmp(argv[1], "--hmo-run") == 0) {
		run_help();
		return 0;
	}
	if (argc > 1 && !md) {
		fprintf(stderr, "usage: hmo-options [--markdown|--hmo-run]\n");
		return 2;
	}
	if (md) {
		printf("| variable | type | default | meaning |\n");
		printf("|---|---|---|---|\n");
	}
	for (size_t i = 0; i < hmo_option_count; i++) {
		const struct hmo_option_desc *d = &hmo_option_table[i];
		if (md)
			printf("| `%s` | %s | `%s` | %s |\n", d->name, hmo_opt_type_name(d->type),
			       d->def, d->help);
		else
			printf("  %-16s %-15s default %-5s  %s\n", d->name,
			       hmo_opt_type_name(d->type), d->def, d->help);
	}
	return 0;
}
