/*
 * cmd_pending.c - subcommands whose engine has not landed yet. They say so
 * and exit 2 (nothing was changed); each is replaced by its real file.
 */
#include <stdio.h>

#include "commands.h"

static int pending(const mde_cli *cli, const char *issue)
{
	fprintf(stderr,
		"mdenrich %s: not available in this version yet (its engine "
		"arrives with %s); nothing was done\n",
		cli->cmd_name, issue);
	return MDE_EXIT_USAGE;
}

int mde_cmd_compute(const mde_config *cfg, const mde_cli *cli)
{
	return pending(cli, "the feature engine issue");
}
