/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <termios.h>

#include "ctl-tty.h"

int tty_open(void) {
        int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

void tty_printf(int fd, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vdprintf(fd, fmt, ap);
        va_end(ap);
}

/* The modes to put back if a signal ends us while echo is off. Signal
 * handlers may only touch these. */
static volatile sig_atomic_t saved_valid;
static int saved_fd = -1;
static struct termios saved_modes;
static const int restore_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void restore_and_die(int sig) {
        if (saved_valid)
                tcsetattr(saved_fd, TCSANOW, &saved_modes);
        signal(sig, SIG_DFL);
        raise(sig);
}

static int echo_off(int fd) {
        struct termios modes;
        struct sigaction sa = { .sa_handler = restore_and_die };

        if (tcgetattr(fd, &saved_modes) < 0)
                return -errno;
        saved_fd = fd;
        saved_valid = 1;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(restore_signals); i++)
                sigaction(restore_signals[i], &sa, NULL);

        modes = saved_modes;
        modes.c_lflag &= ~(tcflag_t) (ECHO | ECHOE | ECHOK);
        modes.c_lflag |= ECHONL;
        if (tcsetattr(fd, TCSAFLUSH, &modes) < 0) {
                int r = -errno;
                saved_valid = 0;
                return r;
        }
        return 0;
}

static void echo_restore(int fd) {
        struct sigaction sa = { .sa_handler = SIG_DFL };

        tcsetattr(fd, TCSAFLUSH, &saved_modes);
        saved_valid = 0;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(restore_signals); i++)
                sigaction(restore_signals[i], &sa, NULL);
}

int tty_read_line(int fd, const char *prompt, bool hidden, char **ret) {
        size_t len = 0;
        bool overlong = false;
        char *buf;
        int r = 0;

        buf = malloc(OV_FIELD_MAX + 1);
        if (!buf)
                return -ENOMEM;
        if (hidden) {
                r = echo_off(fd);
                if (r < 0) {
                        free(buf);
                        return r;
                }
        }
        tty_printf(fd, "%s", prompt);

        for (;;) {
                char ch;
                ssize_t n = read(fd, &ch, 1);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                if (n == 0) {
                        r = -ECANCELED;
                        break;
                }
                if (ch == '\n')
                        break;
                if (len < OV_FIELD_MAX)
                        buf[len++] = ch;
                else
                        overlong = true;
        }
        if (hidden)
                echo_restore(fd);
        if (r == -ECANCELED && len == 0)
                tty_printf(fd, "\n");
        else if (r == -ECANCELED)
                r = 0;          /* a last line without newline still counts */
        if (r == 0 && overlong)
                r = -E2BIG;
        if (r < 0) {
                explicit_bzero(buf, OV_FIELD_MAX + 1);
                free(buf);
                return r;
        }
        if (len > 0 && buf[len - 1] == '\r')
                len--;
        buf[len] = 0;
        *ret = buf;
        return 0;
}

bool ask_yes_no(const char *question) {
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        ssize_t n;

        fflush(stdout);
        fprintf(stderr, "%s [y/N] ", question);
        fflush(stderr);
        n = getline(&line, &size, stdin);
        if (n <= 0) {
                fputc('\n', stderr);
                return false;
        }
        line[strcspn(line, "\r\n")] = 0;
        if (!isatty(STDIN_FILENO))
                fputc('\n', stderr);       /* the answer was not echoed */
        return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}
