/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "ctl-output.h"

static bool colors;
static pid_t pager_pid;

void output_init(void) {
        const char *t = getenv("TERM"), *sc = getenv("SYSTEMD_COLORS");

        colors = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !(t && strcmp(t, "dumb") == 0) &&
                 !(sc && (strcmp(sc, "0") == 0 || strcmp(sc, "false") == 0 || strcmp(sc, "no") == 0));
}

bool output_colors(void) {
        return colors;
}

const char *ansi_highlight(void) {
        return colors ? "\033[1m" : "";
}

const char *ansi_grey(void) {
        return colors ? "\033[0;38;5;245m" : "";
}

const char *ansi_normal(void) {
        return colors ? "\033[0m" : "";
}

/* Runs in the child: exec the configured pager, else less, else more, else
 * copy through so output is never lost. */
static _Noreturn void pager_exec(int read_fd) {
        const char *pager = getenv("SYSTEMD_PAGER") ?: getenv("PAGER");
        const char *less = getenv("SYSTEMD_LESS");
        char buf[4096];
        ssize_t n;

        if (dup2(read_fd, STDIN_FILENO) < 0)
                _exit(EXIT_FAILURE);
        setenv("LESS", less ?: "FRSXMK", 1);
        if (pager)
                execl("/bin/sh", "sh", "-c", pager, (char *) NULL);
        execlp("less", "less", (char *) NULL);
        execlp("more", "more", (char *) NULL);
        while ((n = read(STDIN_FILENO, buf, sizeof buf)) > 0)
                if (write(STDOUT_FILENO, buf, (size_t) n) != n)
                        break;
        _exit(EXIT_SUCCESS);
}

void pager_open(bool enabled) {
        const char *pager = getenv("SYSTEMD_PAGER") ?: getenv("PAGER");
        int fd[2];
        pid_t pid;

        if (!enabled || pager_pid > 0 || !isatty(STDOUT_FILENO))
                return;
        if (pager && (!*pager || strcmp(pager, "cat") == 0))
                return;
        if (pipe2(fd, O_CLOEXEC) < 0)
                return;
        fflush(stdout);
        pid = fork();
        if (pid < 0) {
                close(fd[0]);
                close(fd[1]);
                return;
        }
        if (pid == 0)
                pager_exec(fd[0]);
        /* The pager quits on ^C (less -K); we have nothing left to clean up. */
        if (dup2(fd[1], STDOUT_FILENO) < 0) {
                close(fd[0]);
                close(fd[1]);
                kill(pid, SIGTERM);
                waitpid(pid, NULL, 0);
                return;
        }
        close(fd[0]);
        close(fd[1]);
        pager_pid = pid;
}

void pager_close(void) {
        if (pager_pid <= 0)
                return;
        fflush(stdout);
        /* EOF for the pager, which then waits for the user. */
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) {
                dup2(null, STDOUT_FILENO);
                close(null);
        } else
                close(STDOUT_FILENO);
        while (waitpid(pager_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        pager_pid = 0;
}

const char *format_time(char buf[static TIME_BUF], uint64_t usec) {
        time_t sec = (time_t) (usec / 1000000);
        struct tm tm;

        if (usec == 0 || !localtime_r(&sec, &tm) || strftime(buf, TIME_BUF, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                return "-";
        return buf;
}

struct Table {
        const char *const *headers;
        size_t n_cols;
        char **cells;
        size_t n_cells;
};

Table *table_new(const char *const *headers, size_t n_cols) {
        Table *t = calloc(1, sizeof *t);

        if (t) {
                t->headers = headers;
                t->n_cols = n_cols;
        }
        return t;
}

void table_free(Table *t) {
        if (!t)
                return;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
}

int table_add(Table *t, const char *cell) {
        char **n = reallocarray(t->cells, t->n_cells + 1, sizeof *n);

        if (!n)
                return -ENOMEM;
        t->cells = n;
        t->cells[t->n_cells] = strdup(cell ?: "");
        if (!t->cells[t->n_cells])
                return -ENOMEM;
        t->n_cells++;
        return 0;
}

size_t table_rows(const Table *t) {
        return t->n_cells / t->n_cols;
}

/* One column per code point: names are text, not wide CJK art, and a rare
 * misalignment beats depending on the locale. */
size_t text_width(const char *s) {
        size_t w = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xC0) != 0x80)
                        w++;
        return w;
}

static void print_row(const Table *t, const char *const *row, const size_t *widths, const char *on, const char *off) {
        fputs(on, stdout);
        for (size_t c = 0; c < t->n_cols; c++) {
                bool last = c + 1 == t->n_cols;

                fputs(row[c], stdout);
                if (!last)
                        printf("%*s", (int) (widths[c] - text_width(row[c]) + 1), "");
        }
        fputs(off, stdout);
        fputc('\n', stdout);
}

void table_print(const Table *t, bool header) {
        _cleanup_free_ size_t *widths = calloc(t->n_cols, sizeof *widths);

        if (!widths)
                return;
        for (size_t c = 0; c < t->n_cols; c++)
                widths[c] = header ? text_width(t->headers[c]) : 0;
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t w = text_width(t->cells[i]);
                if (w > widths[i % t->n_cols])
                        widths[i % t->n_cols] = w;
        }
        if (header)
                print_row(t, t->headers, widths, ansi_highlight(), ansi_normal());
        for (size_t r = 0; r < table_rows(t); r++)
                print_row(t, (const char *const *) t->cells + r * t->n_cols, widths, "", "");
}

int json_print(json_t *doc, JsonMode mode) {
        size_t flags = JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | (mode == JSON_PRETTY ? JSON_INDENT(2) : JSON_COMPACT);

        if (!doc || json_dumpf(doc, stdout, flags) < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Failed to write JSON output: out of memory.");
        fputc('\n', stdout);
        return 0;
}

json_t *strv_json(char **l) {
        json_t *a = json_array();
        for (size_t i = 0; a && l && l[i]; i++)
                if (json_array_append_new(a, json_string(l[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

/* "LastUsedBy" → "last_used_by": the daemon's a{sv} keys are D-Bus style,
 * orgvaultctl's JSON is snake_case throughout (orgvaultctl(1), JSON OUTPUT). */
static char *snake_case(const char *k) {
        size_t n = strlen(k);
        char *out = malloc(2 * n + 1), *p = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                char ch = k[i];
                if (ch >= 'A' && ch <= 'Z') {
                        if (i > 0 && k[i - 1] != '_')
                                *p++ = '_';
                        ch = (char) (ch - 'A' + 'a');
                }
                *p++ = ch;
        }
        *p = 0;
        return out;
}

json_t *json_snake_keys(json_t *obj) {
        json_t *out = json_object(), *v;
        const char *k;

        json_object_foreach(obj, k, v) {
                _cleanup_free_ char *sk = snake_case(k);
                if (!out || !sk || json_object_set(out, sk, v) < 0) {
                        json_decref(out);
                        return NULL;
                }
        }
        return out;
}
