/*
 * fmt17.h - a double as "%.17g" writes it, without printf for the usual
 * range (see fmt17.c). 17 significant digits parse back to the same double.
 */
#ifndef MDE_FMT17_H
#define MDE_FMT17_H

#include "mde.h"

/* Writes v as snprintf("%.17g") does (out >= 32 bytes); returns the
   length. Exact, and fast for 1e-11 <= |v| < 1e17. */
int mde_fmt17(char *out, double v);

#endif
