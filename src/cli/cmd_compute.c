/* cmd_compute.c - `mdenrich compute`: the offline CSV command (compute.c). */
#include "commands.h"
#include "compute.h"

int mde_cmd_compute(const mde_config *cfg, const mde_cli *cli)
{
	(void)cfg;
	mde_compute_args a = {
		.timeframe = cli->timeframe,
		.asset_class = cli->asset_class,
		.input = cli->input,
		.output = cli->output,
		.funding = cli->funding,
		.open_interest = cli->open_interest,
		.long_short = cli->long_short,
		.liquidations = cli->liquidations,
		.inflow = cli->inflow,
	};
	return mde_compute_run(&a);
}
