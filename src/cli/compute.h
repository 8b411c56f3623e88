/*
 * compute.h - the compute command (docs/CLI.md): candles as CSV in, the same
 * rows with every feature column of FEATURES.md out. No database, no
 * network. The CLI parses the flags and calls mde_compute_run.
 */
#ifndef MDE_COMPUTE_H
#define MDE_COMPUTE_H

typedef struct mde_compute_args {
	const char *timeframe;     /* required, e.g. "1h" */
	const char *asset_class;   /* "crypto" (default when NULL) or "equity" */
	const char *input;         /* NULL or "-" = stdin */
	const char *output;        /* NULL or "-" = stdout */
	const char *funding, *open_interest, *long_short, *liquidations,
		*inflow;           /* NULL = not given */
} mde_compute_args;

/*
 * Runs the compute command; returns the process exit code (0, or 2 for a
 * malformed file or bad argument, 1 for I/O failure) and prints its own
 * messages on stderr: one line per rejected or superseded row
 * ("line N: open_time T: rejected: high_low,not_closed"), then a summary.
 * Output rows are the valid candles sorted by open_time: the input line
 * verbatim, the 22 features, validation_flags, quality_score.
 */
int mde_compute_run(const mde_compute_args *a);

#endif
