/* SPDX-License-Identifier: Apache-2.0 */
/* A secret's life on io.orgvault.Vault1.Manager (docs/API.md): the trash
 * (ListTrash, RestoreSecret, PurgeSecret) and the kept versions
 * (ListVersions, RollbackSecret). Same steps as every Manager method
 * (bus-manager.h): arguments checked, the caller authorized, the vault
 * called, the outcome audited. None of these replies carries a value: a
 * rollback moves ciphertext inside the vault. Each reuses the action of the
 * change it resembles, so policy needs no new action: listing is
 * secret.list, a restore brings a secret in like secret.add, a purge is the
 * end of a secret.delete, a rollback replaces the value like secret.update. */

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "bus-manager.h"
#include "log.h"
#include "reminder.h"

#define USEC_PER_DAY (86400ULL * 1000000ULL)
#define REMINDER_WINDOW_MAX (3650 * USEC_PER_DAY)

const char *bus_caller_name(const BusCaller *c, char buf[static BUS_CALLER_NAME_MAX]) {
        struct passwd pw, *found = NULL;
        char pwbuf[4096];

        if (!c)
                return "";
        if (getpwuid_r(c->uid, &pw, pwbuf, sizeof pwbuf, &found) == 0 && found && found->pw_name &&
            strlen(found->pw_name) < BUS_CALLER_NAME_MAX && utf8_text_valid(found->pw_name, NULL))
                snprintf(buf, BUS_CALLER_NAME_MAX, "%s", found->pw_name);
        else
                snprintf(buf, BUS_CALLER_NAME_MAX, "%u", (unsigned) c->uid);
        return buf;
}

int append_reminders(sd_bus_message *reply, const Secret *s) {
        return sd_bus_message_append(reply, "{sv}{sv}{sv}", "Expires", "t", s->expires, "RotateBy", "t",
                                     secret_rotate_by(s), "Expired", "b",
                                     (int) (s->expires != 0 && s->expires <= now_usec()));
}

/* Reads (org, id) and authorizes action on them. */
static int begin_org_id(Manager *m, sd_bus_message *msg, const char *method, const char *action, Call *c,
                        const char **ret_org, const char **ret_id, sd_bus_error *error) {
        int r = call_begin(m, msg, method, c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "ss", ret_org, ret_id);
        if (r < 0)
                return r;
        r = check_org_id(*ret_org, *ret_id, error);
        if (r < 0)
                return r;
        return authorize(c, *ret_org, action, *ret_id, error);
}

static int method_list_trash(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ const Secret **list = NULL;
        Manager *m = userdata;
        const char *org;
        size_t n = 0;
        OvError e = {};
        Call c;
        int r;

        r = call_begin(m, msg, "ListTrash", &c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "s", &org);
        if (r < 0)
                return r;
        r = check_org(org, error);
        if (r < 0)
                return r;
        r = authorize(&c, org, ACTION_LIST, NULL, error);
        if (r < 0)
                return r;
        r = vault_list_trash(m->vault, org, &list, &n, &e);
        if (r < 0)
                return vault_error(error, r, &e);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssstu)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(ssstu)", list[i]->id, list[i]->name, list[i]->type,
                                          list[i]->deleted, (uint32_t) list[i]->n_refs);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_restore_secret(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *org, *id;
        Manager *m = userdata;
        OvError e = {};
        Call c;
        int r;

        r = begin_org_id(m, msg, "RestoreSecret", ACTION_ADD, &c, &org, &id, error);
        if (r < 0)
                return r;
        r = vault_restore(m->vault, org, id, &e);
        r = finish(&c, AUDIT_RESTORE, org, id, r, &e, NULL, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_purge_secret(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *org, *id;
        Manager *m = userdata;
        OvError e = {};
        Call c;
        int r;

        r = begin_org_id(m, msg, "PurgeSecret", ACTION_DELETE, &c, &org, &id, error);
        if (r < 0)
                return r;
        r = vault_purge(m->vault, org, id, &e);
        r = finish(&c, AUDIT_PURGE, org, id, r, &e, NULL, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_list_versions(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ SecretVersionInfo *l = NULL;
        const char *org, *id;
        Manager *m = userdata;
        size_t n = 0;
        OvError e = {};
        Call c;
        int r;

        r = begin_org_id(m, msg, "ListVersions", ACTION_LIST, &c, &org, &id, error);
        if (r < 0)
                return r;
        r = vault_list_versions(m->vault, org, id, &l, &n, &e);
        if (r < 0)
                return vault_error(error, r, &e);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(utsu)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(utsu)", l[i].version, l[i].set, l[i].by, l[i].key_id);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* The reply is the new version's number: the value never leaves the vault. */
static int method_rollback_secret(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *detail = NULL;
        char by[BUS_CALLER_NAME_MAX];
        const char *org, *id;
        Manager *m = userdata;
        uint32_t version = 0, new_version = 0;
        OvError e = {};
        Call c;
        int r;

        r = call_begin(m, msg, "RollbackSecret", &c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "ssu", &org, &id, &version);
        if (r < 0)
                return r;
        r = check_org_id(org, id, error);
        if (r < 0)
                return r;
        r = authorize(&c, org, ACTION_UPDATE, id, error);
        if (r < 0)
                return r;
        r = vault_rollback(m->vault, org, id, version, bus_caller_name(c.caller, by), &new_version, &e);
        detail = r >= 0 ? strdup_printf("to version %u as version %u", version, new_version)
                        : strdup_printf("to version %u", version);
        r = finish(&c, AUDIT_ROLLBACK, org, id, r, &e, detail, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "u", new_version);
}

static void log_one_reminder(const char *org, const Secret *s, const char *what, uint64_t when, uint64_t now,
                             void *userdata) {
        int r = reminder_emit(&(Reminder) {
                .org = org, .id = s->id, .name = s->name, .what = what, .when = when, .now = now,
        });
        if (r < 0)
                log_warning_errno(r, "Cannot write a reminder for %s/%s to the journal: %m", org, s->id);
}

/* What orgvault-reminders.service calls once a day: a journal entry per
 * secret due within the window (root only: it covers every org). */
static int method_log_reminders(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        uint64_t within = 0;
        OvError e = {};
        Call c;
        int r;

        r = call_begin(m, msg, "LogReminders", &c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "t", &within);
        if (r < 0)
                return r;
        if (within > REMINDER_WINDOW_MAX)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "The window is at most 3650 days in µs");
        r = authorize(&c, NULL, ACTION_MANAGE, NULL, error);
        if (r < 0)
                return r;
        r = vault_for_each_due(m->vault, within, log_one_reminder, m, &e);
        if (r < 0)
                return vault_error(error, r, &e);
        log_info("Reminders: %d secret(s) due within %llu day(s)", r, (unsigned long long) (within / USEC_PER_DAY));
        return sd_bus_reply_method_return(msg, "u", (uint32_t) r);
}

static const sd_bus_vtable lifecycle_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListTrash", SD_BUS_ARGS("s", org), SD_BUS_RESULT("a(ssstu)", trash),
                                method_list_trash, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RestoreSecret", SD_BUS_ARGS("s", org, "s", id), SD_BUS_NO_RESULT,
                                method_restore_secret, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PurgeSecret", SD_BUS_ARGS("s", org, "s", id), SD_BUS_NO_RESULT,
                                method_purge_secret, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListVersions", SD_BUS_ARGS("s", org, "s", id), SD_BUS_RESULT("a(utsu)", versions),
                                method_list_versions, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RollbackSecret", SD_BUS_ARGS("s", org, "s", id, "u", version),
                                SD_BUS_RESULT("u", version), method_rollback_secret, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("LogReminders", SD_BUS_ARGS("t", within), SD_BUS_RESULT("u", count),
                                method_log_reminders, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

/* A second vtable on the Manager's path and interface: sd-bus merges them
 * (one interface in introspection). */
int bus_lifecycle_register(Manager *m) {
        return sd_bus_add_object_vtable(m->bus, NULL, OV_OBJECT_PATH, OV_MANAGER_INTERFACE, lifecycle_vtable, m);
}
