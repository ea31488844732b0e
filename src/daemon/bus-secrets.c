/* SPDX-License-Identifier: Apache-2.0 */
/* Each secret as an object /io/orgvault/Vault1/secret/<org>/<id> with
 * read-only metadata, found and enumerated only for callers who may list the
 * org, so `busctl tree` shows each caller its own orgs and nothing else.
 *
 * Signals go unicast to each peer that has called us and may list the org:
 * a broadcast would tell every listener on the bus the org and id in the
 * object path. They carry no metadata (InterfacesAdded with no properties,
 * PropertiesChanged with invalidated names); clients re-read what they need
 * through the filtered calls. */

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "bus-manager.h"
#include "log.h"

#define SECRET_PATH_TEMPLATE OV_SECRET_PREFIX "/%/%"

static int secret_path(const char *org, const char *id, char **ret) {
        return sd_bus_path_encode_many(ret, SECRET_PATH_TEMPLATE, org, id);
}

/* May the caller of the message being dispatched see the org's secrets? */
static bool caller_may_list(Manager *m, sd_bus *bus, const char *org) {
        const BusCaller *c;

        if (manager_get_caller(m, sd_bus_get_current_message(bus), &c) < 0)
                return false;
        return policy_may(m->policy, org, ACTION_LIST, &c->policy);
}

static int secret_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                       void **ret_found, sd_bus_error *error) {
        _cleanup_free_ char *org = NULL, *id = NULL;
        Manager *m = userdata;
        const Secret *s;

        if (sd_bus_path_decode_many(path, SECRET_PATH_TEMPLATE, &org, &id) <= 0)
                return 0;
        if (!org_name_valid(org) || !secret_id_valid(id) || !caller_may_list(m, bus, org))
                return 0;
        if (vault_get(m->vault, org, id, &s, NULL) < 0)
                return 0;
        *ret_found = (void *) s;
        return 1;
}

/* The objects of every org the caller may list; loads only those orgs. */
static int secret_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***ret_nodes,
                            sd_bus_error *error) {
        _cleanup_strv_free_ char **nodes = calloc(1, sizeof(char *)), **orgs = NULL, **roles = NULL;
        Manager *m = userdata;
        const BusCaller *c;
        int r;

        if (!nodes)
                return -ENOMEM;
        if (manager_get_caller(m, sd_bus_get_current_message(bus), &c) < 0)
                goto done;
        (void) policy_refresh(m->policy);
        r = policy_caller_orgs(m->policy, &c->policy, &orgs, &roles);
        if (r < 0)
                return r;
        for (char **org = orgs; *org; org++) {
                _cleanup_free_ const Secret **list = NULL;
                size_t n = 0;
                OvError e = {};

                if (!policy_may(m->policy, *org, ACTION_LIST, &c->policy))
                        continue;
                if (vault_list(m->vault, *org, NULL, &list, &n, &e) < 0) {
                        log_warning("Cannot list org %s for object enumeration: %s", *org, e.message);
                        continue;
                }
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *path = NULL;
                        r = secret_path(*org, list[i]->id, &path);
                        if (r < 0)
                                return r;
                        if (strv_push(&nodes, path) < 0)
                                return -ENOMEM;
                }
        }
done:
        *ret_nodes = nodes;
        nodes = NULL;
        return 0;
}

static int property_get_org(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *org = NULL, *id = NULL;
        int r = sd_bus_path_decode_many(path, SECRET_PATH_TEMPLATE, &org, &id);
        if (r <= 0)
                return r < 0 ? r : -EINVAL;
        return sd_bus_message_append(reply, "s", org);
}

/* Properties read straight from the Secret the find callback returned. */
static const sd_bus_vtable secret_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", NULL, offsetof(Secret, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Org", "s", property_get_org, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(Secret, name), SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("Type", "s", NULL, offsetof(Secret, type), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Created", "t", NULL, offsetof(Secret, created), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Updated", "t", NULL, offsetof(Secret, updated), SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("Version", "u", NULL, offsetof(Secret, version), SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        /* Changes on every use, written lazily: no signal for it. */
        SD_BUS_PROPERTY("LastUsed", "t", NULL, offsetof(Secret, last_used), 0),
        SD_BUS_VTABLE_END
};

int bus_secrets_register(Manager *m) {
        int r = sd_bus_add_fallback_vtable(m->bus, NULL, OV_SECRET_PREFIX, OV_SECRET_INTERFACE, secret_vtable,
                                           secret_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, OV_SECRET_PREFIX, secret_enumerate, m);
}

static int new_signal(Manager *m, VaultEvent ev, const char *path, sd_bus_message **ret) {
        int r;

        switch (ev) {
        case VAULT_SECRET_ADDED:
                r = sd_bus_message_new_signal(m->bus, ret, OV_OBJECT_PATH, "org.freedesktop.DBus.ObjectManager",
                                              "InterfacesAdded");
                if (r >= 0)
                        r = sd_bus_message_append(*ret, "oa{sa{sv}}", path, 1, OV_SECRET_INTERFACE, 0);
                return r;
        case VAULT_SECRET_REMOVED:
                r = sd_bus_message_new_signal(m->bus, ret, OV_OBJECT_PATH, "org.freedesktop.DBus.ObjectManager",
                                              "InterfacesRemoved");
                if (r >= 0)
                        r = sd_bus_message_append(*ret, "oas", path, 1, OV_SECRET_INTERFACE);
                return r;
        case VAULT_SECRET_CHANGED:
                r = sd_bus_message_new_signal(m->bus, ret, path, "org.freedesktop.DBus.Properties",
                                              "PropertiesChanged");
                if (r >= 0)
                        r = sd_bus_message_append(*ret, "sa{sv}as", OV_SECRET_INTERFACE, 0,
                                                  3, "Name", "Updated", "Version");
                return r;
        }
        return -EINVAL;
}

void bus_secrets_on_vault_event(Vault *v, VaultEvent ev, const char *org, const Secret *s, void *userdata) {
        _cleanup_free_ char *path = NULL;
        Manager *m = userdata;
        int r;

        if (!m->bus)
                return;
        r = secret_path(org, s->id, &path);
        for (size_t i = 0; r >= 0 && i < m->n_peers; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *signal = NULL;
                const BusPeer *p = m->peers[i];

                if (!policy_may(m->policy, org, ACTION_LIST, &p->caller.policy))
                        continue;
                r = new_signal(m, ev, path, &signal);
                if (r >= 0)
                        r = sd_bus_message_set_destination(signal, p->name);
                if (r >= 0)
                        r = send_when_durable(m, TAKE_PTR(signal));
        }
        if (r < 0)
                log_warning_errno(r, "Cannot announce a change of %s/%s on the bus: %m", org, s->id);
}
