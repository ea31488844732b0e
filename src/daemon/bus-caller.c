/* SPDX-License-Identifier: Apache-2.0 */
/* Who calls: the sender's uid, pid and groups as dbus-daemon reports them,
 * asked once per dispatched message (object lookups ask once per object). */

#include <errno.h>
#include <string.h>

#include "bus-manager.h"

static void bus_caller_clear(BusCaller *c) {
        free(c->gids);
        *c = (BusCaller) { .uid = (uid_t) -1 };
}

/* Asks dbus-daemon (GetConnectionCredentials) for the sender's uid, pid and
 * groups. sd_bus_query_sender_creds() makes the same call, but libsystemd
 * (252) ignores the reply's UnixGroupIDs and gets groups only with
 * SD_BUS_CREDS_AUGMENT, from /proc, which races with a caller changing
 * identity (DESIGN §2). */
static int query_credentials(sd_bus *bus, const char *sender, BusCaller *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ gid_t *gids = NULL;
        uint32_t uid = 0, pid = 0;
        bool have_uid = false;
        size_t n_gids = 0;
        int r;

        if (!sender)
                return -ENXIO;
        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetConnectionCredentials", NULL, &reply, "s", sender);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key;

                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        return r;
                if (strcmp(key, "UnixUserID") == 0) {
                        r = sd_bus_message_read(reply, "v", "u", &uid);
                        have_uid = r >= 0;
                } else if (strcmp(key, "ProcessID") == 0)
                        r = sd_bus_message_read(reply, "v", "u", &pid);
                else if (strcmp(key, "UnixGroupIDs") == 0) {
                        const void *a = NULL;
                        size_t size = 0;

                        r = sd_bus_message_enter_container(reply, 'v', "au");
                        if (r >= 0)
                                r = sd_bus_message_read_array(reply, 'u', &a, &size);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                        if (r >= 0 && size > 0) {
                                free(gids);
                                n_gids = size / sizeof(uint32_t);
                                gids = calloc(n_gids, sizeof(gid_t));
                                if (!gids)
                                        return -ENOMEM;
                                for (size_t i = 0; i < n_gids; i++)
                                        gids[i] = ((const uint32_t *) a)[i];
                        }
                } else
                        r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        if (!have_uid)
                return -EPROTO;
        /* Without UnixGroupIDs the caller simply holds no group-based role. */
        *ret = (BusCaller) { .uid = uid, .pid = (pid_t) pid, .gids = gids, .n_gids = n_gids };
        gids = NULL;
        return 0;
}

void manager_forget_caller(Manager *m) {
        m->caller_message = sd_bus_message_unref(m->caller_message);
        bus_caller_clear(&m->caller);
}

int manager_get_caller(Manager *m, sd_bus_message *message, const BusCaller **ret) {
        BusCaller c = {};
        int r;

        if (!message)
                return -ENXIO;
        if (m->caller_message != message) {
                manager_forget_caller(m);
                r = query_credentials(m->bus, sd_bus_message_get_sender(message), &c);
                if (r < 0)
                        return r;
                /* Holding a reference keeps the address from being reused
                 * by a later message while the cache points at it. */
                m->caller_message = sd_bus_message_ref(message);
                m->caller = c;
                m->caller.policy = (Caller) { .uid = c.uid, .gids = c.gids, .n_gids = c.n_gids };
        }
        *ret = &m->caller;
        return 0;
}
