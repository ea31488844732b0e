/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>

#include "log.h"

static int max_level = LOG_INFO;

void log_set_max_level(int level) { max_level = level; }

/* err > 0: the errno "%m" prints; 0: errno as the caller left it. */
_printf_(3, 0) static void log_va(int level, int err, const char *fmt, va_list ap) {
        int saved_errno = errno;

        /* "<N>" lets journald (StandardError=journal) take the priority. */
        fprintf(stderr, "<%d>", level);
        errno = err > 0 ? err : saved_errno;
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

void log_full(int level, const char *fmt, ...) {
        va_list ap;
        int saved_errno = errno;        /* callers often log, then return -errno */

        if (level > max_level)
                return;
        va_start(ap, fmt);
        log_va(level, 0, fmt, ap);
        va_end(ap);
        errno = saved_errno;
}

int log_full_errno(int level, int r, const char *fmt, ...) {
        va_list ap;
        int saved_errno = errno;

        if (level > max_level)
                return r;
        va_start(ap, fmt);
        log_va(level, r < 0 ? -r : r, fmt, ap);
        va_end(ap);
        errno = saved_errno;
        return r;
}
