/* SPDX-License-Identifier: Apache-2.0 */
/* Audit records (docs/API.md): one journal entry per event with ORGVAULT_*
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
        [AUDIT_RESTORE]    = { "restore",    "87e59b53cb2848c3b0c88d944802ae39", LOG_NOTICE },
        [AUDIT_PURGE]      = { "purge",      "6d8c9714a9ea4f9ab63932e6b598ce28", LOG_NOTICE },
        [AUDIT_ROLLBACK]   = { "rollback",   "ce62a1655f98488698ded2f3571bfb63", LOG_NOTICE },
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

/* The journal fields are written into one buffer: a cursor that copies what
 * fits and counts what it needs, so a record too big for the stack buffer is
 * built again in one of the right size. */
typedef struct Cursor {
        char *p, *end;           /* p is NULL once something did not fit */
        size_t need;
} Cursor;

static void put(Cursor *c, const char *s) {
        size_t n = strlen(s);

        c->need += n;
        if (c->p && (size_t) (c->end - c->p) >= n) {
                memcpy(c->p, s, n);
                c->p += n;
        } else
                c->p = NULL;
}

/* Starts field NAME=; finish_field makes it an iovec. */
static char *begin_field(Cursor *c, const char *name) {
        char *start = c->p;
        put(c, name);
        put(c, "=");
        return start;
}

static void finish_field(Cursor *c, char *start, struct iovec *iov, size_t *n) {
        if (c->p)
                iov[(*n)++] = (struct iovec) { .iov_base = start, .iov_len = (size_t) (c->p - start) };
}

/* NAME=value; nothing when value is NULL. */
static void put_field(Cursor *c, const char *name, const char *value, struct iovec *iov, size_t *n) {
        if (!value)
                return;
        char *start = begin_field(c, name);
        put(c, value);
        finish_field(c, start, iov, n);
}

static const char *format_uint(char buf[static 24], unsigned long long v) {
        char *p = buf + 23;

        *p = 0;
        do
                *--p = (char) ('0' + v % 10);
        while (v /= 10);
        return p;
}

#define JOURNAL_FIELDS_MAX 14

/* Fills iov with the event's fields, built in buf; returns the bytes they
 * need (more than size: the iovecs are incomplete, build again). */
static size_t build_journal_fields(const AuditEvent *ev, char *buf, size_t size,
                                   struct iovec iov[static JOURNAL_FIELDS_MAX], size_t *ret_n) {
        char uid_buf[24], pid_buf[24];
        const char *uid = ev->uid != (uid_t) -1 ? format_uint(uid_buf, ev->uid) : NULL;
        const char *pid = ev->pid > 0 ? format_uint(pid_buf, (unsigned long long) ev->pid) : NULL;
        const char prio[2] = { (char) ('0' + kinds[ev->kind].priority), 0 };
        Cursor c = { .p = buf, .end = buf + size };
        size_t n = 0;

        /* The one-line summary plain journalctl shows:
         * "<action> <org>[/<id>] by uid <uid>[ unit <unit>][ for user <user>
         * service <service>]: <outcome>". */
        char *start = begin_field(&c, "MESSAGE");
        put(&c, ev->action ?: kind_name(ev->kind));
        put(&c, " ");
        put(&c, ev->org ?: "-");
        if (ev->secret_id) {
                put(&c, "/");
                put(&c, ev->secret_id);
        }
        put(&c, " by uid ");
        put(&c, uid ?: "?");
        if (ev->unit) {
                put(&c, " unit ");
                put(&c, ev->unit);
        }
        if (ev->user) {
                put(&c, " for user ");
                put(&c, ev->user);
                put(&c, " service ");
                put(&c, ev->service ?: "-");
        }
        put(&c, ": ");
        put(&c, ev->outcome ?: "ok");
        finish_field(&c, start, iov, &n);

        put_field(&c, "MESSAGE_ID", kinds[ev->kind].message_id, iov, &n);
        put_field(&c, "PRIORITY", prio, iov, &n);
        put_field(&c, "ORGVAULT_KIND", kinds[ev->kind].name, iov, &n);
        put_field(&c, "ORGVAULT_UID", uid, iov, &n);
        put_field(&c, "ORGVAULT_PID", pid, iov, &n);
        put_field(&c, "ORGVAULT_UNIT", ev->unit, iov, &n);
        put_field(&c, "ORGVAULT_USER", ev->user, iov, &n);
        put_field(&c, "ORGVAULT_SERVICE", ev->service, iov, &n);
        put_field(&c, "ORGVAULT_ACTION", ev->action, iov, &n);
        put_field(&c, "ORGVAULT_ORG", ev->org, iov, &n);
        put_field(&c, "ORGVAULT_SECRET", ev->secret_id, iov, &n);
        put_field(&c, "ORGVAULT_OUTCOME", ev->outcome ?: "ok", iov, &n);
        put_field(&c, "ORGVAULT_DETAIL", ev->detail, iov, &n);
        *ret_n = n;
        return c.need;
}

/* One journal entry: built on the stack, one sendmsg to journald. */
static void emit_journal(const AuditEvent *ev) {
        struct iovec iov[JOURNAL_FIELDS_MAX];
        char buf[2048];
        _cleanup_free_ char *big = NULL;
        size_t n = 0, need;
        int r;

        need = build_journal_fields(ev, buf, sizeof buf, iov, &n);
        if (need > sizeof buf) {
                big = malloc(need);
                if (!big) {
                        log_debug("Cannot write an audit record to the journal: out of memory");
                        return;
                }
                (void) build_journal_fields(ev, big, need, iov, &n);
        }
        r = sd_journal_sendv(iov, (int) n);
        if (r < 0)
                log_debug_errno(r, "Cannot write an audit record to the journal: %m");
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
        /* Only on records that have them, so other records keep their shape. */
        if (ev->user)
                json_object_set_new(j, "user", json_string(ev->user));
        if (ev->service)
                json_object_set_new(j, "service", json_string(ev->service));
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
        /* One write per record: with O_APPEND each line lands whole at the
         * end. No fsync per line: a line written is in the kernel and
         * survives the daemon crashing; only a power loss can take the last
         * lines, as it can the journal's, which syncs in its own time. An
         * fsync would make every call wait for the disk. */
        ssize_t w = writev(log_fd, (struct iovec[]) { { line, len }, { (char *) "\n", 1 } }, 2);
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
