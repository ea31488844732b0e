/* SPDX-License-Identifier: Apache-2.0 */
/* Two daemons on one state directory would each keep their own memory of
 * the records and overwrite each other's writes. `tools/dev-run` twice, or
 * an activation while the previous instance is still finishing its idle
 * exit, starts a second one: it must wait for the first to finish, or give
 * up. flock() locks die with their process, so a crash never leaves a stale
 * lock. The file stays empty and is opened read-only: holding it writes
 * nothing (a read-only state dir still serves), and the waiter learns the
 * holder's pid from /proc/locks. */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "state-lock.h"
#include "util.h"

/* Waking on the holder's close is the fast path; a holder whose fd was
 * inherited by a child releases only on the last close, so look again at
 * least this often too. */
#define RECHECK_MSEC 250

static uint64_t monotonic_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static int try_lock(int fd) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                return 1;
        return errno == EWOULDBLOCK ? 0 : -errno;
}

/* The pid holding the flock on fd's file, from /proc/locks (0 if unknown):
 * "1: FLOCK  ADVISORY  WRITE 1234 fe:00:408224 0 EOF". */
static pid_t find_holder(int fd) {
        struct stat st;
        char line[256];
        pid_t pid = 0;

        if (fstat(fd, &st) < 0)
                return 0;
        FILE *f = fopen("/proc/locks", "re");
        if (!f)
                return 0;
        while (pid == 0 && fgets(line, sizeof line, f)) {
                char kind[16], mode[16];
                unsigned maj, min;
                unsigned long long ino;
                long p;
                /* Waiters' lines have "->" after the number: they do not scan. */
                if (sscanf(line, "%*d: %15s %*s %15s %ld %x:%x:%llu", kind, mode, &p, &maj, &min, &ino) == 6 &&
                    strcmp(kind, "FLOCK") == 0 && strcmp(mode, "WRITE") == 0 && ino == st.st_ino &&
                    makedev(maj, min) == st.st_dev && p > 0)
                        pid = (pid_t) p;
        }
        fclose(f);
        return pid;
}

/* Waits for the lock until deadline: 1 taken, 0 timed out, <0 error. */
static int wait_lock(int fd, uint64_t deadline) {
        char path[64];
        int r;

        _cleanup_close_ int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (ifd < 0)
                return -errno;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        if (inotify_add_watch(ifd, path, IN_CLOSE_NOWRITE | IN_CLOSE_WRITE) < 0)
                return -errno;
        for (;;) {
                /* Tried after the watch exists, so a release is never missed. */
                r = try_lock(fd);
                if (r != 0)
                        return r;
                uint64_t now = monotonic_usec();
                if (now >= deadline)
                        return 0;
                uint64_t left_msec = (deadline - now + 999) / 1000;
                if (poll(&(struct pollfd) { .fd = ifd, .events = POLLIN }, 1,
                         (int) (left_msec < RECHECK_MSEC ? left_msec : RECHECK_MSEC)) < 0 && errno != EINTR)
                        return -errno;
                char drain[4096];
                while (read(ifd, drain, sizeof drain) > 0)
                        ;
        }
}

int state_lock_take(int dir_fd, uint64_t timeout_usec, pid_t *ret_holder) {
        int r;

        /* Not O_CREAT first: that wants a writable file system even when
         * the file exists. */
        _cleanup_close_ int fd = openat(dir_fd, STATE_LOCK_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                fd = openat(dir_fd, STATE_LOCK_FILE, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        r = try_lock(fd);
        if (r == 0 && timeout_usec > 0)
                r = wait_lock(fd, monotonic_usec() + timeout_usec);
        if (r < 0)
                return r;
        if (r == 0) {
                if (ret_holder)
                        *ret_holder = find_holder(fd);
                return -EBUSY;
        }
        int ret = fd;
        fd = -1;
        return ret;
}
