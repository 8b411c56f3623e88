/* serveutil.c - see serveutil.h. */
#include "serveutil.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include "testutil.h"

int mde_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
	    getsockname(fd, (struct sockaddr *)&a, &l)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return ntohs(a.sin_port);
}

pid_t mde_serve_start(const char *conf, const char *db, int port,
		      const char *logfile, const char *const *extra)
{
	char listen[32];
	snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
	const char *argv[32] = {mde_test_bin(), "--config", conf, "--db", db,
				"--log-format", "json", "serve", "--listen",
				listen};
	int n = 10;
	for (; extra && *extra && n < 30; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		mde_http_resp r;
		long st = mde_http(port, "GET", "/healthz", NULL, 0, NULL, &r);
		mde_http_free(&r);
		if (st == 200)
			return pid;
		usleep(100000);
	}
	return -1;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	mde_http_resp *r = ud;
	size_t k = sz * n;
	char *b = realloc(r->body, r->len + k + 1);
	if (!b)
		return 0;
	memcpy(b + r->len, p, k);
	r->body = b;
	r->len += k;
	b[r->len] = '\0';
	return k;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	mde_http_resp *r = ud;
	size_t k = sz * n, have = strlen(r->headers);
	if (have + k < sizeof r->headers) {
		memcpy(r->headers + have, p, k);
		r->headers[have + k] = '\0';
	}
	return k;
}

long mde_http(int port, const char *method, const char *path,
	      const char *body, size_t body_len, const char *auth,
	      mde_http_resp *r)
{
	memset(r, 0, sizeof *r);
	r->body = calloc(1, 1);
	CURL *c = curl_easy_init();
	char url[4096], ah[600];
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	struct curl_slist *h = NULL;
	if (auth) {
		snprintf(ah, sizeof ah, "Authorization: %s", auth);
		h = curl_slist_append(h, ah);
	}
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return r->status;
}

void mde_http_free(mde_http_resp *r)
{
	free(r->body);
	r->body = NULL;
}
