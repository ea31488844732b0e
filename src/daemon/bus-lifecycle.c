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
#include <string.h>

#include "bus-manager.h"

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

static const sd_bus_vtable lifecycle_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListTrash", SD_BUS_ARGS("s", org), SD_BUS_RESULT("a(ssstu)", trash),
                                method_list_trash, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RestoreSecret", SD_BUS_ARGS("s", org, "s", id), SD_BUS_NO_RESULT,
                                method_restore_secret, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PurgeSecret", SD_BUS_ARGS("s", org, "s", id), SD_BUS_NO_RESULT,
                                method_purge_secret, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

/* A second vtable on the Manager's path and interface: sd-bus merges them
 * (one interface in introspection). */
int bus_lifecycle_register(Manager *m) {
        return sd_bus_add_object_vtable(m->bus, NULL, OV_OBJECT_PATH, OV_MANAGER_INTERFACE, lifecycle_vtable, m);
}
