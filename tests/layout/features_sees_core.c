/* Must compile: a feature kernel may use the shared vocabulary of core. */
#include "candles.h"
#include "engine.h"

int mde_layout_probe(void);
int mde_layout_probe(void)
{
	return MDE_NFIELDS;
}
