/*
 * migrate.h - forward-only schema migrations. The SQL of migrations/ is
 * compiled into the binary (cmake/embed_migrations.cmake). Each migration
 * runs in its own transaction together with its schema_migrations row, all
 * under a session advisory lock, so running migrate twice or concurrently
 * is harmless and a failing migration leaves the schema as it was.
 */
#ifndef MDE_MIGRATE_H
#define MDE_MIGRATE_H

#include <libpq-fe.h>

#include "mde.h"

typedef struct mde_migration {
	int version;
	const char *name;
	const char *sql;
} mde_migration;

extern const mde_migration mde_migrations[];
extern const size_t mde_nmigrations;

/* Applies what is missing; *applied = how many were applied now. */
int mde_migrate(PGconn *c, int *applied, mde_err *err) MDE_MUSTCHECK;
/* The same over any list sorted by version (tests pass their own). */
int mde_migrate_list(PGconn *c, const mde_migration *list, size_t n,
		     int *applied, mde_err *err) MDE_MUSTCHECK;
/* 0 when every embedded migration is applied, MDE_ENOTFOUND otherwise. */
int mde_migrate_check(PGconn *c, mde_err *err) MDE_MUSTCHECK;

#endif
