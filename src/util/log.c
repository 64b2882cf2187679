#include "util/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static atomic_int current_level = LOG_LEVEL_INFO;

void log_set_level(log_level level) {
    atomic_store(&current_level, (int)level);
}

void log_write(log_level level, const char *fmt, ...) {
    if ((int)level < atomic_load(&current_level))
        return;
    static const char *const names[] = {"debug", "info", "warn", "error"};
    char line[2048];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    int used = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %s ",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                        tm.tm_sec, now.tv_nsec / 1000, names[level]);
    va_list args;
    va_start(args, fmt);
    int body = vsnprintf(line + used, sizeof line - (size_t)used - 1, fmt, args);
    va_end(args);
    size_t len = (size_t)used + (body < 0 ? 0 : (size_t)body);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    /* A failed log write has nowhere to be reported; ignoring it is the only option. */
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;
}
