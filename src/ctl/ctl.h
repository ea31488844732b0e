/* SPDX-License-Identifier: Apache-2.0 */
/* orgvaultctl's shared state: the parsed command line, the bus connection,
 * exit codes, and the helpers every verb uses to reach the Manager. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "util.h"

/* Exit codes, documented in orgvaultctl(1). */
enum {
        CTL_EXIT_OK = 0,
        CTL_EXIT_FAILURE = 1,         /* anything not listed below */
        CTL_EXIT_USAGE = 2,           /* bad command line or input document */
        CTL_EXIT_CANCELLED = 3,       /* confirmation declined, prompt interrupted */
        CTL_EXIT_ACCESS_DENIED = 4,
        CTL_EXIT_NOT_FOUND = 5,       /* secret, type or org */
        CTL_EXIT_CONFLICT = 6,        /* NameExists, InUse */
        CTL_EXIT_INVALID = 7,         /* InvalidField, InvalidArgs */
        CTL_EXIT_SEALED = 8,
};

typedef enum JsonMode { JSON_OFF, JSON_SHORT, JSON_PRETTY } JsonMode;

typedef struct Ctl {
        /* options */
        const char *address;
        const char *org_arg;
        JsonMode json;
        bool legend;
        bool pager;
        bool yes;
        bool force;
        const char *type_filter;
        const char *feature_filter;
        const char *name;
        const char *id;
        const char *fields_json;
        bool has_due;
        unsigned due_days;
        bool has_expires;
        uint64_t expires;        /* µs since the epoch; 0 = never */
        bool has_rotate_every;
        unsigned rotate_every_days;
        /* verb arguments after the verb itself */
        char **args;
        int n_args;
        /* state */
        sd_bus *bus;
        char *org;               /* resolved org (ctl_need_org) */
} Ctl;

#define OV_BUS_NAME "io.orgvault.Vault1"
#define OV_BUS_PATH "/io/orgvault/Vault1"
#define OV_BUS_IFACE "io.orgvault.Vault1.Manager"

/* Prints a one-line error to stderr and returns code. */
int ctl_fail(int code, const char *fmt, ...) _printf_(2, 3);

int ctl_connect(Ctl *c);

/* Reports a failed call in one line and returns the exit code.
 * `doing` says what was refused ("adding secrets"), `role` the role the
 * action needs ("admin", "member", or NULL for actions with none). */
int ctl_bus_fail(const Ctl *c, const sd_bus_error *e, int r, const char *doing, const char *role);

/* Calls a Manager method; on failure reports and returns the exit code (>0). */
int ctl_call(Ctl *c, const char *doing, const char *role, sd_bus_message **reply,
             const char *method, const char *types, ...);

/* Reads the next value of m (any D-Bus type) as JSON: a{sv} and other
 * dictionaries become objects, arrays and structs arrays, numbers numbers. */
int bus_read_json(sd_bus_message *m, json_t **ret);

/* The caller's role in c->org as ListOrgs says ("admin", "member", ...);
 * NULL when it lists none there. Returns 0 or an exit code. */
int ctl_caller_role(Ctl *c, char **ret);

/* Whether the caller is admin of c->org as ListOrgs says (true when it lists
 * no role there: the daemon will say). Members and consumers are not asked for
 * values or a confirmation that could only end in AccessDenied; the verb makes
 * its call without them, so the daemon decides and audits the refusal. */
int ctl_is_admin(Ctl *c, bool *ret);

/* Sets c->org from --org or the caller's only org (ListOrgs). */
int ctl_need_org(Ctl *c);

/* Resolves SECRET (an id or a display name) to its id, name and type. */
typedef struct SecretRef {
        char *id;
        char *name;
        char *type;
        uint64_t created;
        uint64_t updated;
        uint32_t refs;
} SecretRef;
void secret_ref_clear(SecretRef *s);
int ctl_find_secret(Ctl *c, const char *what, SecretRef *ret);

/* "30" -> 30 (0..36500); "2026-12-31", "2026-12-31 18:00" (local time) or
 * "never" (0) -> µs since the epoch. -EINVAL when malformed. */
int ctl_parse_days(const char *s, unsigned *ret);
int ctl_parse_date(const char *s, uint64_t *ret);

/* Verbs: each returns an exit code. */
int verb_list(Ctl *c);
int verb_types(Ctl *c);
int verb_describe_type(Ctl *c);
int verb_add(Ctl *c);
int verb_update(Ctl *c);
int verb_show(Ctl *c);
int verb_refs(Ctl *c);
int verb_rename(Ctl *c);
int verb_delete(Ctl *c);
int verb_history(Ctl *c);
int verb_rollback(Ctl *c);
int verb_trash(Ctl *c);
int verb_remind(Ctl *c);
int verb_restore(Ctl *c);
int verb_purge(Ctl *c);
int verb_status(Ctl *c);
int verb_seal(Ctl *c);
int verb_unseal(Ctl *c);
int verb_rotate_keys(Ctl *c);
int verb_credential(Ctl *c);     /* ctl-credential.c: no bus */
