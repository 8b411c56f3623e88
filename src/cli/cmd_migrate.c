/* cmd_migrate.c - `mdenrich migrate`. */
#include <libpq-fe.h>
#include <stdio.h>

#include "commands.h"
#include "db.h"
#include "log.h"
#include "migrate.h"

int mde_cmd_migrate(const mde_config *cfg, const mde_cli *cli)
{
	mde_err err = {0};
	PGconn *c = NULL;
	if (mde_db_connect(&c, cfg->db_url, cfg->db_connect_timeout_s, &err)) {
		fprintf(stderr, "mdenrich migrate: %s\n", err.msg);
		return MDE_EXIT_FATAL;
	}
	int applied = 0;
	int rc = mde_migrate(c, &applied, &err);
	PQfinish(c);
	if (rc) {
		fprintf(stderr, "mdenrich migrate: %s\n", err.msg);
		return MDE_EXIT_FATAL;
	}
	mde_info("migrate.done", "applied=%d total=%zu", applied,
		 mde_nmigrations);
	return MDE_EXIT_OK;
}
