/* SPDX-License-Identifier: Apache-2.0 */
/* Logging to stderr with sd-daemon priority prefixes ("<3>..."), which the
 * journal turns into priorities when the daemon runs under systemd. Never log
 * a value. */
#pragma once

#include <syslog.h>
#include "util.h"

void log_set_max_level(int level);      /* LOG_DEBUG .. LOG_ERR; default LOG_INFO */
void log_full(int level, const char *fmt, ...) _printf_(2, 3);
#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

/* The same with an error: r is a negative errno, which "%m" in fmt prints
 * (strerror(-r)); returns r, so `return log_error_errno(r, "Cannot x: %m");`. */
int log_full_errno(int level, int r, const char *fmt, ...) _printf_(3, 4);
#define log_debug_errno(r, ...)   log_full_errno(LOG_DEBUG, r, __VA_ARGS__)
#define log_info_errno(r, ...)    log_full_errno(LOG_INFO, r, __VA_ARGS__)
#define log_notice_errno(r, ...)  log_full_errno(LOG_NOTICE, r, __VA_ARGS__)
#define log_warning_errno(r, ...) log_full_errno(LOG_WARNING, r, __VA_ARGS__)
#define log_error_errno(r, ...)   log_full_errno(LOG_ERR, r, __VA_ARGS__)
