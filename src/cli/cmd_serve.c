/*
 * cmd_serve.c - `mdenrich serve`: reads the API token (--token-file, else
 * MDENRICH_API_TOKEN), registers it with the log masker so that no log
 * line can carry it, and runs the server (src/serve).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "log.h"
#include "serve.h"

/* The token of the file: its first line, surrounding blanks removed. */
static int read_token(const char *path, char **out)
{
	char *buf = NULL;
	size_t len = 0;
	mde_err err = {0};
	if (mde_read_file(path, 4096, &buf, &len, &err)) {
		fprintf(stderr, "mdenrich serve: --token-file %s: %s\n", path,
			err.msg);
		return MDE_EXIT_USAGE;
	}
	char *s = buf;
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t n = strcspn(s, "\r\n");
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n < 16) {
		fprintf(stderr, "mdenrich serve: --token-file %s: the token "
			"must be at least 16 characters (e.g. `openssl rand "
			"-hex 32`)\n", path);
		free(buf);
		return MDE_EXIT_USAGE;
	}
	memmove(buf, s, n);
	buf[n] = '\0';
	struct stat st;
	if (stat(path, &st) == 0 && (st.st_mode & 007))
		mde_warn("serve.token", "file=\"%s\" reason=\"readable by "
			 "others; chmod 640 it\"", path);
	*out = buf;
	return 0;
}

int mde_cmd_serve(const mde_config *cfg, const mde_cli *cli)
{
	char *token = NULL;
	if (cli->token_file) {
		int code = read_token(cli->token_file, &token);
		if (code)
			return code;
	} else if (getenv("MDENRICH_API_TOKEN") &&
		   *getenv("MDENRICH_API_TOKEN")) {
		if (strlen(getenv("MDENRICH_API_TOKEN")) < 16) {
			fprintf(stderr, "mdenrich serve: MDENRICH_API_TOKEN "
				"must be at least 16 characters\n");
			return MDE_EXIT_USAGE;
		}
		token = strdup(getenv("MDENRICH_API_TOKEN"));
		if (!token)
			return MDE_EXIT_FATAL;
	}
	if (token)
		mde_log_add_secret(token);
	mde_serve_opts o = {.listen = cli->listen, .token = token,
			    .cors_origin = cli->cors_origin,
			    .max_inflight = cli->max_requests};
	int code = mde_serve_run(cfg, &o);
	free(token);
	return code;
}
