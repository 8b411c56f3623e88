/* symlist.c - see symlist.h. */
#include "symlist.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool symbol_char(char ch)
{
	return isupper((unsigned char)ch) || isdigit((unsigned char)ch) ||
	       strchr(".-_=^:", ch);
}

/* One item s[0..n) (trimmed) appended to out at *w, canonical. */
static int put_item(const char *s, size_t n, char *out, size_t cap,
		    size_t *w, mde_err *err)
{
	char item[64];
	if (n == 0)
		return mde_err_set(err, MDE_EINVAL, false, "an empty symbol "
				   "(two commas, or a comma at an end)");
	if (n >= sizeof item)
		return mde_err_set(err, MDE_EINVAL, false, "symbol \"%.*s...\" "
				   "is too long", 20, s);
	const char *slash = memchr(s, '/', n);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = (char)toupper((unsigned char)s[i]);
		if (slash && ch == '/')
			continue;
		if (slash && ch == ':' && s + i > slash)
			break; /* ccxt's settle currency: BTC/USDT:USDT */
		if (!symbol_char(ch))
			return mde_err_set(err, MDE_EINVAL, false, "bad symbol "
					   "\"%.*s\" (letters, digits and . - "
					   "_ = ^ : only)", (int)n, s);
		item[k++] = ch;
	}
	item[k] = '\0';
	if (k == 0 || k > 32)
		return mde_err_set(err, MDE_EINVAL, false, "bad symbol \"%.*s\"",
				   (int)n, s);
	int wrote = snprintf(out + *w, cap - *w, "%s%s", *w ? "," : "", item);
	if (wrote < 0 || (size_t)wrote >= cap - *w)
		return mde_err_set(err, MDE_EINVAL, false, "symbol list too "
				   "long");
	*w += (size_t)wrote;
	return 0;
}

int mde_symlist_normalize(const char *in, char *out, size_t cap, mde_err *err)
{
	if (!in || cap == 0)
		return mde_err_set(err, MDE_EINVAL, false, "no symbols");
	size_t w = 0;
	out[0] = '\0';
	const char *p = in;
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *a = p, *b = p + len;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		int rc = put_item(a, (size_t)(b - a), out, cap, &w, err);
		if (rc)
			return rc;
		if (!p[len])
			break;
		p += len + 1;
	}
	return 0;
}
