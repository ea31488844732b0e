/* SPDX-License-Identifier: Apache-2.0 */
/* pam_orgvault's module arguments (pam_orgvault(8)). No libpam here, so the
 * unit tests can drive the parser directly. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define PAM_OV_CREDENTIALS_MAX 64
#define PAM_OV_CREDENTIAL_ID_MAX 193     /* <org 63>.<id 64>.<field 64> */
#define PAM_OV_ADDRESS_MAX 4096
#define PAM_OV_TIMEOUT_MAX 315360000U    /* ten years, in seconds */

typedef struct PamOptions {
        char **credentials;      /* in the order given, duplicates dropped */
        size_t n_credentials;
        unsigned timeout;        /* seconds; 0: the keys do not expire */
        bool debug;
        char *bus_address;       /* NULL: the system bus */
        unsigned n_bad;          /* known options with unusable values (each logged) */
} PamOptions;

/* Where the parser's messages go: pam_syslog in the module, a buffer in the
 * tests. Messages never hold more than the arguments themselves. */
typedef void (*PamOptionsLog)(void *userdata, int priority, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Parses argv as the PAM stack passes it. Unknown options are logged and
 * ignored; a known option with an unusable value is logged, skipped and
 * counted in n_bad (the session then counts it as a failure). Returns 0 or
 * -ENOMEM. */
int pam_options_parse(int argc, const char **argv, PamOptions *ret, PamOptionsLog log, void *userdata);
void pam_options_clear(PamOptions *o);

/* The shape a credential id can have ([a-z0-9_-] parts joined by single
 * dots, two or three parts). The daemon parses it strictly; this only keeps
 * junk from a typo out of requests and key descriptions. */
bool pam_credential_id_plausible(const char *s);
