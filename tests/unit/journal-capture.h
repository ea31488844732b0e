/* SPDX-License-Identifier: Apache-2.0 */
/* What a test needs to see a journal entry as journald would receive it:
 * the entry is emitted in a child that has its own /run with a datagram
 * socket where journald's would be (needs root for the mount namespace);
 * the fields are then read back from the native protocol. */
#pragma once

#include <check.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

typedef struct Entry {
        char data[65536];
        size_t len;
} Entry;

/* Runs emit(arg) in a child with a private /run and returns the datagram
 * it sent to /run/systemd/journal/socket. */
static void journal_capture(void (*emit)(const void *arg), const void *arg, Entry *ret) {
        int pipefd[2];
        pid_t pid;
        int status;

        ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/socket" };
                static char buf[65536];
                int fd;

                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0 ||
                    mkdir("/run/systemd", 0755) < 0 || mkdir("/run/systemd/journal", 0755) < 0)
                        _exit(2);
                fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                        _exit(3);
                emit(arg);
                ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (n <= 0 || write(pipefd[1], buf, (size_t) n) != n)
                        _exit(4);
                _exit(0);
        }
        close(pipefd[1]);
        ret->len = 0;
        for (;;) {
                ssize_t n = read(pipefd[0], ret->data + ret->len, sizeof ret->data - 1 - ret->len);
                ck_assert_int_ge(n, 0);
                if (n == 0)
                        break;
                ret->len += (size_t) n;
        }
        close(pipefd[0]);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "journal capture failed: %d", status);
        ret->data[ret->len] = 0;
}

/* The value of field name in the native protocol ("NAME=value\n", or
 * "NAME\n" + little-endian 64-bit length + bytes + "\n" when the value has a
 * newline), malloc'd; NULL when absent. ck-asserts it occurs at most once. */
static char *field(const Entry *e, const char *name) {
        char *found = NULL;

        for (size_t i = 0; i < e->len;) {
                const char *line = e->data + i, *nl = memchr(line, '\n', e->len - i);
                const char *eq = memchr(line, '=', e->len - i);
                const char *value;
                size_t name_len, value_len;

                ck_assert_ptr_nonnull(nl);
                if (eq && eq < nl) {
                        name_len = (size_t) (eq - line);
                        value = eq + 1;
                        value_len = (size_t) (nl - value);
                        i = (size_t) (nl + 1 - e->data);
                } else {
                        uint64_t le = 0;
                        name_len = (size_t) (nl - line);
                        memcpy(&le, nl + 1, sizeof le);
                        value = nl + 1 + sizeof le;
                        value_len = (size_t) le;
                        i = (size_t) (value + value_len + 1 - e->data);
                        ck_assert_uint_le(i, e->len);
                }
                if (name_len == strlen(name) && memcmp(line, name, name_len) == 0) {
                        ck_assert_msg(!found, "field %s twice", name);
                        found = strndup(value, value_len);
                }
        }
        return found;
}

static void assert_field(const Entry *e, const char *name, const char *want) {
        _cleanup_free_ char *v = field(e, name);
        if (!want)
                ck_assert_msg(!v, "%s should be absent, is %s", name, v);
        else {
                ck_assert_msg(v != NULL, "%s missing", name);
                ck_assert_str_eq(v, want);
        }
}
