/* SPDX-License-Identifier: Apache-2.0 */
/* The verbs of a secret's life: history and rollback (kept versions),
 * trash, restore and purge (the org's trash); the parsing of the reminder
 * options (--expires, --rotate-every, --due). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ctl-output.h"
#include "ctl-tty.h"

#define DAYS_MAX 36500

int ctl_parse_days(const char *s, unsigned *ret) {
        char *end = NULL;
        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno != 0 || *end || v > DAYS_MAX)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int ctl_parse_date(const char *s, uint64_t *ret) {
        static const char *const formats[] = { "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d" };
        if (s && strcmp(s, "never") == 0) {
                *ret = 0;
                return 0;
        }
        for (size_t i = 0; s && i < ELEMENTSOF(formats); i++) {
                struct tm tm = { .tm_isdst = -1 };
                const char *end = strptime(s, formats[i], &tm);
                if (!end || *end)
                        continue;
                time_t t = mktime(&tm);
                if (t <= 0)
                        return -EINVAL;
                *ret = (uint64_t) t * 1000000ULL;
                return 0;
        }
        return -EINVAL;
}

typedef struct Trashed {
        char *id, *name, *type;
        uint64_t deleted;
        uint32_t refs;
} Trashed;

static void trashed_free(Trashed *l, size_t n) {
        for (size_t i = 0; l && i < n; i++) {
                free(l[i].id);
                free(l[i].name);
                free(l[i].type);
        }
        free(l);
}

/* ListTrash of c->org. */
static int list_trash(Ctl *c, Trashed **ret, size_t *ret_n) {
        sd_bus_message *reply = NULL;
        const char *id, *name, *type;
        uint64_t deleted;
        uint32_t refs;
        Trashed *l = NULL;
        size_t n = 0;
        int r;

        r = ctl_need_org(c);
        if (r > 0)
                return r;
        r = ctl_call(c, "listing the trash", "member", &reply, "ListTrash", "s", c->org);
        if (r > 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ssstu)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssstu)", &id, &name, &type, &deleted, &refs)) > 0) {
                Trashed *nl = reallocarray(l, n + 1, sizeof *nl);
                if (!nl) {
                        r = -ENOMEM;
                        break;
                }
                l = nl;
                l[n++] = (Trashed) { strdup(id), strdup(name), strdup(type), deleted, refs };
                if (!l[n - 1].id || !l[n - 1].name || !l[n - 1].type)
                        r = -ENOMEM;
        }
        sd_bus_message_unref(reply);
        if (r < 0) {
                trashed_free(l, n);
                return ctl_fail(CTL_EXIT_FAILURE, "Failed to read the trash: %s.", strerror(-r));
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

/* The trash entry SECRET names, by id first, then by display name. */
static int find_trashed(Ctl *c, const char *what, Trashed **ret_list, size_t *ret_n, const Trashed **ret) {
        Trashed *l = NULL;
        size_t n = 0;
        int r = list_trash(c, &l, &n);
        if (r > 0)
                return r;
        const Trashed *found = NULL;
        for (size_t i = 0; i < n && !found; i++)
                if (strcmp(l[i].id, what) == 0)
                        found = &l[i];
        for (size_t i = 0; i < n && !found; i++)
                if (strcasecmp(l[i].name, what) == 0)
                        found = &l[i];
        if (!found) {
                trashed_free(l, n);
                return ctl_fail(CTL_EXIT_NOT_FOUND, "No secret \"%s\" in the trash of org %s; see 'orgvaultctl trash'.",
                                what, c->org);
        }
        *ret_list = l;
        *ret_n = n;
        *ret = found;
        return 0;
}

int verb_trash(Ctl *c) {
        static const char *const headers[] = { "NAME", "ID", "TYPE", "DELETED", "USED BY" };
        _cleanup_table_ Table *t = NULL;
        Trashed *l = NULL;
        size_t n = 0;
        int r;

        r = list_trash(c, &l, &n);
        if (r > 0)
                return r;
        pager_open(c->pager);
        if (c->json != JSON_OFF) {
                _cleanup_json_ json_t *doc = json_array();
                for (size_t i = 0; doc && i < n; i++)
                        if (json_array_append_new(doc, json_pack("{s:s,s:s,s:s,s:I,s:I}", "id", l[i].id, "name",
                                                                  l[i].name, "type", l[i].type, "deleted",
                                                                  (json_int_t) l[i].deleted, "references",
                                                                  (json_int_t) l[i].refs)) < 0) {
                                json_decref(doc);
                                doc = NULL;
                        }
                trashed_free(l, n);
                return json_print(doc, c->json);
        }
        t = table_new(headers, ELEMENTSOF(headers));
        for (size_t i = 0; t && i < n && r == 0; i++) {
                char when[TIME_BUF], count[16];
                snprintf(count, sizeof count, "%" PRIu32, l[i].refs);
                if (table_add(t, l[i].name) < 0 || table_add(t, l[i].id) < 0 || table_add(t, l[i].type) < 0 ||
                    table_add(t, format_time(when, l[i].deleted)) < 0 || table_add(t, count) < 0)
                        r = -ENOMEM;
        }
        trashed_free(l, n);
        if (!t || r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        table_print(t, c->legend);
        if (c->legend)
                printf("\n%zu secret%s in the trash.\n", table_rows(t), table_rows(t) == 1 ? "" : "s");
        return 0;
}

int verb_restore(Ctl *c) {
        const Trashed *s = NULL;
        Trashed *l = NULL;
        size_t n = 0;
        int r;

        r = find_trashed(c, c->args[0], &l, &n, &s);
        if (r > 0)
                return r;
        r = ctl_call(c, "restoring secrets", "admin", NULL, "RestoreSecret", "ss", c->org, s->id);
        if (r == 0 && c->json == JSON_OFF)
                printf("Restored \"%s\" (%s)%s.\n", s->name, s->id,
                       s->refs > 0 ? " with its references: the features using it are served again" : "");
        trashed_free(l, n);
        return r;
}

int verb_purge(Ctl *c) {
        _cleanup_free_ char *question = NULL;
        const Trashed *s = NULL;
        Trashed *l = NULL;
        bool admin = true;
        size_t n = 0;
        int r;

        r = find_trashed(c, c->args[0], &l, &n, &s);
        if (r == 0)
                r = ctl_is_admin(c, &admin);
        if (r == 0 && !admin) {
                /* No confirmation for a call the daemon will refuse (and audit). */
                r = ctl_call(c, "purging secrets", "admin", NULL, "PurgeSecret", "ss", c->org, s->id);
                goto out;
        }
        if (r > 0)
                goto out;
        if (!c->yes) {
                question = strdup_printf("Destroy secret \"%s\" (%s) and all its versions for good?", s->name, s->id);
                if (!question) {
                        r = ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
                        goto out;
                }
                if (!ask_yes_no(question)) {
                        r = ctl_fail(CTL_EXIT_CANCELLED, "Not purged.");
                        goto out;
                }
        }
        r = ctl_call(c, "purging secrets", "admin", NULL, "PurgeSecret", "ss", c->org, s->id);
out:
        trashed_free(l, n);
        return r;
}

int verb_history(Ctl *c) {
        static const char *const headers[] = { "VERSION", "SET", "BY", "KEY" };
        _cleanup_table_ Table *t = NULL;
        _cleanup_json_ json_t *doc = NULL;
        sd_bus_message *reply = NULL;
        SecretRef s = {};
        const char *by;
        uint64_t set;
        uint32_t version, key_id;
        bool first = true;
        int r;

        r = ctl_find_secret(c, c->args[0], &s);
        if (r > 0)
                return r;
        r = ctl_call(c, "listing a secret's versions", "member", &reply, "ListVersions", "ss", c->org, s.id);
        secret_ref_clear(&s);
        if (r > 0)
                return r;
        doc = json_array();
        t = table_new(headers, ELEMENTSOF(headers));
        r = doc && t ? sd_bus_message_enter_container(reply, 'a', "(utsu)") : -ENOMEM;
        while (r >= 0 && (r = sd_bus_message_read(reply, "(utsu)", &version, &set, &by, &key_id)) > 0) {
                char when[TIME_BUF], v[32], k[16];
                snprintf(v, sizeof v, "%" PRIu32 "%s", version, first ? " (current)" : "");
                snprintf(k, sizeof k, "%" PRIu32, key_id);
                if (json_array_append_new(doc, json_pack("{s:I,s:I,s:s,s:I,s:b}", "version", (json_int_t) version,
                                                         "set", (json_int_t) set, "by", by, "key_id",
                                                         (json_int_t) key_id, "current", first)) < 0 ||
                    table_add(t, v) < 0 || table_add(t, format_time(when, set)) < 0 ||
                    table_add(t, *by ? by : "-") < 0 || table_add(t, k) < 0)
                        r = -ENOMEM;
                first = false;
        }
        sd_bus_message_unref(reply);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Failed to read the versions: %s.", strerror(-r));
        pager_open(c->pager);
        if (c->json != JSON_OFF)
                return json_print(doc, c->json);
        table_print(t, c->legend);
        if (c->legend)
                printf("\n%zu version%s kept. Values are never shown; 'orgvaultctl rollback' brings one back.\n",
                       table_rows(t), table_rows(t) == 1 ? "" : "s");
        return 0;
}

int verb_rollback(Ctl *c) {
        _cleanup_free_ char *question = NULL;
        sd_bus_message *reply = NULL;
        SecretRef s = {};
        uint32_t new_version = 0;
        char *end = NULL;
        int r;

        errno = 0;
        unsigned long version = strtoul(c->args[1], &end, 10);
        if (errno != 0 || !*c->args[1] || *end || version == 0 || version > UINT32_MAX)
                return ctl_fail(CTL_EXIT_USAGE, "Invalid version \"%s\": see 'orgvaultctl history %s'.", c->args[1],
                                c->args[0]);
        bool admin = true;
        r = ctl_find_secret(c, c->args[0], &s);
        if (r == 0)
                r = ctl_is_admin(c, &admin);
        if (r > 0)
                goto out;
        /* No confirmation for a call the daemon will refuse (and audit). */
        if (admin && !c->yes) {
                question = strdup_printf("Make version %lu of \"%s\" (%s) its current value again? The services using it get that value from now on.",
                                         version, s.name, s.id);
                if (!question) {
                        r = ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
                        goto out;
                }
                if (!ask_yes_no(question)) {
                        r = ctl_fail(CTL_EXIT_CANCELLED, "Not rolled back.");
                        goto out;
                }
        }
        r = ctl_call(c, "rolling secrets back", "admin", &reply, "RollbackSecret", "ssu", c->org, s.id,
                     (uint32_t) version);
        if (r > 0)
                goto out;
        r = sd_bus_message_read(reply, "u", &new_version);
        sd_bus_message_unref(reply);
        if (r < 0) {
                r = ctl_fail(CTL_EXIT_FAILURE, "Failed to read the reply: %s.", strerror(-r));
                goto out;
        }
        r = 0;
        if (c->json != JSON_OFF) {
                _cleanup_json_ json_t *doc = json_pack("{s:s,s:I,s:I}", "id", s.id, "from", (json_int_t) version,
                                                       "version", (json_int_t) new_version);
                r = json_print(doc, c->json);
        } else
                printf("Rolled \"%s\" (%s) back to the value of version %lu as version %" PRIu32 ".\n", s.name, s.id,
                       version, new_version);
out:
        secret_ref_clear(&s);
        return r;
}

/* What orgvault-reminders.service runs: the daemon writes the entries. */
int verb_remind(Ctl *c) {
        sd_bus_message *reply = NULL;
        unsigned days = c->has_due ? c->due_days : 14;
        uint32_t n = 0;
        int r;

        r = ctl_call(c, "writing reminders", "root", &reply, "LogReminders", "t",
                     days ? (uint64_t) days * 86400ULL * 1000000ULL : 1);
        if (r > 0)
                return r;
        r = sd_bus_message_read(reply, "u", &n);
        sd_bus_message_unref(reply);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Failed to read the reply: %s.", strerror(-r));
        if (c->json != JSON_OFF) {
                _cleanup_json_ json_t *doc = json_pack("{s:I,s:I}", "due_within_days", (json_int_t) days, "reminders",
                                                       (json_int_t) n);
                return json_print(doc, c->json);
        }
        printf("%" PRIu32 " reminder%s written to the journal (secrets due within %u day%s or overdue).\n", n,
               n == 1 ? "" : "s", days, days == 1 ? "" : "s");
        return 0;
}
