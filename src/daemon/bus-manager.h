/* SPDX-License-Identifier: Apache-2.0 */
/* What the daemon's bus code shares: the service's state, the caller's
 * identity as the bus reports it, and the two object registrations. */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "audit.h"
#include "policy.h"
#include "vault.h"

#define OV_BUS_NAME "io.orgvault.Vault1"
#define OV_OBJECT_PATH "/io/orgvault/Vault1"
#define OV_MANAGER_INTERFACE "io.orgvault.Vault1.Manager"
#define OV_SECRET_INTERFACE "io.orgvault.Vault1.Secret"
#define OV_SECRET_PREFIX "/io/orgvault/Vault1/secret"

/* A bus caller as dbus-daemon reports it (GetConnectionCredentials). */
typedef struct BusCaller {
        uid_t uid;
        pid_t pid;               /* 0 when the bus did not say */
        gid_t *gids;             /* primary + supplementary */
        size_t n_gids;
        Caller policy;           /* the same, as the policy engine takes it */
} BusCaller;

/* A connection that has called us. dbus-daemon fixes a connection's
 * credentials when it connects and never reuses a unique name, so they are
 * asked once per connection and kept until the name goes away. */
typedef struct BusPeer {
        char *name;              /* unique name, ":1.42" */
        BusCaller caller;
} BusPeer;

typedef struct HeldReply HeldReply;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        Vault *vault;
        Policy *policy;
        TypeRegistry *types;
        char **type_errors;      /* malformed type files, shown by Status */
        BusPeer **peers;         /* oldest first; also who hears secret signals */
        size_t n_peers;
        sd_event_source *commit_source;  /* group commit (bus-commit.c); NULL: off */
        HeldReply *held;         /* answers waiting for it */
        size_t n_held, allocated_held;
        sd_bus_message **held_signals;   /* announcements of what it will make durable */
        size_t n_held_signals, allocated_held_signals;
} Manager;

/* The caller of message (borrowed; valid while message is dispatched). */
int manager_get_caller(Manager *m, sd_bus_message *message, const BusCaller **ret);
/* Forgets peers when their names go away (NameOwnerChanged). */
int manager_watch_peers(Manager *m);
void manager_forget_peers(Manager *m);

/* One method call: who calls, and which method (for audit records). The
 * helpers below are every method's steps, shared with bus-lifecycle.c. */
typedef struct Call {
        Manager *m;
        const char *method;
        const BusCaller *caller;
} Call;

/* Picks up policy changes and asks the bus who calls (AccessDenied when it
 * can't say). */
int call_begin(Manager *m, sd_bus_message *msg, const char *method, Call *ret, sd_bus_error *error);
/* The one answer for no role, a role lacking the action, or an unknown org
 * (audited). */
int authorize(const Call *c, const char *org, const char *action, const char *id, sd_bus_error *error);
int check_org(const char *org, sd_bus_error *error);
int check_org_id(const char *org, const char *id, sd_bus_error *error);
void audit_call(const Call *c, AuditKind kind, const char *org, const char *id, const char *outcome,
                const char *detail);
/* A vault failure as its named error. */
int vault_error(sd_bus_error *error, int r, const OvError *e);
/* Audits the outcome of a vault operation; a failure becomes its error. */
int finish(const Call *c, AuditKind kind, const char *org, const char *id, int r, const OvError *e,
           const char *detail, sd_bus_error *error);

/* Group commit (bus-commit.c). A change's success answer: sent now, or,
 * when its record is only staged, audited and sent once the commit made it
 * durable (StorageFailure if it failed). */
int reply_when_durable(const Call *c, AuditKind kind, const char *org, const char *id, const char *detail,
                       sd_bus_message *reply);
int manager_setup_group_commit(Manager *m);
void manager_free_group_commit(Manager *m);     /* commits and answers first */
/* Commits what is staged, then sends the held signals and answers the held
 * calls (on failure: drops the signals, answers StorageFailure). */
void manager_commit(Manager *m);
/* A signal about a change: sent now, or held until the commit that makes the
 * change durable (a picker never hears of a change a failed commit drops).
 * Takes the message's reference. */
int send_when_durable(Manager *m, sd_bus_message *signal);
/* Before each incoming method call is dispatched: staging on for a change
 * reply_when_durable answers, else the staged changes committed and staging
 * off. Before anything else reads the vault (a credential): the same. */
void manager_before_call(Manager *m, sd_bus_message *msg);
void manager_before_read(Manager *m);

/* A sealed memfd holding the value: the value never enters a bus message,
 * and the receiver can't change what it was given. Returns the fd or -errno. */
int bus_value_memfd(const char *data, size_t len);
/* ResolveForUser (bus-resolve-user.c): root asks for a user's credential. */
int method_resolve_for_user(sd_bus_message *msg, void *userdata, sd_bus_error *error);
/* Who a caller is in a version's "set by": its user name, else its uid. */
#define BUS_CALLER_NAME_MAX 256
const char *bus_caller_name(const BusCaller *c, char buf[static BUS_CALLER_NAME_MAX]);
/* GetSecret's Expires, RotateBy and Expired (bus-lifecycle.c). */
int append_reminders(sd_bus_message *reply, const Secret *s);

int bus_manager_register(Manager *m);
int bus_lifecycle_register(Manager *m); /* the trash and versions methods, same interface */
int bus_secrets_register(Manager *m);   /* the secret objects below it */
/* Vault event callback: announces secrets added, changed and removed. */
void bus_secrets_on_vault_event(Vault *v, VaultEvent ev, const char *org, const Secret *s, void *userdata);
