/*
 * fuzz_symbols.c - symbol lists (the --symbols / [universe] check) and
 * the translation of a symbol to each source's spelling and back.
 */
#include "fuzz.h"

#include "candles.h"
#include "clients.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size);
	if (!s)
		return 0;
	fz_ignore(mde_symbols_check(s));
	fz_ignore(mde_source_check(s));
	char out[64], back[64];
	for (int origin = 0; origin < MDE_NSRC; origin++)
		for (int asset = MDE_CRYPTO; asset <= MDE_EQUITY; asset++)
			if (mde_symbol_for(out, sizeof out, s, asset,
					   origin) == 0)
				fz_ignore(mde_symbol_canonical(back, sizeof back,
							   out));
	fz_ignore(mde_symbol_canonical(back, sizeof back, s));
	fz_ignore(mde_symbol_canonical(back, 4, s));
	free(s);
	return 0;
}
