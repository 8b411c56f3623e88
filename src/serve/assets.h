/*
 * assets.h - the files the dashboard's pages load (Debian's dygraphs,
 * our script and style), compiled into the binary by
 * cmake/embed_assets.cmake so that the pages need no network.
 */
#ifndef MDE_ASSETS_H
#define MDE_ASSETS_H

#include <stddef.h>

typedef struct mde_asset {
	const char *name;            /* "dygraph.min.js" */
	const unsigned char *data;   /* size bytes, then a NUL */
	size_t size;
} mde_asset;

extern const mde_asset mde_assets[];
extern const size_t mde_nassets;

/* The asset of that exact name, or NULL. */
const mde_asset *mde_asset_find(const char *name);

#endif
