/* SPDX-License-Identifier: Apache-2.0 */
/* Group commit, the daemon's half: a change whose record the vault staged
 * (vault.h, "Group commit") is answered only once a commit made it durable.
 * The commit runs when the bus has no call left to dispatch (a lower
 * priority than the bus), so the changes that arrived while the previous
 * commit's fsyncs ran are made durable together; and before any call that
 * could read what is staged (everything but the changes themselves and
 * Ping) and before a credential is served, so nobody sees a change before it
 * is durable. Its audit record is written with its answer. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-manager.h"
#include "log.h"

struct HeldReply {
        sd_bus_message *call, *reply;
        AuditKind kind;
        const char *method;      /* a literal (call_begin) */
        uid_t uid;
        pid_t pid;
        char *org, *id, *detail;
};

static void held_clear(HeldReply *h) {
        sd_bus_message_unref(h->call);
        sd_bus_message_unref(h->reply);
        free(h->org);
        free(h->id);
        free(h->detail);
}

static void audit_held(const HeldReply *h, const char *outcome) {
        audit_emit(&(AuditEvent) {
                .kind = h->kind,
                .uid = h->uid,
                .pid = h->pid,
                .action = h->method,
                .org = h->org,
                .secret_id = h->id,
                .outcome = outcome,
                .detail = h->detail,
        });
}

/* The held signals, sent when their changes are durable, else dropped: the
 * vault reloaded what is on disk, and nothing announced a change it lost. */
static void release_signals(Manager *m, bool send) {
        for (size_t i = 0; i < m->n_held_signals; i++) {
                int k = send ? sd_bus_send(m->bus, m->held_signals[i], NULL) : 0;
                if (k < 0)
                        log_warning("Cannot announce a change on the bus: %s", strerror(-k));
                sd_bus_message_unref(m->held_signals[i]);
        }
        m->n_held_signals = 0;
}

/* Commits and answers every held call: its reply, or StorageFailure. */
void manager_commit(Manager *m) {
        if (m->n_held == 0 && m->n_held_signals == 0 && !vault_commit_pending(m->vault))
                return;
        int r = vault_commit(m->vault);
        const char *failure = ov_error_dbus_name(OV_ERR_STORAGE_FAILURE);
        release_signals(m, r >= 0);
        for (size_t i = 0; i < m->n_held; i++) {
                HeldReply *h = &m->held[i];
                int k;
                if (r >= 0) {
                        audit_held(h, "ok");
                        k = sd_bus_send(NULL, h->reply, NULL);
                } else {
                        audit_held(h, failure);
                        k = sd_bus_reply_method_errorf(h->call, failure, "Cannot write record %s/%s: %s", h->org,
                                                       h->id ?: "", strerror(-r));
                }
                if (k < 0)
                        log_warning("Cannot answer %s: %s", h->method, strerror(-k));
                held_clear(h);
        }
        m->n_held = 0;
}

static int on_commit(sd_event_source *s, void *userdata) {
        manager_commit(userdata);
        return 0;
}

int manager_setup_group_commit(Manager *m) {
        int r = sd_event_add_defer(m->event, &m->commit_source, on_commit, m);
        if (r >= 0)
                r = sd_event_source_set_priority(m->commit_source, SD_EVENT_PRIORITY_NORMAL + 10);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->commit_source, SD_EVENT_OFF);
        return r;
}

void manager_free_group_commit(Manager *m) {
        manager_commit(m);
        free(m->held);
        m->held = NULL;
        free(m->held_signals);
        m->held_signals = NULL;
        m->commit_source = sd_event_source_disable_unref(m->commit_source);
}

int reply_when_durable(const Call *c, AuditKind kind, const char *org, const char *id, const char *detail,
                       sd_bus_message *reply) {
        Manager *m = c->m;

        if (!m->commit_source || !vault_commit_pending(m->vault)) {
                audit_call(c, kind, org, id, "ok", detail);
                return sd_bus_send(NULL, reply, NULL);
        }
        if (ARRAY_RESERVE_ONE(m->held, m->n_held, m->allocated_held, 32) < 0)
                return -ENOMEM;
        HeldReply h = {
                .call = sd_bus_message_ref(sd_bus_get_current_message(m->bus)),
                .reply = sd_bus_message_ref(reply),
                .kind = kind,
                .method = c->method,
                .uid = c->caller ? c->caller->uid : (uid_t) -1,
                .pid = c->caller ? c->caller->pid : 0,
                .org = org ? strdup(org) : NULL,
                .id = id ? strdup(id) : NULL,
                .detail = detail ? strdup(detail) : NULL,
        };
        if (!h.call || (org && !h.org) || (id && !h.id) || (detail && !h.detail)) {
                held_clear(&h);
                manager_commit(m);      /* answer now, then: nothing is held that can't be */
                audit_call(c, kind, org, id, "ok", detail);
                return sd_bus_send(NULL, reply, NULL);
        }
        m->held[m->n_held++] = h;
        int r = sd_event_source_set_enabled(m->commit_source, SD_EVENT_ONESHOT);
        return r < 0 ? r : 1;   /* > 0: answered (later); 0 would make sd-bus say UnknownMethod */
}

int send_when_durable(Manager *m, sd_bus_message *signal) {
        if (!m->commit_source || !vault_commit_pending(m->vault)) {
                int r = sd_bus_send(m->bus, signal, NULL);
                sd_bus_message_unref(signal);
                return r;
        }
        if (ARRAY_RESERVE_ONE(m->held_signals, m->n_held_signals, m->allocated_held_signals, 32) < 0) {
                /* No room to hold it: commit now, then it is durable. */
                manager_commit(m);
                int r = sd_bus_send(m->bus, signal, NULL);
                sd_bus_message_unref(signal);
                return r;
        }
        m->held_signals[m->n_held_signals++] = signal;
        return sd_event_source_set_enabled(m->commit_source, SD_EVENT_ONESHOT);
}

/* The calls that may run while changes are staged: those whose answers
 * reply_when_durable holds, and Ping, which reads nothing. */
static bool call_may_batch(sd_bus_message *msg) {
        static const char *const members[] = {
                "AddSecret", "UpdateSecret", "UpdateSecretWithOptions", "RenameSecret", "AddReference",
                "RemoveReference",
        };
        if (sd_bus_message_is_method_call(msg, "org.freedesktop.DBus.Peer", "Ping"))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(members); i++)
                if (sd_bus_message_is_method_call(msg, OV_MANAGER_INTERFACE, members[i]))
                        return true;
        return false;
}

/* Staging only for the calls whose answer waits for the commit: any other
 * call first sees what is staged made durable, and its own writes are
 * durable before it answers. */
void manager_before_call(Manager *m, sd_bus_message *msg) {
        bool batch = m->commit_source && call_may_batch(msg);
        if (!batch)
                manager_commit(m);
        if (m->commit_source && vault_set_group_commit(m->vault, batch) < 0)
                manager_commit(m);      /* no batch memory: staging stays off */
}

void manager_before_read(Manager *m) {
        manager_commit(m);
        if (m->commit_source)
                (void) vault_set_group_commit(m->vault, false);
}
