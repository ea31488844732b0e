/* SPDX-License-Identifier: Apache-2.0 */
/* The floor of a durable add: the syscalls every atomic durable write needs
 * (create a temp file, write a record-sized buffer, fsync, close, rename,
 * fsync the directory), in a loop, in a directory on the state dir's
 * filesystem. Prints a RESULT line like bench-client. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline.h"
#include "util.h"

#define RECORD_SIZE 600          /* about one sealed Slack webhook record */

static int durable_write(int dir_fd, unsigned i, const char *data, size_t len) {
        char tmp[64], name[64];
        snprintf(tmp, sizeof tmp, ".#floor-%06u.json.tmp", i);
        snprintf(name, sizeof name, "floor-%06u.json", i);
        int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        int r = write(fd, data, len) == (ssize_t) len ? 0 : -EIO;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r == 0 && fsync(dir_fd) < 0)
                r = -errno;
        return r;
}

int main(int argc, char *argv[]) {
        if (argc != 4) {
                fprintf(stderr, "usage: fsync-floor DIR COUNT LABEL\n");
                return 2;
        }
        unsigned count = (unsigned) strtoul(argv[2], NULL, 10);
        _cleanup_close_ int dir_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ uint64_t *lat = calloc(count ? count : 1, sizeof(uint64_t));
        char data[RECORD_SIZE];

        if (dir_fd < 0 || !lat) {
                fprintf(stderr, "fsync-floor: %s: %s\n", argv[1], strerror(dir_fd < 0 ? errno : ENOMEM));
                return 1;
        }
        memset(data, 'x', sizeof data);
        data[sizeof data - 1] = '\n';
        uint64_t start = mono_usec();
        for (unsigned i = 0; i < count; i++) {
                uint64_t t = mono_usec();
                int r = durable_write(dir_fd, i, data, sizeof data);
                if (r < 0) {
                        fprintf(stderr, "fsync-floor: write %u: %s\n", i, strerror(-r));
                        return 1;
                }
                lat[i] = mono_usec() - t;
        }
        RunResult res = { .calls = count, .seconds = (double) (mono_usec() - start) / 1e6 };
        res.rate = res.seconds > 0 ? count / res.seconds : 0;
        latency_summary(lat, count, &res.p50_us, &res.p99_us);
        print_result(argv[3], 1, &res);
        return 0;
}
