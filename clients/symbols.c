/*
 * symbols.c - one asset, several spellings. Canonical symbols are Binance's
 * for crypto (BTCUSDT) and the exchange ticker for equities (AAPL).
 *   Binance futures / spot: BTCUSDT        Yahoo: BTC-USD
 *   Polygon: X:BTCUSD (USD, not USDT: a small basis, never equal prices)
 * Futures contracts with a multiplier prefix (1000PEPEUSDT, 1000000MOGUSDT)
 * are priced x1000 against the spot coin, so they have no twin elsewhere.
 */
#include "clients.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Stable-coin quotes, longest first; all map to USD off Binance. */
static const char *const quotes[] = {"FDUSD", "USDT", "USDC", "BUSD",
				     "TUSD", "USD"};

static int split_quote(const char *s, char *base, size_t cap)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < MDE_ARRAY_LEN(quotes); i++) {
		size_t q = strlen(quotes[i]);
		if (n > q && strcmp(s + n - q, quotes[i]) == 0 &&
		    n - q < cap) {
			memcpy(base, s, n - q);
			base[n - q] = '\0';
			return 0;
		}
	}
	return MDE_ENOTFOUND;
}

static bool multiplied(const char *base)
{
	/* "1000PEPE", "1000000MOG", "1MBABYDOGE" */
	if (strncmp(base, "1000", 4) == 0)
		return true;
	return base[0] == '1' && base[1] == 'M' && isupper((unsigned char)base[2]);
}

static int out_str(char *out, size_t cap, const char *a, const char *b,
		   const char *c)
{
	int k = snprintf(out, cap, "%s%s%s", a, b, c);
	return (k < 0 || (size_t)k >= cap) ? MDE_EINVAL : 0;
}

int mde_symbol_for(char *out, size_t cap, const char *canonical,
		   enum mde_asset asset,
		   enum mde_origin origin)
{
	char base[32];
	if (!canonical || !*canonical)
		return MDE_EINVAL;
	if (asset == MDE_EQUITY || origin == MDE_SRC_BINANCE ||
	    origin == MDE_SRC_REPLAY)
		return out_str(out, cap, canonical, "", "");
	if (split_quote(canonical, base, sizeof base))
		return MDE_ENOTFOUND;
	if (multiplied(base))
		return MDE_ENOTFOUND;
	switch (origin) {
	case MDE_SRC_BINANCE_SPOT:
		return out_str(out, cap, canonical, "", "");
	case MDE_SRC_YAHOO:
		return out_str(out, cap, base, "-USD", "");
	case MDE_SRC_POLYGON:
		return out_str(out, cap, "X:", base, "USD");
	default:
		return MDE_EINVAL;
	}
}

int mde_symbol_canonical(char *out, size_t cap, const char *sym)
{
	char base[32];
	size_t n = strlen(sym);
	if (strncmp(sym, "X:", 2) == 0 && n > 5 &&
	    strcmp(sym + n - 3, "USD") == 0 && n - 5 < sizeof base) {
		memcpy(base, sym + 2, n - 5);
		base[n - 5] = '\0';
		return out_str(out, cap, base, "USDT", "");
	}
	if (n > 4 && strcmp(sym + n - 4, "-USD") == 0 && n - 4 < sizeof base) {
		memcpy(base, sym, n - 4);
		base[n - 4] = '\0';
		return out_str(out, cap, base, "USDT", "");
	}
	return out_str(out, cap, sym, "", "");
}
