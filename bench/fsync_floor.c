/* The durability floor: append 4 KiB to a file and fdatasync it, N times; p50/p99 per append.
 *
 * usage: fsync_floor DIR [COUNT] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int compare(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    int count = argc > 2 ? atoi(argv[2]) : 2000;
    char path[1024];
    snprintf(path, sizeof path, "%s/fsync-floor.tmp", argv[1]);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (fd < 0)
        return 1;
    char block[4096];
    memset(block, 'x', sizeof block);
    long long *samples = malloc((size_t)count * sizeof *samples);
    for (int i = 0; i < count; i++) {
        long long t0 = now_ns();
        if (write(fd, block, sizeof block) != (ssize_t)sizeof block || fdatasync(fd) != 0)
            return 1;
        samples[i] = now_ns() - t0;
    }
    close(fd);
    unlink(path);
    qsort(samples, (size_t)count, sizeof *samples, compare);
    printf("fdatasync of a 4 KiB append: n=%d p50 %.1f us p99 %.1f us\n", count,
           samples[count / 2] / 1e3, samples[count * 99 / 100] / 1e3);
    free(samples);
    return 0;
}
