/*
 * sources.c - the source plan and asset class of a set of series
 * (pipeline.h, CLI.md "Sources and fallback"), resolved once from the
 * command line or a [universe] before any series runs.
 */
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The asset class every symbol of the list implies with source. */
static int implied_asset(const char *source, const char *symbols,
			 enum mde_asset *asset, char *why, size_t whylen)
{
	char *list = strdup(symbols ? symbols : "");
	if (!list)
		return MDE_ENOMEM;
	int rc = 0;
	bool any = false;
	enum mde_asset seen = MDE_CRYPTO;
	char *save = NULL;
	for (char *s = strtok_r(list, ",", &save); s && !rc;
	     s = strtok_r(NULL, ",", &save)) {
		enum mde_asset a = mde_fetch_infer_asset(source, s);
		if (any && a != seen) {
			snprintf(why, whylen, "the symbols mix equity tickers "
				 "and crypto pairs for source %s: give "
				 "--asset-class crypto|equity, or split the "
				 "list", source ? source : "auto");
			rc = MDE_EINVAL;
		}
		seen = a;
		any = true;
	}
	free(list);
	*asset = seen;
	return rc;
}

int mde_pipeline_sources(const char *source, const char *fallback,
			 const char *asset, const char *symbols, char *plan,
			 size_t cap, enum mde_asset *asset_out, char *why,
			 size_t whylen)
{
	enum mde_asset a = MDE_CRYPTO;
	int given = MDE_CRYPTO;
	int rc = asset ? mde_asset_parse(asset, &given)
		       : implied_asset(source, symbols, &a, why, whylen);
	if (asset && !rc)
		a = given == MDE_EQUITY ? MDE_EQUITY : MDE_CRYPTO;
	if (rc && asset)
		snprintf(why, whylen, "asset class must be crypto or equity, "
			 "not \"%s\"", asset);
	if (rc)
		return MDE_EINVAL;
	if (mde_fetch_plan_make(plan, cap, source, fallback, a)) {
		snprintf(why, whylen, "source %s cannot fall back to %s (only "
			 "binance -> binance-spot and polygon -> yahoo)",
			 source ? source : "auto", fallback ? fallback : "-");
		return MDE_EINVAL;
	}
	*asset_out = a;
	return 0;
}
