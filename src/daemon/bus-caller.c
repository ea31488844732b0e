/* SPDX-License-Identifier: Apache-2.0 */
/* Who calls: the sender's uid, pid and groups as dbus-daemon reports them,
 * asked once per connection (see BusPeer). */

#include <errno.h>
#include <string.h>

#include "bus-manager.h"
#include "log.h"

static void bus_caller_clear(BusCaller *c) {
        free(c->gids);
        *c = (BusCaller) { .uid = (uid_t) -1 };
}

/* Asks dbus-daemon (GetConnectionCredentials) for the sender's uid, pid and
 * groups. sd_bus_query_sender_creds() makes the same call, but libsystemd
 * (252) ignores the reply's UnixGroupIDs and gets groups only with
 * SD_BUS_CREDS_AUGMENT, from /proc, which races with a caller changing
 * identity (docs/POLICY.md). */
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

/* Bounds memory if a bus floods us with short-lived connections whose
 * NameOwnerChanged we somehow miss: the oldest peer is forgotten first (it is
 * simply asked again should it call). */
#define PEERS_MAX 4096

static void bus_peer_free(BusPeer *p) {
        if (!p)
                return;
        free(p->name);
        bus_caller_clear(&p->caller);
        free(p);
}

static void forget_peer_at(Manager *m, size_t i) {
        bus_peer_free(m->peers[i]);
        memmove(m->peers + i, m->peers + i + 1, (m->n_peers - i - 1) * sizeof(BusPeer *));
        m->n_peers--;
}

void manager_forget_peers(Manager *m) {
        for (size_t i = 0; i < m->n_peers; i++)
                bus_peer_free(m->peers[i]);
        free(m->peers);
        m->peers = NULL;
        m->n_peers = 0;
}

static BusPeer *find_peer(Manager *m, const char *name, size_t *ret_index) {
        /* Newest first: the peers calling now are usually the recent ones. */
        for (size_t i = m->n_peers; i > 0; i--)
                if (strcmp(m->peers[i - 1]->name, name) == 0) {
                        if (ret_index)
                                *ret_index = i - 1;
                        return m->peers[i - 1];
                }
        return NULL;
}

static int on_name_owner_changed(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name, *old_owner, *new_owner;
        Manager *m = userdata;
        size_t i;

        if (sd_bus_message_read(message, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (name[0] == ':' && !*new_owner && find_peer(m, name, &i)) {
                log_debug("Peer %s left the bus: forgetting its credentials", name);
                forget_peer_at(m, i);
        }
        return 0;
}

/* Only the bus itself may say a peer left: any client can broadcast a
 * NameOwnerChanged of its own, and sd-bus filters by the match's sender. */
int manager_watch_peers(Manager *m) {
        return sd_bus_match_signal(m->bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus", "NameOwnerChanged", on_name_owner_changed, m);
}

int manager_get_caller(Manager *m, sd_bus_message *message, const BusCaller **ret) {
        const char *sender = message ? sd_bus_message_get_sender(message) : NULL;
        BusPeer *p;
        int r;

        if (!sender)
                return -ENXIO;
        p = find_peer(m, sender, NULL);
        if (!p) {
                BusPeer **a;

                if (m->n_peers >= PEERS_MAX)
                        forget_peer_at(m, 0);
                a = reallocarray(m->peers, m->n_peers + 1, sizeof(BusPeer *));
                if (!a)
                        return -ENOMEM;
                m->peers = a;
                p = calloc(1, sizeof(BusPeer));
                if (!p || !(p->name = strdup(sender))) {
                        free(p);
                        return -ENOMEM;
                }
                r = query_credentials(m->bus, sender, &p->caller);
                if (r < 0) {
                        bus_peer_free(p);
                        return r;
                }
                p->caller.policy = (Caller) { .uid = p->caller.uid, .gids = p->caller.gids,
                                              .n_gids = p->caller.n_gids };
                m->peers[m->n_peers++] = p;
        }
        *ret = &p->caller;
        return 0;
}
