/*
 * page.h - the frame of the dashboard's pages (pages.c): head, navigation
 * and foot, with the scripts and styles linked from /static/ or, for a
 * self-contained file, inline.
 */
#ifndef MDE_PAGE_H
#define MDE_PAGE_H

#include <libpq-fe.h>

#include "sbuf.h"

void mde_page_head(mde_sbuf *b, const char *title, bool inline_assets,
		   bool charts);
void mde_page_foot(mde_sbuf *b, bool inline_assets, bool charts);
/* The quality page into b (heatmap.c); days = the heatmap's width. */
int mde_page_quality_body(mde_sbuf *b, PGconn *c, int days,
			  mde_err *err) MDE_MUSTCHECK;

#endif
