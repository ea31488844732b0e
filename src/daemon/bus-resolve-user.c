/* SPDX-License-Identifier: Apache-2.0 */
/* ResolveForUser(s user, s service, s credential) → h (docs/API.md): the
 * PAM module's request. Only root may ask (a PAM stack runs as root before
 * the application changes to the user), and the answer is exactly what
 * Resolve would give that user: the user (with the groups NSS gives it, as a
 * login would) must hold the resolve action in the org as a consumer whose
 * features use the secret's type. Every refusal — not root, unknown user, no
 * consumer, a type it can't use, no such secret — is the same AccessDenied,
 * so the method can't tell root's PAM stack more than the user may know. */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "audit.h"
#include "bus-manager.h"
#include "credential-socket.h"
#include "crypto.h"
#include "log.h"

#define ACCESS_DENIED_MESSAGE "Access denied"
#define USER_MAX 256             /* a user name, or a uid in decimal */
#define SERVICE_MAX 256          /* a PAM service name */
#define CREDENTIAL_MAX 256
#define GROUPS_MAX 65536

/* The user as a login would be: uid and the groups initgroups would give. */
typedef struct TargetUser {
        uid_t uid;
        gid_t *gids;
        size_t n_gids;
} TargetUser;

static void target_user_clear(TargetUser *t) {
        free(t->gids);
        *t = (TargetUser) {};
}

static bool parse_uid(const char *s, uid_t *ret) {
        unsigned long long v = 0;

        if (!*s || strlen(s) > 10)
                return false;
        for (const char *c = s; *c; c++) {
                if (*c < '0' || *c > '9')
                        return false;
                v = v * 10 + (unsigned long long) (*c - '0');
        }
        if (v >= (uid_t) -1)
                return false;
        *ret = (uid_t) v;
        return true;
}

/* A user name (through NSS) or a decimal uid (NSS if it knows it, else the
 * bare uid: policy's "uids" need no NSS). -ESRCH for an unknown name. */
static int target_user_resolve(const char *user, TargetUser *ret) {
        const struct passwd *pw;
        TargetUser t = {};
        uid_t uid;

        if (parse_uid(user, &uid)) {
                errno = 0;
                pw = getpwuid(uid);
                if (!pw) {
                        *ret = (TargetUser) { .uid = uid };
                        return 0;
                }
        } else {
                errno = 0;
                pw = getpwnam(user);
                if (!pw)
                        return errno > 0 ? -errno : -ESRCH;
        }
        t.uid = pw->pw_uid;
        int n = 64;
        for (;;) {
                gid_t *a = reallocarray(t.gids, (size_t) n, sizeof(gid_t));
                if (!a) {
                        target_user_clear(&t);
                        return -ENOMEM;
                }
                t.gids = a;
                int want = n;
                if (getgrouplist(pw->pw_name, pw->pw_gid, t.gids, &want) >= 0) {
                        t.n_gids = (size_t) want;
                        break;
                }
                if (want <= n || want > GROUPS_MAX) {
                        target_user_clear(&t);
                        return -E2BIG;
                }
                n = want;
        }
        *ret = t;
        return 0;
}

static bool text_valid_max(const char *s, size_t max) {
        return s && *s && strlen(s) <= max && utf8_text_valid(s, NULL);
}

typedef struct Request {
        const BusCaller *caller;
        const char *user, *service, *credential;
        CredentialRequest cred;
} Request;

static void audit_request(const Request *q, AuditKind kind, const char *outcome, const char *detail) {
        audit_emit(&(AuditEvent) {
                .kind = kind,
                .uid = q->caller ? q->caller->uid : (uid_t) -1,
                .pid = q->caller ? q->caller->pid : 0,
                .user = q->user,
                .service = q->service,
                .action = "ResolveForUser",
                .org = q->cred.org,
                .secret_id = q->cred.id,
                .outcome = outcome,
                .detail = detail,
        });
}

/* The one answer for every refusal; the audit record and log line say which. */
static int refuse(const Request *q, const char *why, sd_bus_error *error) {
        _cleanup_free_ char *detail = strdup_printf("%s: %s", q->credential ?: "-", why);

        log_warning("ResolveForUser %s for user %s (PAM service %s) refused: %s",
                    q->credential ?: "-", q->user ?: "-", q->service ?: "-", why);
        audit_request(q, AUDIT_DENIED, "denied", detail ?: why);
        return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, ACCESS_DENIED_MESSAGE);
}

int method_resolve_for_user(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(target_user_clear) TargetUser target = {};
        _cleanup_close_ int fd = -EBADF;
        Manager *m = userdata;
        Request q = {};
        const Secret *s = NULL;
        char *value = NULL;
        size_t len = 0;
        OvError e = {};
        int r;

        r = policy_refresh(m->policy);
        if (r < 0)
                log_warning_errno(r, "Policy reload failed, keeping the old one: %m");
        r = sd_bus_message_read(msg, "sss", &q.user, &q.service, &q.credential);
        if (r < 0)
                return r;
        r = manager_get_caller(m, msg, &q.caller);
        if (r < 0) {
                q.caller = NULL;
                return refuse(&q, "caller credentials unavailable", error);
        }
        if (q.caller->uid != 0)
                return refuse(&q, "caller is not root", error);
        if (!text_valid_max(q.user, USER_MAX) || !text_valid_max(q.service, SERVICE_MAX))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "User and service are 1-256 bytes of text without control characters");
        if (strlen(q.credential) > CREDENTIAL_MAX ||
            credential_id_parse(q.credential, strlen(q.credential), &q.cred) < 0) {
                credential_request_clear(&q.cred);
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "Invalid credential id: <org>.<id> or <org>.<id>.<field>");
        }

        r = target_user_resolve(q.user, &target);
        if (r < 0) {
                r = refuse(&q, r == -ESRCH ? "no such user" : "cannot look the user up", error);
                goto out;
        }
        const Caller as_user = { .uid = target.uid, .gids = target.gids, .n_gids = target.n_gids };
        /* No role, no lookup (as on the credential socket); then the one
         * consumer rule (policy_may_resolve). Here every refusal, an absent
         * secret included, is the same AccessDenied. */
        if (!policy_may(m->policy, q.cred.org, ACTION_RESOLVE, &as_user)) {
                r = refuse(&q, "user is no consumer of the org", error);
                goto out;
        }
        r = vault_get(m->vault, q.cred.org, q.cred.id, &s, &e);
        if (r < 0 && e.code != OV_ERR_NOT_FOUND)
                goto vault_failed;
        const SecretType *t = r >= 0 ? type_registry_find(m->types, s->type) : NULL;
        const Consumer *k = NULL;
        r = policy_may_resolve(m->policy, q.cred.org, q.cred.id, &as_user, r >= 0, t, &k, &e);
        if (r < 0) {
                r = refuse(&q, e.code == OV_ERR_NOT_FOUND ? "no such secret" : e.message, error);
                goto out;
        }
        /* Allowed the secret: now naming a field its type lacks is no probe. */
        if (q.cred.field && !secret_type_field(t, q.cred.field)) {
                r = ov_error_set(&e, OV_ERR_NOT_FOUND, "Type %s has no field %s", s->type, q.cred.field);
                goto vault_failed;
        }
        if (q.cred.field)
                r = vault_resolve_field(m->vault, q.cred.org, q.cred.id, q.cred.field, k->name, &value, &len, &e);
        else
                r = vault_resolve(m->vault, q.cred.org, q.cred.id, k->name, &value, &len, &e);
        if (r < 0)
                goto vault_failed;
        fd = bus_value_memfd(value, len);
        crypto_free_plain(value);
        if (fd < 0) {
                r = ov_error_set_errno(&e, OV_ERR_STORAGE_FAILURE, fd, "Cannot hand over the value: %m");
                goto vault_failed;
        }
        log_info("Credential %s handed to PAM service %s for user %s", q.credential, q.service, q.user);
        audit_request(&q, AUDIT_RESOLVE, "ok", q.credential);
        r = sd_bus_reply_method_return(msg, "h", fd);
        goto out;

vault_failed:
        if (e.code == OV_OK)
                (void) ov_error_set_errno(&e, OV_ERR_STORAGE_FAILURE, r, "Failed: %m");
        audit_request(&q, AUDIT_RESOLVE, ov_error_dbus_name(e.code), q.credential);
        r = sd_bus_error_set(error, ov_error_dbus_name(e.code), e.message);
out:
        credential_request_clear(&q.cred);
        return r;
}
