/* SPDX-License-Identifier: Apache-2.0 */
/* glibc's regcomp() copies a repeated atom once per repetition ("x{3}" is
 * "xxx", "x+" is "xx*"), so nested counts multiply: the 20-byte
 * "((a{255}){255}){255}" takes seconds and gigabytes (found by fuzz-type-file).
 * Type files come from admins, but a typo must not hang the daemon at start:
 * estimate the expanded size and refuse what would blow up. The shipped
 * patterns expand to well under the limit.
 *
 * Back-references ("\1") are not a regular language: glibc matches them by
 * backtracking, and "^(a*)*\1c$" against 1,000 bytes took 38 s of CPU in
 * one AddSecret, blocking every call. They are refused outright; every other
 * POSIX ERE construct is regular, and glibc matches it without backtracking. */

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "secret-types.h"

#define PATTERN_EXPANDED_MAX 1000
#define PATTERN_DEPTH_MAX 32
#define PATTERN_LENGTH_MAX 1024

/* Skips a bracket expression starting at p ('['); returns its last char. */
static const char *skip_bracket(const char *p) {
        p++;
        if (*p == '^')
                p++;
        if (*p == ']')
                p++;
        for (; *p && *p != ']'; p++)
                if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
                        const char *close = strchr(p + 2, p[1]);
                        while (close && close[1] != ']')
                                close = strchr(close + 1, p[1]);
                        if (!close)
                                return p + strlen(p) - 1;
                        p = close + 1;
                }
        return *p ? p : p - 1;
}

/* The count of a repetition operator at p, advancing p past an interval. */
static unsigned long repetition_copies(const char **p) {
        const char *q = *p;
        unsigned long copies = 1;
        char *end;

        if (*q == '+')
                return 2;
        copies = strtoul(q + 1, &end, 10);              /* '{' */
        if (*end == ',')
                copies = end[1] == '}' ? copies + 1 : strtoul(end + 1, &end, 10);
        if (*end == ',')
                end++;
        if (*end == '}')
                *p = end;
        return copies == 0 ? 1 : copies;
}

const char *regex_pattern_problem(const char *p) {
        static const char too_complex[] = "pattern too complex (its repetitions expand too far; at most 1024 bytes)";
        unsigned long size[PATTERN_DEPTH_MAX + 1] = { 0 }, last = 0;
        size_t depth = 0;

        if (strlen(p) > PATTERN_LENGTH_MAX)
                return too_complex;
        for (; *p; p++) {
                unsigned long copies;

                switch (*p) {
                case '(':
                        if (++depth > PATTERN_DEPTH_MAX)
                                return too_complex;
                        size[depth] = 0;
                        last = 0;
                        continue;
                case ')':
                        if (depth == 0)
                                break;          /* a literal; regcomp decides */
                        last = size[depth--];
                        size[depth] += last;
                        continue;
                case '*':
                case '?':
                        continue;
                case '+':
                case '{':
                        copies = repetition_copies(&p);
                        if (last > PATTERN_EXPANDED_MAX || copies > PATTERN_EXPANDED_MAX)
                                return too_complex;
                        size[depth] += last * (copies - 1);     /* copies - 1 more of the last atom */
                        last *= copies;
                        if (size[depth] > PATTERN_EXPANDED_MAX)
                                return too_complex;
                        continue;
                case '[':
                        p = skip_bracket(p);
                        break;
                case '\\':
                        /* Inside brackets a backslash is literal (skip_bracket);
                         * out here glibc reads \1 to \9 as back-references. */
                        if (p[1] >= '1' && p[1] <= '9')
                                return "back-references (\\1 to \\9) are not allowed: they make matching "
                                       "exponentially slow";
                        if (p[1])
                                p++;
                        break;
                default:
                        break;
                }
                last = 1;
                size[depth] += 1;
        }
        return size[0] <= PATTERN_EXPANDED_MAX ? NULL : too_complex;
}

/* Reads the interval at p ('{'): a count, optionally ',' and another. True
 * when it is one regcomp() takes as it is: digits only, min <= max <=
 * RE_DUP_MAX; *ret_end is its '}'. */
static bool interval_plain(const char *p, unsigned long *ret_min, unsigned long *ret_max, bool *ret_open,
                           const char **ret_end) {
        char *end;

        if (p[1] < '0' || p[1] > '9')
                return false;
        unsigned long min = strtoul(p + 1, &end, 10), max = min;
        bool open = false;
        if (*end == ',') {
                if (end[1] == '}')
                        open = true, end++;
                else if (end[1] >= '0' && end[1] <= '9')
                        max = strtoul(end + 1, &end, 10);
                else
                        return false;
        }
        if (*end != '}' || min > RE_DUP_MAX || max > RE_DUP_MAX || (!open && min > max))
                return false;
        *ret_min = min;
        *ret_max = max;
        *ret_open = open;
        *ret_end = end;
        return true;
}

char *regex_check_form(const char *p) {
        /* At most "{1,1}" for each interval of at least 3 bytes: no longer. */
        char *out = malloc(strlen(p) * 2 + 1), *o = out;
        if (!out)
                return NULL;
        while (*p) {
                const char *end;
                unsigned long min, max;
                bool open;

                if (*p == '[') {
                        end = skip_bracket(p);
                        size_t n = (size_t) (end - p) + 1;
                        memcpy(o, p, n);
                        o += n;
                        p += n;
                } else if (*p == '\\' && p[1]) {
                        *o++ = *p++;
                        *o++ = *p++;
                } else if (*p == '{' && interval_plain(p, &min, &max, &open, &end)) {
                        /* Zero stays zero (it removes the atom); more becomes one. */
                        if (open)
                                o += sprintf(o, "{%d,}", min > 0);
                        else if (min == max)
                                o += sprintf(o, "{%d}", min > 0);
                        else
                                o += sprintf(o, "{%d,%d}", min > 0, max > 0);
                        p = end + 1;
                } else
                        *o++ = *p++;
        }
        *o = 0;
        return out;
}
