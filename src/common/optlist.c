/* hmo-options: prints the HMO_* variables from the one option table.
 *
 *   hmo-options            a plain-text list (what hmo-run --help will show)
 *   hmo-options --markdown the table that README.md carries between its markers
 */
#include <stdio.h>
#include <string.h>

#include "common/options.h"

int main(int argc, char **argv)
{
	int md = argc > 1 && strcmp(argv[1], "--markdown") == 0;

	if (argc > 1 && !md) {
		fprintf(stderr, "usage: hmo-options [--markdown]\n");
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
