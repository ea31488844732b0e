/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>

#include "log.h"

static int max_level = LOG_INFO;

void log_set_max_level(int level) { max_level = level; }

void log_full(int level, const char *fmt, ...) {
        va_list ap;
        int saved_errno = errno;        /* callers often log, then return -errno */

        if (level > max_level)
                return;
        /* "<N>" lets journald (StandardError=journal) take the priority. */
        fprintf(stderr, "<%d>", level);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        errno = saved_errno;
}
