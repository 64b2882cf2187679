/* The live dashboard's files on the HTTP listener (docs/DASHBOARD.md): `GET /` answers the
 * page (index.html of the dashboard's directory) and `GET /assets/…` its scripts, styles and the
 * charting library, each through libwebsockets' own file serving (a mount of the directory's
 * assets/, MIME types by extension), with a Content-Security-Policy of `default-src 'self'` that
 * lets the page load nothing from another origin.
 *
 * DESIGN: the page is a client of the public API only (REST, WebSocket streams, /metrics,
 * /admin); nothing here answers data. Only `/`, `/index.html` and `/assets/` are the
 * dashboard's: a mount at `/` would catch every GET of the listener (/metrics, /history-data,
 * the WebSocket streams), so the page itself is served by the request callback and only the
 * assets by a mount. */
#ifndef TINVESTD_HTTP_DASHBOARD_H
#define TINVESTD_HTTP_DASHBOARD_H

#include <stdbool.h>

#include <libwebsockets.h>

/* The policy sent with every dashboard answer: nothing from another origin, no plugins, no
 * framing by another page. */
#define DASHBOARD_CSP                                                                              \
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "                 \
    "frame-ancestors 'none'"
/* The longest dashboard directory path accepted. */
#define DASHBOARD_PATH_MAX 1024

typedef struct dashboard {
    bool enabled;
    char index_path[DASHBOARD_PATH_MAX + 16];
    char assets_dir[DASHBOARD_PATH_MAX + 16];
    struct lws_http_mount mount; /* /assets → assets_dir */
} dashboard;

/* Fills `d` for the directory `dir` (NULL or empty: not served, returns 0). Returns -1 when the
 * directory holds no index.html or the path is too long. */
int dashboard_init(dashboard *d, const char *dir);

/* The mounts a vhost takes (NULL when the dashboard is not served). */
const struct lws_http_mount *dashboard_mounts(const dashboard *d);

/* Whether a GET of `uri` is the page itself. */
bool dashboard_is_page(const dashboard *d, const char *uri);

/* Starts sending the page on `wsi`. Returns what the HTTP callback returns: 0, or -1 to close
 * the connection. */
int dashboard_serve_page(const dashboard *d, struct lws *wsi);

/* LWS_CALLBACK_ADD_HEADERS of a file the mount serves: the policy headers. Returns 0, or -1
 * when they do not fit. */
int dashboard_add_headers(struct lws *wsi, struct lws_process_html_args *args);

#endif
