/*
 * symlist.h - the --symbols list as people type it (CLI.md "Times, ranges
 * and durations"): "btcusdt", "BTC/USDT", "BTC/USDT:USDT" (ccxt) and
 * "BTCUSDT, ETHUSDT" all mean the canonical BTCUSDT,ETHUSDT.
 */
#ifndef MDE_SYMLIST_H
#define MDE_SYMLIST_H

#include "mde.h"

/*
 * Writes the canonical comma list of in to out: spaces around items
 * dropped, letters upper-cased, ccxt's BASE/QUOTE[:SETTLE] joined to
 * BASEQUOTE. MDE_EINVAL, with the offending item in err, for an empty
 * item or one with characters other than A-Z 0-9 . - _ = ^ : (and '/'
 * in the ccxt form), or a list that does not fit in cap.
 */
int mde_symlist_normalize(const char *in, char *out, size_t cap,
			  mde_err *err) MDE_MUSTCHECK;

#endif
