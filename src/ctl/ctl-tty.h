/* SPDX-License-Identifier: Apache-2.0 */
/* Prompts on the controlling terminal: values are typed there (never taken
 * from argv), secret ones with echo off; the terminal's modes are restored on
 * every way out, including ^C and SIGTERM. */
#pragma once

#include "util.h"

/* Opens /dev/tty for reading and writing; -errno when there is none. */
int tty_open(void);

/* Writes to the terminal. */
void tty_printf(int fd, const char *fmt, ...) _printf_(2, 3);

/* Prints the prompt and reads one line (without its newline, at most
 * OV_FIELD_MAX bytes) into *ret, which the caller frees with
 * free_secret_string. hidden: echo off. Returns 0, -ECANCELED on end of
 * input (^D), -E2BIG for an overlong line (consumed), or -errno. */
int tty_read_line(int fd, const char *prompt, bool hidden, char **ret);

/* Asks a [y/N] question on stderr and reads the answer from stdin (a
 * terminal or not, like rm -i). Only y/yes answers yes; end of input is no. */
bool ask_yes_no(const char *question);
