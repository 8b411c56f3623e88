/*
 * names.c - the checks of symbol lists and source names, shared by the
 * command line (--symbols, --source) and the config file's universes, so
 * that a value is accepted or refused the same way wherever it is given.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

int mde_symbols_check(const char *list)
{
	if (!list || !*list)
		return MDE_EINVAL;
	size_t len = 0;
	for (const char *p = list;; p++) {
		if (*p == ',' || !*p) {
			if (len == 0 || len > 32)
				return MDE_EINVAL;
			len = 0;
			if (!*p)
				break;
			continue;
		}
		if (!isupper((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    !strchr(".-_=^:", *p))
			return MDE_EINVAL;
		len++;
	}
	return 0;
}

int mde_source_check(const char *s)
{
	static const char *names[] = {"binance", "binance-spot", "yahoo",
				      "polygon"};
	for (size_t i = 0; i < MDE_ARRAY_LEN(names); i++)
		if (strcmp(s, names[i]) == 0)
			return 0;
	if (strncmp(s, "replay:", 7) == 0 && s[7])
		return 0;
	return MDE_EINVAL;
}

