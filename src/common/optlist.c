/* hmo-options: prints the HMO_* variables from the one option table.
 *
 *   hmo-options            a plain-text list: NAME TYPE DEFAULT HELP
 *   hmo-options --markdown the table that README.md carries between its markers
 *   hmo-options --hmo-run  the options of hmo-run --help (--threshold=SIZE ...)
 *   hmo-options --man      the hmo(7) manual page, in roff
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
	case HMO_OPT_PATH: return "PATH";
	case HMO_OPT_LABELS: return "NAME=VALUE,...";
	}
	return "VALUE";
}

/* TEXT's words on lines of at most WIDTH columns, each indented by INDENT (a word
 * longer than a line gets one of its own). */
static void wrapped(const char *text, int indent, size_t width)
{
	size_t col = 0;

	for (const char *s = text; *s;) {
		size_t n = strcspn(s, " ");
		if (col && col + 1 + n > width) {
			putchar('\n');
			col = 0;
		}
		if (!col)
			col = (size_t)printf("%*s", indent, "");
		else
			col += (size_t)printf(" ");
		col += (size_t)printf("%.*s", (int)n, s);
		s += n + strspn(s + n, " ");
	}
	putchar('\n');
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
		printf("  --%s=%s\n", opt, metavar(d->type));
		char text[512];
		snprintf(text, sizeof text, "%s (default %s)", d->help, d->def);
		wrapped(text, 6, 80);
	}
}

/* roff text: a leading dot or quote escaped, backslashes and hyphens doubled up. */
static void roff(const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", stdout);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", stdout);
		else if (*s == '-')
			fputs("\\-", stdout);
		else
			putchar(*s);
	}
}

static void man(void)
{
	puts(".TH HMO 7 \"\" \"hmo\" \"hmo\"");
	puts(".SH NAME");
	puts("hmo \\- the HMO_* environment variables of libhmo.so");
	puts(".SH DESCRIPTION");
	puts("libhmo.so reads these variables once, at start\\-up, with");
	puts(".BR secure_getenv (3).");
	puts("Sizes take K, M, G or T suffixes (powers of 1024); durations take ms (the default), s or m,");
	puts("or never; booleans take 1/0, on/off, yes/no.");
	puts("A bad value prints one line starting with hmo: that names the variable, the value and the default");
	puts("used, and the program goes on; so does an unknown HMO_* name.");
	puts(".BR hmo\\-run (1)");
	puts("takes each as an option: HMO_THRESHOLD=2M is \\-\\-threshold=2M.");
	puts(".SH VARIABLES");
	for (size_t i = 0; i < hmo_option_count; i++) {
		const struct hmo_option_desc *d = &hmo_option_table[i];
		printf(".TP\n.B ");
		roff(d->name);
		printf("\n(%s, default ", hmo_opt_type_name(d->type));
		roff(d->def);
		printf(")\n");
		roff(d->help);
		printf("\n");
	}
	puts(".SH SEE ALSO");
	puts(".BR hmo\\-run (1),");
	puts(".BR hmo\\-report (1),");
	puts(".BR hmo (3)");
}

int main(int argc, char **argv)
{
	int md = argc > 1 && strcmp(argv[1], "--markdown") == 0;

	if (argc > 1 && strcmp(argv[1], "--hmo-run") == 0) {
		run_help();
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--man") == 0) {
		man();
		return 0;
	}
	if (argc > 1 && !md) {
		fprintf(stderr, "usage: hmo-options [--markdown|--hmo-run|--man]\n");
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
