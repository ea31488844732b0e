/* SPDX-License-Identifier: Apache-2.0 */
/* Audit records (DESIGN §7): one journal entry per event with ORGVAULT_*
 * fields and a fixed MESSAGE_ID per kind, so `journalctl MESSAGE_ID=...`
 * finds every delete, say; and, when configured, one JSON object per line in
 * an append-only file. Events carry names and outcomes, never a value. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "audit.h"
#include "log.h"

static const struct {
        const char *name;
        const char *message_id;
        int priority;
} kinds[_AUDIT_KIND_MAX] = {
        [AUDIT_ADD]        = { "add",        "23c17e834c124c928d4bd91cbf25c853", LOG_NOTICE },
        [AUDIT_UPDATE]     = { "update",     "21c2d09e44f247bc9ef7b5fbf809b306", LOG_NOTICE },
        [AUDIT_RENAME]     = { "rename",     "580a3a0b9be94380a67dfd90159e3603", LOG_NOTICE },
        [AUDIT_DELETE]     = { "delete",     "6ba1e461cf874696a1ecb35398808742", LOG_NOTICE },
        [AUDIT_REFERENCE]  = { "reference",  "73c72fd6f6644c99a43b5093901ec333", LOG_INFO },
        [AUDIT_RESOLVE]    = { "resolve",    "19b51aa4d031488d8d42c9d6c2be9651", LOG_INFO },
        [AUDIT_DENIED]     = { "denied",     "3ea6198b2add4290957ca6732abbf0ad", LOG_WARNING },
        [AUDIT_SEAL]       = { "seal",       "54a3da3e438845cea9da09dba98bcbf0", LOG_NOTICE },
        [AUDIT_UNSEAL]     = { "unseal",     "b35e20a17aa64a62a39a72a49aaca048", LOG_NOTICE },
        [AUDIT_ROTATE]     = { "rotate",     "77baa199fba24c57ba59627484121ad1", LOG_NOTICE },
        [AUDIT_CREDENTIAL] = { "credential", "b330af8fa37244b8a3b1caa27932339d", LOG_INFO },
};

static int log_fd = -1;

int audit_open(const char *log_path) {
        audit_close();
        if (!log_path)
                return 0;
        log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        if (log_fd < 0)
                return -errno;
        return 0;
}

void audit_close(void) {
        if (log_fd >= 0)
                close(log_fd);
        log_fd = -1;
}

const char *audit_message_id(AuditKind k) {
        return k >= 0 && k < _AUDIT_KIND_MAX ? kinds[k].message_id : NULL;
}

static const char *kind_name(AuditKind k) {
        return k >= 0 && k < _AUDIT_KIND_MAX ? kinds[k].name : "unknown";
}

/* The one-line summary shown by plain journalctl. */
static char *summary(const AuditEvent *ev) {
        char uid[16] = "?";

        if (ev->uid != (uid_t) -1)
                snprintf(uid, sizeof uid, "%u", (unsigned) ev->uid);
        return strdup_printf("%s %s%s%s by uid %s%s%s: %s", ev->action ?: kind_name(ev->kind),
                             ev->org ?: "-", ev->secret_id ? "/" : "", ev->secret_id ?: "",
                             uid, ev->unit ? " unit " : "", ev->unit ?: "", ev->outcome ?: "ok");
}

/* One journal field "NAME=value" as an iovec; skipped when value is NULL. */
static int push_field(struct iovec *iov, size_t *n, char **owned, const char *name, const char *value) {
        if (!value)
                return 0;
        char *f = strdup_printf("%s=%s", name, value);
        if (!f)
                return -ENOMEM;
        owned[*n] = f;
        iov[*n] = (struct iovec) { .iov_base = f, .iov_len = strlen(f) };
        (*n)++;
        return 0;
}

static void emit_journal(const AuditEvent *ev) {
        struct iovec iov[16];
        char *owned[16] = {};
        char uid[16], pid[16], prio[4];
        _cleanup_free_ char *message = summary(ev);
        size_t n = 0;
        int r = 0;

        snprintf(uid, sizeof uid, "%u", (unsigned) ev->uid);
        snprintf(pid, sizeof pid, "%d", (int) ev->pid);
        snprintf(prio, sizeof prio, "%d", kinds[ev->kind].priority);
        if (push_field(iov, &n, owned, "MESSAGE", message ?: kind_name(ev->kind)) < 0 ||
            push_field(iov, &n, owned, "MESSAGE_ID", kinds[ev->kind].message_id) < 0 ||
            push_field(iov, &n, owned, "PRIORITY", prio) < 0 ||
            push_field(iov, &n, owned, "ORGVAULT_KIND", kinds[ev->kind].name) < 0 ||
            push_field(iov, &n, owned, "ORGVAULT_UID", ev->uid != (uid_t) -1 ? uid : NULL) < 0 ||
            push_field(iov, &n, owned, "ORGVAULT_PID", ev->pid > 0 ? pid : NULL) < 0 ||
            push_field(iov, &n, owned, "ORGVAULT_UNIT", ev->unit) < 0 ||
            push_field(iov, &n, owned, "ORGVAULT_ACTION", ev->action) < 0 ||
            push_field(iov, &n, owned, "ORGVAULT_ORG", ev->org) < 0 ||
            push_field(iov, &n, owned, "ORGVAULT_SECRET", ev->secret_id) < 0 ||
            push_field(iov, &n, owned, "ORGVAULT_OUTCOME", ev->outcome ?: "ok") < 0 ||
            push_field(iov, &n, owned, "ORGVAULT_DETAIL", ev->detail) < 0)
                r = -ENOMEM;
        if (r == 0)
                r = sd_journal_sendv(iov, (int) n);
        if (r < 0)
                log_debug("Cannot write an audit record to the journal: %s", strerror(-r));
        for (size_t i = 0; i < n; i++)
                free(owned[i]);
}

static json_t *optional_string(const char *s) {
        return s ? json_string(s) : json_null();
}

static void emit_file(const AuditEvent *ev) {
        _cleanup_json_ json_t *j = json_object();
        _cleanup_free_ char *line = NULL;

        if (!j)
                return;
        /* json_object_set_new steals even on failure; a NULL value fails. */
        json_object_set_new(j, "time", json_integer((json_int_t) now_usec()));
        json_object_set_new(j, "message_id", json_string(kinds[ev->kind].message_id));
        json_object_set_new(j, "kind", json_string(kinds[ev->kind].name));
        json_object_set_new(j, "uid", ev->uid != (uid_t) -1 ? json_integer(ev->uid) : json_null());
        json_object_set_new(j, "pid", ev->pid > 0 ? json_integer(ev->pid) : json_null());
        json_object_set_new(j, "unit", optional_string(ev->unit));
        json_object_set_new(j, "action", optional_string(ev->action));
        json_object_set_new(j, "org", optional_string(ev->org));
        json_object_set_new(j, "secret", optional_string(ev->secret_id));
        json_object_set_new(j, "outcome", json_string(ev->outcome ?: "ok"));
        json_object_set_new(j, "detail", optional_string(ev->detail));

        /* Compact output escapes newlines, so a record is exactly one line. */
        line = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (!line)
                return;
        size_t len = strlen(line);
        _cleanup_free_ char *buf = malloc(len + 1);
        if (!buf)
                return;
        memcpy(buf, line, len);
        buf[len] = '\n';
        /* One write per record: with O_APPEND each line lands whole at the end. */
        ssize_t w = write(log_fd, buf, len + 1);
        if (w != (ssize_t) (len + 1))
                log_error("Cannot append to the audit log: %s", w < 0 ? strerror(errno) : "short write");
}

void audit_emit(const AuditEvent *ev) {
        if (!ev || ev->kind < 0 || ev->kind >= _AUDIT_KIND_MAX)
                return;
        emit_journal(ev);
        if (log_fd >= 0)
                emit_file(ev);
}
