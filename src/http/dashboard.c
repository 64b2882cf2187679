#include "http/dashboard.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The headers every dashboard answer carries besides the library's own. */
static const struct {
    const char *name, *value;
} policy_headers[] = {
    {"content-security-policy:", DASHBOARD_CSP},
    {"x-content-type-options:", "nosniff"},
    {"referrer-policy:", "no-referrer"},
};

int dashboard_init(dashboard *d, const char *dir) {
    memset(d, 0, sizeof *d);
    if (dir == NULL || dir[0] == '\0')
        return 0;
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    if (len > DASHBOARD_PATH_MAX)
        return -1;
    snprintf(d->index_path, sizeof d->index_path, "%.*s/index.html", (int)len, dir);
    snprintf(d->assets_dir, sizeof d->assets_dir, "%.*s/assets", (int)len, dir);
    if (access(d->index_path, R_OK) != 0)
        return -1;
    d->mount.mountpoint = "/assets";
    d->mount.mountpoint_len = (unsigned char)strlen(d->mount.mountpoint);
    d->mount.origin = d->assets_dir;
    d->mount.origin_protocol = LWSMPRO_FILE;
    /* The protocol whose callback adds the policy headers (LWS_CALLBACK_ADD_HEADERS). */
    d->mount.protocol = "http";
    d->enabled = true;
    return 0;
}

const struct lws_http_mount *dashboard_mounts(const dashboard *d) {
    return d->enabled ? &d->mount : NULL;
}

bool dashboard_is_page(const dashboard *d, const char *uri) {
    return d->enabled && (strcmp(uri, "/") == 0 || strcmp(uri, "/index.html") == 0);
}

static int add_policy(struct lws *wsi, unsigned char **p, unsigned char *end) {
    for (size_t i = 0; i < sizeof policy_headers / sizeof policy_headers[0]; i++)
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)policy_headers[i].name,
                                        (const unsigned char *)policy_headers[i].value,
                                        (int)strlen(policy_headers[i].value), p, end) != 0)
            return -1;
    return 0;
}

int dashboard_serve_page(const dashboard *d, struct lws *wsi) {
    unsigned char headers[512];
    unsigned char *p = headers, *end = headers + sizeof headers;
    if (add_policy(wsi, &p, end) != 0)
        return -1;
    int n = lws_serve_http_file(wsi, d->index_path, "text/html; charset=utf-8",
                                (const char *)headers, (int)(p - headers));
    /* As the library's own mounts do: an error, or a file sent whole on a connection that cannot
     * be kept, closes it. */
    if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi)))
        return -1;
    return 0;
}

int dashboard_add_headers(struct lws *wsi, struct lws_process_html_args *args) {
    unsigned char *p = (unsigned char *)args->p;
    unsigned char *end = p + args->max_len;
    if (add_policy(wsi, &p, end) != 0)
        return -1;
    args->max_len -= (int)(p - (unsigned char *)args->p);
    args->p = (char *)p;
    return 0;
}
