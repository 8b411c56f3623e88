/*
 * commands.h - one entry point per subcommand. Each takes the resolved
 * configuration and the parsed command line and returns the process exit
 * code of docs/CLI.md; main() is the only caller and the only place that exits.
 */
#ifndef MDE_COMMANDS_H
#define MDE_COMMANDS_H

#include "cli.h"
#include "config.h"

int mde_cmd_migrate(const mde_config *cfg, const mde_cli *cli);
int mde_cmd_compute(const mde_config *cfg, const mde_cli *cli);
int mde_cmd_run(const mde_config *cfg, const mde_cli *cli);
int mde_cmd_backfill(const mde_config *cfg, const mde_cli *cli);
int mde_cmd_resume(const mde_config *cfg, const mde_cli *cli);
int mde_cmd_worker(const mde_config *cfg, const mde_cli *cli);
int mde_cmd_status(const mde_config *cfg, const mde_cli *cli);
int mde_cmd_quality(const mde_config *cfg, const mde_cli *cli);
int mde_cmd_config(const mde_config *cfg, const mde_cli *cli);
int mde_cmd_jobs(const mde_config *cfg, const mde_cli *cli);
int mde_cmd_cancel(const mde_config *cfg, const mde_cli *cli);
int mde_cmd_prune(const mde_config *cfg, const mde_cli *cli);
int mde_cmd_import(const mde_config *cfg, const mde_cli *cli);
int mde_cmd_serve(const mde_config *cfg, const mde_cli *cli);
int mde_cmd_stream(const mde_config *cfg, const mde_cli *cli);

#endif
