/* SPDX-License-Identifier: Apache-2.0 */
/* Who may do what (docs/POLICY.md): orgs.d/<org>.json and actions.json. */
#pragma once

#include "ov-error.h"
#include "secret-types.h"

#define ACTION_LIST        "io.orgvault.secret.list"
#define ACTION_ADD         "io.orgvault.secret.add"
#define ACTION_UPDATE      "io.orgvault.secret.update"
#define ACTION_DELETE      "io.orgvault.secret.delete"
#define ACTION_REFERENCE   "io.orgvault.secret.reference"
#define ACTION_RESOLVE     "io.orgvault.secret.resolve"
#define ACTION_ROTATE      "io.orgvault.org.rotate-keys"
#define ACTION_MANAGE      "io.orgvault.vault.manage"

typedef enum Role {
        ROLE_NONE = 0,
        ROLE_MEMBER = 1 << 0,
        ROLE_ADMIN = 1 << 1,     /* implies member */
        ROLE_CONSUMER = 1 << 2,
        ROLE_ROOT = 1 << 3,      /* uid 0: admin of every org */
} Role;

typedef struct Caller {
        uid_t uid;
        const gid_t *gids;       /* primary + supplementary */
        size_t n_gids;
        const char *unit;        /* credential socket only; NULL on the bus */
} Caller;

typedef struct Consumer {
        char *name;
        char **units;
        char **users;
        uid_t *uids;
        size_t n_uids;
        char **features;
} Consumer;

typedef struct Policy Policy;

/* Loads <data_dir>/actions.json and <config_dir>/orgs.d/<org>.json. A broken org
 * file closes that org and is recorded (policy_problems). A broken or missing
 * actions.json fails the load. */
int policy_load(Policy **ret, const char *config_dir, const char *data_dir, char **ret_error);
void policy_free(Policy *p);
static inline void policy_freep(Policy **p) { policy_free(*p); }
/* Re-reads when any file changed (mtime/size/inode of orgs.d entries and
 * actions.json); returns 1 when reloaded, 0 when unchanged. */
int policy_reload_if_changed(Policy *p);
/* The same check, made only when inotify saw something change in the
 * directories of the policy files since the last refresh (or when it can't
 * watch them): cheap enough for every call. */
int policy_refresh(Policy *p);
/* Readable when a refresh has work to do (for an event loop); -1 without
 * inotify. Owned by p. */
int policy_watch_fd(const Policy *p);
/* Messages about broken files, NULL-terminated, borrowed. */
char *const *policy_problems(const Policy *p);

/* Roles the caller holds in org (bit set; 0 for an unknown or closed org). */
unsigned policy_roles(const Policy *p, const char *org, const Caller *c);
/* May the caller take action in org? (org NULL for vault-wide actions). */
bool policy_may(const Policy *p, const char *org, const char *action, const Caller *c);
/* The consumer entry matching the caller (by unit when c->unit, else by
 * user/uid), or NULL. */
const Consumer *policy_consumer(const Policy *p, const char *org, const Caller *c);
/* Does one of the consumer's features use the type? */
bool consumer_may_use_type(const Consumer *k, const SecretType *t);

/* The rules of a consumer's use of one secret, the same for every path
 * (Resolve, the credential socket, AddReference/RemoveReference). The caller
 * looks the secret up first: exists says whether org has a secret id, t is
 * its type (NULL when no type file defines it). Each returns 0 when allowed,
 * else a negative errno with e set:
 *   AccessDenied  the caller may not (e->message says why, for the audit
 *                 log; the caller's reply says only "Access denied");
 *   NotFound      there is no such secret, said only to a caller who may
 *                 list the org: to anyone else an absent id is AccessDenied,
 *                 exactly like a forbidden one, so ids can't be probed;
 *   InvalidArgs   (references) the feature is not one the type is used by;
 *                 the message lists the valid ones. */

/* A value goes only to a consumer one of whose features uses the type;
 * never to a member, admin or root as such. *ret_consumer: who gets it. */
int policy_may_resolve(const Policy *p, const char *org, const char *id, const Caller *c,
                       bool exists, const SecretType *t, const Consumer **ret_consumer, OvError *e);
/* An admin may add a reference for any feature the type is used by (and
 * remove any reference); a consumer only on a secret whose type one of its
 * features uses, only for one of its own features, and only one the type is
 * used by. */
int policy_may_reference(const Policy *p, const char *org, const char *id, const Caller *c,
                         bool exists, const SecretType *t, const char *feature, bool add, OvError *e);
/* Orgs where the caller has a role, sorted; each "org" with its role name
 * ("admin", "member" or "consumer") in ret_roles. */
int policy_caller_orgs(const Policy *p, const Caller *c, char ***ret_orgs, char ***ret_roles);
bool policy_org_exists(const Policy *p, const char *org);
char **policy_org_names(const Policy *p);   /* open orgs, caller frees */
const char *role_to_string(unsigned roles); /* highest: admin > member > consumer */
