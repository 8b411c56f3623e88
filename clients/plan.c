/*
 * plan.c - which sources a series may take its candles from (source.h,
 * CLI.md "Sources and fallback"): a source named alone is that source
 * only; a plan "PRIMARY+FALLBACK" lets the fallback serve the rest of a
 * range the primary could not. The only fallbacks are Binance futures ->
 * spot (an opt-in: different instruments) and Polygon -> Yahoo (the
 * equity default). Also the asset class a source and symbol imply.
 */
#include "source.h"

#include <stdio.h>
#include <string.h>

int mde_fetch_source_origin(const char *s)
{
	int p, f;
	if (!s || strcmp(s, "auto") == 0)
		return -1;
	if (mde_fetch_plan(s, MDE_CRYPTO, &p, &f))
		return -1;
	return p;
}

bool mde_fetch_replaces_fallback(const char *source)
{
	int o = mde_fetch_source_origin(source);
	return o == MDE_SRC_BINANCE || o == MDE_SRC_POLYGON;
}

/* The origin of one source name (not a plan), or -1. */
static int one_origin(const char *s, size_t len)
{
	char name[24];
	if (len >= sizeof name)
		return -1;
	memcpy(name, s, len);
	name[len] = '\0';
	int o = mde_origin_parse(name);
	return o == MDE_SRC_CSV || o == MDE_SRC_REPLAY ? -1 : o;
}

int mde_fetch_plan(const char *source, enum mde_asset asset, int *primary,
		   int *fallback)
{
	*primary = *fallback = -1;
	if (!source || strcmp(source, "auto") == 0) {
		*primary = asset == MDE_EQUITY ? MDE_SRC_POLYGON
					       : MDE_SRC_BINANCE;
		*fallback = asset == MDE_EQUITY ? MDE_SRC_YAHOO : -1;
		return 0;
	}
	if (strncmp(source, "replay", 6) == 0 &&
	    (source[6] == '\0' || source[6] == ':')) {
		*primary = MDE_SRC_REPLAY; /* DIR may hold a '+' */
		return 0;
	}
	const char *plus = strchr(source, '+');
	int p = one_origin(source, plus ? (size_t)(plus - source)
					: strlen(source));
	int f = plus ? one_origin(plus + 1, strlen(plus + 1)) : -1;
	if (p < 0 || (plus && f < 0))
		return MDE_EINVAL;
	if (plus && !((p == MDE_SRC_BINANCE && f == MDE_SRC_BINANCE_SPOT) ||
		      (p == MDE_SRC_POLYGON && f == MDE_SRC_YAHOO)))
		return MDE_EINVAL;
	*primary = p;
	*fallback = f;
	return 0;
}

int mde_fetch_plan_make(char *buf, size_t cap, const char *source,
			const char *fallback, enum mde_asset asset)
{
	bool eq = asset == MDE_EQUITY;
	const char *p = source && *source && strcmp(source, "auto")
				? source
				: eq ? "polygon" : "binance";
	const char *f = fallback && *fallback ? fallback : NULL;
	if (f && strcmp(f, "none") == 0)
		f = "";
	else if (!f)
		f = eq && strcmp(p, "polygon") == 0 ? "yahoo" : "";
	int k = snprintf(buf, cap, "%s%s%s", p, *f ? "+" : "", f);
	if (k < 0 || (size_t)k >= cap)
		return MDE_EINVAL;
	int a, b;
	return mde_fetch_plan(buf, asset, &a, &b);
}

/* BTC-USD, X:BTCUSD, or a Binance pair with a stable-coin quote. */
static bool crypto_pair(const char *s)
{
	static const char *const quotes[] = {"USDT", "USDC", "FDUSD", "BUSD",
					     "TUSD"};
	size_t n = strlen(s);
	if (strncmp(s, "X:", 2) == 0 ||
	    (n > 4 && strcmp(s + n - 4, "-USD") == 0))
		return true;
	for (size_t i = 0; i < MDE_ARRAY_LEN(quotes); i++) {
		size_t q = strlen(quotes[i]);
		if (n >= q + 2 && strcmp(s + n - q, quotes[i]) == 0)
			return true;
	}
	return false;
}

enum mde_asset mde_fetch_infer_asset(const char *source, const char *symbol)
{
	int p = mde_fetch_source_origin(source);
	if ((p == MDE_SRC_YAHOO || p == MDE_SRC_POLYGON) && symbol &&
	    !crypto_pair(symbol))
		return MDE_EQUITY;
	return MDE_CRYPTO;
}
