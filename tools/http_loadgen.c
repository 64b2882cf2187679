/* http_loadgen: an HTTP/1.1 load generator for tinvestd's REST proxy (and for the HTTP floor,
 * bench/http_floor_server.c) on libcurl's multi interface.
 *
 * Closed loop: --connections N kept-alive connections, each with one request in flight; a new
 * request leaves as soon as the previous one's answer is in, for --calls requests or for
 * --seconds. Every request is `POST PATH` with `Authorization: Bearer TOKEN` and the body of a
 * PostOrderAsync (tools/rest_order_body.h) with a fresh UUID `orderId`, so each one is a new
 * order. Before the measurement each connection is opened by one request of its own (checked,
 * not timed). The latency of each request, from handing it to libcurl to its answer complete,
 * goes into a log-linear histogram (tools/histogram.h); the report gives p50/p90/p99/p99.9/max
 * and requests/s, in loadgen's format (its JSON names: calls, calls_per_s, latency).
 *
 * A request fails when libcurl reports an error, the answer is not 200, or it carries no
 * x-tracking-id header; the exit status is 1 if any failed (the first failure's status and body
 * go to standard error). The failure counts include the untimed first request of each
 * connection.
 *
 * usage: http_loadgen --target HOST:PORT [--path P] [--token T] [--account A]
 *                     [--instrument UID] [--price UNITS.NANO] [--connections N]
 *                     [--calls N | --seconds S] [--json] */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include <curl/curl.h>

#include "histogram.h"
#include "rest_order_body.h"
#include "util/clock.h"
#include "util/money.h"
#include "util/uuid.h"

/* More connections than this are refused (each is an easy handle and a socket). */
#define MAX_CONNECTIONS 1024
/* Room for one request body (an order is about 300 bytes). */
#define BODY_MAX 1024
/* Bytes of a failed answer's body kept for the diagnostic. */
#define FAILURE_BODY_MAX 512

typedef struct options {
    const char *target, *path, *token, *account, *instrument;
    int64_t price_nano;
    int connections;
    long calls;
    double seconds;
    bool json;
} options;

typedef struct slot {
    CURL *easy;
    char body[BODY_MAX];
    char answer[FAILURE_BODY_MAX];
    size_t answer_len;
    bool tracking_id;
    bool warm; /* its connection is open: its requests are measured */
    int64_t started_ns;
} slot;

static options opt;
static histogram latency;
static long started, completed, non_200, transport_errors, missing_tracking_id;
static long new_connections; /* connections opened by measured requests (keep-alive: 0) */
static bool failure_reported;

static void usage(void) {
    fprintf(stderr, "usage: http_loadgen --target HOST:PORT [--path P] [--token T] [--account A] "
                    "[--instrument UID] [--price UNITS.NANO] [--connections N] "
                    "[--calls N | --seconds S] [--json]\n");
    exit(2);
}

static void parse(int argc, char **argv) {
    static const struct option longopts[] = {{"target", 1, NULL, 't'},
                                             {"path", 1, NULL, 'P'},
                                             {"token", 1, NULL, 'k'},
                                             {"account", 1, NULL, 'a'},
                                             {"instrument", 1, NULL, 'i'},
                                             {"price", 1, NULL, 'p'},
                                             {"connections", 1, NULL, 'c'},
                                             {"calls", 1, NULL, 'n'},
                                             {"seconds", 1, NULL, 's'},
                                             {"json", 0, NULL, 'j'},
                                             {NULL, 0, NULL, 0}};
    opt = (options){.path = "/rest/tinkoff.public.invest.api.contract.v1.OrdersService/"
                            "PostOrderAsync",
                    .token = "t.demo.full",
                    .account = "2000000001",
                    .instrument = "e2d0dbac-d354-4c36-a5ed-e5aae42ffc76",
                    .connections = 1,
                    .calls = 10000};
    if (money_parse_decimal("8.000", &opt.price_nano) != 0)
        abort();
    bool by_time = false;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            opt.target = optarg;
            break;
        case 'P':
            opt.path = optarg;
            break;
        case 'k':
            opt.token = optarg;
            break;
        case 'a':
            opt.account = optarg;
            break;
        case 'i':
            opt.instrument = optarg;
            break;
        case 'p':
            if (money_parse_decimal(optarg, &opt.price_nano) != 0)
                usage();
            break;
        case 'c':
            opt.connections = atoi(optarg);
            break;
        case 'n':
            opt.calls = atol(optarg);
            break;
        case 's':
            opt.seconds = atof(optarg);
            by_time = true;
            break;
        case 'j':
            opt.json = true;
            break;
        default:
            usage();
        }
    }
    if (opt.target == NULL || opt.connections < 1 || opt.connections > MAX_CONNECTIONS ||
        (by_time ? !(opt.seconds > 0) : opt.calls < 1) || optind != argc)
        usage();
    if (by_time)
        opt.calls = 0; /* no count: the duration ends the run */
}

static size_t on_body(char *data, size_t size, size_t count, void *user) {
    slot *s = user;
    size_t len = size * count, room = sizeof s->answer - 1 - s->answer_len;
    size_t kept = len < room ? len : room;
    memcpy(s->answer + s->answer_len, data, kept);
    s->answer_len += kept;
    return len;
}

static size_t on_header(char *data, size_t size, size_t count, void *user) {
    slot *s = user;
    static const char name[] = "x-tracking-id:";
    size_t len = size * count;
    if (len > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0)
        s->tracking_id = true;
    return len;
}

static CURL *make_handle(slot *s, const char *url, struct curl_slist *headers) {
    CURL *e = curl_easy_init();
    if (e == NULL)
        return NULL;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->body);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    return e;
}

/* The next request of this slot's connection: a fresh key, the body, the clock. */
static int start_request(CURLM *multi, slot *s) {
    const rest_order order = {.instrument_id = opt.instrument,
                              .account_id = opt.account,
                              .quantity = 1,
                              .price_nano = opt.price_nano};
    char key[UUID_TEXT_SIZE];
    uuid_generate_v4(key);
    int len = rest_order_body(&order, key, s->body, sizeof s->body);
    if (len < 0) {
        fprintf(stderr, "http_loadgen: the order does not fit %d bytes\n", BODY_MAX);
        return -1;
    }
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, (long)len);
    s->answer_len = 0;
    s->tracking_id = false;
    if (s->warm)
        started++;
    s->started_ns = clock_monotonic_ns();
    return curl_multi_add_handle(multi, s->easy) == CURLM_OK ? 0 : -1;
}

static void report_failure(const slot *s, CURLcode result, long status) {
    if (failure_reported)
        return;
    failure_reported = true;
    if (result != CURLE_OK)
        fprintf(stderr, "http_loadgen: %s\n", curl_easy_strerror(result));
    else
        fprintf(stderr, "http_loadgen: HTTP %ld%s: %.*s\n", status,
                s->tracking_id ? "" : " without x-tracking-id", (int)s->answer_len, s->answer);
}

/* A request is done: checked, and timed if its connection was open already. */
static void finish_request(slot *s, CURLcode result) {
    int64_t now = clock_monotonic_ns();
    long status = 0, connects = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &connects);
    bool ok = result == CURLE_OK && status == 200 && s->tracking_id;
    if (result != CURLE_OK)
        transport_errors++;
    else if (status != 200)
        non_200++;
    else if (!s->tracking_id)
        missing_tracking_id++;
    if (!ok)
        report_failure(s, result, status);
    if (!s->warm) {
        s->warm = true;
        return;
    }
    completed++;
    new_connections += connects;
    if (ok)
        histogram_record(&latency, now - s->started_ns);
}

static double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_stime.tv_sec +
           ((double)usage.ru_utime.tv_usec + (double)usage.ru_stime.tv_usec) / 1e6;
}

static void report_histogram(const char *name, const histogram *h) {
    if (opt.json)
        printf("\"%s\":{\"count\":%llu,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":"
               "%.1f,\"max_us\":%.1f},",
               name, (unsigned long long)h->total, histogram_percentile(h, 50) / 1e3,
               histogram_percentile(h, 90) / 1e3, histogram_percentile(h, 99) / 1e3,
               histogram_percentile(h, 99.9) / 1e3, h->max / 1e3);
    else
        printf("%-22s n=%-8llu p50 %8.1f us  p90 %8.1f us  p99 %8.1f us  p99.9 %8.1f us  max %8.1f "
               "us\n",
               name, (unsigned long long)h->total, histogram_percentile(h, 50) / 1e3,
               histogram_percentile(h, 90) / 1e3, histogram_percentile(h, 99) / 1e3,
               histogram_percentile(h, 99.9) / 1e3, h->max / 1e3);
}

/* Runs the multi handle until every request added so far is done (starting the next request of
 * each connection while `more` says so); returns -1 on a libcurl failure of the multi handle. */
static int run(CURLM *multi, bool (*more)(void)) {
    int running = 1;
    while (running > 0) {
        if (curl_multi_perform(multi, &running) != CURLM_OK)
            return -1;
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *e = msg->easy_handle;
            CURLcode result = msg->data.result;
            char *private = NULL;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, &private);
            slot *s = (slot *)private;
            curl_multi_remove_handle(multi, e);
            bool was_warm = s->warm;
            finish_request(s, result);
            /* A warm-up request is its connection's only one in this phase. */
            if (was_warm && more()) {
                if (start_request(multi, s) != 0)
                    return -1;
                running++;
            }
        }
        if (running > 0 && curl_multi_poll(multi, NULL, 0, 100, NULL) != CURLM_OK)
            return -1;
    }
    return 0;
}

static int64_t deadline_ns;

static bool more_requests(void) {
    if (opt.calls > 0)
        return started < opt.calls;
    return clock_monotonic_ns() < deadline_ns;
}

static bool no_more(void) {
    return false;
}

int main(int argc, char **argv) {
    parse(argc, argv);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    char url[1024];
    if ((size_t)snprintf(url, sizeof url, "http://%s%s", opt.target, opt.path) >= sizeof url)
        usage();
    char authorization[512];
    if ((size_t)snprintf(authorization, sizeof authorization, "Authorization: Bearer %s",
                         opt.token) >= sizeof authorization)
        usage();
    struct curl_slist *headers = NULL;
    /* "Expect:" turns libcurl's 100-continue off (the body is sent with the headers). */
    const char *lines[] = {"Content-Type: application/json", authorization, "Expect:"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        struct curl_slist *grown = curl_slist_append(headers, lines[i]);
        if (grown == NULL)
            return 1;
        headers = grown;
    }
    CURLM *multi = curl_multi_init();
    slot *slots = calloc((size_t)opt.connections, sizeof *slots);
    if (multi == NULL || slots == NULL)
        return 1;
    /* One connection per slot, kept alive between its requests; never more. */
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)opt.connections);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)opt.connections);
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    int rc = 0;
    for (int i = 0; i < opt.connections && rc == 0; i++)
        if ((slots[i].easy = make_handle(&slots[i], url, headers)) == NULL)
            rc = -1;
    /* Each connection opened by a request of its own, not measured. */
    for (int i = 0; i < opt.connections && rc == 0; i++)
        rc = start_request(multi, &slots[i]);
    if (rc == 0)
        rc = run(multi, no_more);
    int64_t start = clock_monotonic_ns();
    double start_cpu_s = cpu_seconds();
    deadline_ns = start + (int64_t)(opt.seconds * 1e9);
    for (int i = 0; i < opt.connections && rc == 0 && more_requests(); i++)
        rc = start_request(multi, &slots[i]);
    if (rc == 0)
        rc = run(multi, more_requests);
    double seconds = (clock_monotonic_ns() - start) / 1e9;
    double cpu_ns_per_call = completed > 0 ? (cpu_seconds() - start_cpu_s) * 1e9 / completed : 0;
    long failed = non_200 + transport_errors + missing_tracking_id;
    if (rc != 0)
        fprintf(stderr, "http_loadgen: libcurl's multi interface failed\n");
    if (opt.json) {
        printf("{\"calls\":%ld,\"seconds\":%.3f,\"calls_per_s\":%.0f,\"errors\":%ld,"
               "\"non_200\":%ld,\"transport_errors\":%ld,\"missing_tracking_id\":%ld,"
               "\"connections\":%d,\"new_connections\":%ld,\"client_cpu_ns_per_call\":%.0f,",
               completed, seconds, completed / seconds, failed, non_200, transport_errors,
               missing_tracking_id, opt.connections, new_connections, cpu_ns_per_call);
        report_histogram("latency", &latency);
        printf("\"method\":\"http\"}\n");
    } else {
        printf("%ld requests on %d connections in %.3f s = %.0f requests/s (client CPU %.1f us per "
               "request), %ld failed (%ld not 200, %ld transport, %ld without x-tracking-id), %ld "
               "connections opened while measuring\n",
               completed, opt.connections, seconds, completed / seconds, cpu_ns_per_call / 1e3,
               failed, non_200, transport_errors, missing_tracking_id, new_connections);
        report_histogram("latency", &latency);
    }
    for (int i = 0; i < opt.connections; i++)
        if (slots[i].easy != NULL)
            curl_easy_cleanup(slots[i].easy);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    free(slots);
    curl_global_cleanup();
    return rc == 0 && failed == 0 ? 0 : 1;
}
