/* The network floor: ping-pong of 200-byte messages over TCP loopback between two threads;
 * p50/p99 per round trip.
 *
 * usage: tcp_pingpong [COUNT] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MESSAGE_BYTES 200

static int listener;
static int count;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int compare(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static int read_full(int fd, char *buf, size_t n) {
    while (n > 0) {
        ssize_t got = read(fd, buf, n);
        if (got <= 0)
            return -1;
        buf += got;
        n -= (size_t)got;
    }
    return 0;
}

static void *echo_side(void *arg) {
    int fd = accept(listener, NULL, NULL);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char buf[MESSAGE_BYTES];
    for (int i = 0; i < count; i++) {
        if (read_full(fd, buf, sizeof buf) != 0 ||
            write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
            break;
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    count = argc > 1 ? atoi(argv[1]) : 20000;
    listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, (struct sockaddr *)&addr, &len) != 0)
        return 1;
    pthread_t thread;
    pthread_create(&thread, NULL, echo_side, NULL);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
        return 1;
    char buf[MESSAGE_BYTES];
    memset(buf, 'p', sizeof buf);
    long long *samples = malloc((size_t)count * sizeof *samples);
    for (int i = 0; i < count; i++) {
        long long t0 = now_ns();
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf ||
            read_full(fd, buf, sizeof buf) != 0)
            return 1;
        samples[i] = now_ns() - t0;
    }
    close(fd);
    pthread_join(thread, NULL);
    close(listener);
    qsort(samples, (size_t)count, sizeof *samples, compare);
    printf("TCP loopback ping-pong (200 B): n=%d p50 %.1f us p99 %.1f us\n", count,
           samples[count / 2] / 1e3, samples[count * 99 / 100] / 1e3);
    free(samples);
    return 0;
}
