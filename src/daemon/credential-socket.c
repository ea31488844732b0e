/* SPDX-License-Identifier: Apache-2.0 */
/* The LoadCredential= socket (docs/API.md). systemd's root helper binds an
 * abstract address naming the unit and credential, connects, shuts down its
 * write side and reads to EOF. We check the peer is root, that the unit is a
 * consumer allowed the secret's type, write the value and close. There is no
 * way to say "no": a refusal is an empty read, logged and audited.
 *
 * Writes never block the daemon: each connection is non-blocking, has its
 * own io source that writes as the socket drains, and a deadline. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include "audit.h"
#include "credential-socket.h"
#include "crypto.h"
#include "log.h"

#define SOCKET_NAME "credential.sock"
#define UNIT_SOCKET_NAME "orgvault-credential.socket"   /* systemd's default FileDescriptorName */
#define CONNECTION_TIMEOUT_USEC (5 * 1000000ULL)
#define CONNECTIONS_MAX 64

typedef struct Connection Connection;

static sd_event_source *event_source_disable_unref(sd_event_source *es) {
        if (es) {
                (void) sd_event_source_set_enabled(es, SD_EVENT_OFF);
                sd_event_source_unref(es);
        }
        return NULL;
}

struct CredentialServer {
        sd_event *event;
        Vault *vault;
        Policy *policy;
        const TypeRegistry *types;
        int listen_fd;
        char *bound_path;        /* set when we bound it (unlinked on free) */
        sd_event_source *listen_source;
        void (*on_activity)(void *userdata);
        void *userdata;
        Connection *connections;
        unsigned n_connections;
};

/* A granted request whose value is still being written. */
struct Connection {
        CredentialServer *server;
        Connection *prev, *next;
        int fd;
        sd_event_source *io, *timer;
        char *value;             /* sodium_malloc'd, wiped on free */
        size_t len, written;
        char *what;              /* "<unit> <credential id>" for log lines */
};

/* The peer's credential id as the unit asked for it (never a value). */
static char *credential_id_string(const CredentialRequest *req) {
        return req->field ? strdup_printf("%s.%s.%s", req->org, req->id, req->field)
                          : strdup_printf("%s.%s", req->org, req->id);
}

static void connection_free(Connection *c) {
        if (!c)
                return;
        CredentialServer *s = c->server;
        if (c->prev)
                c->prev->next = c->next;
        else
                s->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        event_source_disable_unref(c->io);
        event_source_disable_unref(c->timer);
        if (c->fd >= 0)
                close(c->fd);
        crypto_free_plain(c->value);
        free(c->what);
        free(c);

        /* A slot is free again: take the next queued peer. */
        if (s->n_connections-- == CONNECTIONS_MAX && s->listen_source)
                (void) sd_event_source_set_enabled(s->listen_source, SD_EVENT_ON);
}

static int on_connection_writable(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        Connection *c = userdata;

        while (c->written < c->len) {
                ssize_t n = send(fd, c->value + c->written, c->len - c->written, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;       /* wait until the peer reads */
                        log_warning("Credential %s: peer went away before reading it all: %m", c->what);
                        break;
                }
                c->written += (size_t) n;
        }
        connection_free(c);
        return 0;
}

static int on_connection_timeout(sd_event_source *es, uint64_t usec, void *userdata) {
        Connection *c = userdata;

        log_warning("Credential %s: peer did not read the value in time, closing", c->what);
        connection_free(c);
        return 0;
}

/* Takes ownership of fd and value (on failure too). */
static int connection_start(CredentialServer *s, int fd, char *value, size_t len, const char *what) {
        Connection *c = calloc(1, sizeof(*c));
        int r;

        if (!c) {
                close(fd);
                crypto_free_plain(value);
                return -ENOMEM;
        }
        *c = (Connection) { .server = s, .fd = fd, .value = value, .len = len, .next = s->connections };
        if (s->connections)
                s->connections->prev = c;
        s->connections = c;
        if (++s->n_connections == CONNECTIONS_MAX)
                (void) sd_event_source_set_enabled(s->listen_source, SD_EVENT_OFF);

        c->what = strdup(what);
        if (!c->what) {
                connection_free(c);
                return -ENOMEM;
        }
        r = sd_event_add_io(s->event, &c->io, fd, EPOLLOUT, on_connection_writable, c);
        if (r >= 0)
                r = sd_event_add_time_relative(s->event, &c->timer, CLOCK_MONOTONIC, CONNECTION_TIMEOUT_USEC, 0,
                                               on_connection_timeout, c);
        if (r < 0) {
                connection_free(c);
                return r;
        }
        return 0;
}

/* A refusal goes under the denied MESSAGE_ID like a refused D-Bus call, so
 * `journalctl MESSAGE_ID=<denied>` finds both; the fields stay the same. */
static void audit_credential(const struct ucred *peer, const CredentialRequest *req,
                             const char *outcome, const char *detail) {
        audit_emit(&(AuditEvent) {
                .kind = strcmp(outcome, "denied") == 0 ? AUDIT_DENIED : AUDIT_CREDENTIAL,
                .uid = peer ? peer->uid : (uid_t) -1,
                .pid = peer ? peer->pid : 0,
                .unit = req ? req->unit : NULL,
                .action = "LoadCredential",
                .org = req ? req->org : NULL,
                .secret_id = req ? req->id : NULL,
                .outcome = outcome,
                .detail = detail,
        });
}

/* The printable form of a peer address that did not parse, for the log. */
static void escape_address(const char *a, size_t n, char *buf, size_t size) {
        size_t j = 0;

        for (size_t i = 0; i < n && j + 5 < size; i++) {
                unsigned char ch = (unsigned char) a[i];
                if (ch == 0 && i == 0)
                        buf[j++] = '@';
                else if (ch >= 0x20 && ch < 0x7f && ch != '\\')
                        buf[j++] = (char) ch;
                else
                        j += (size_t) snprintf(buf + j, size - j, "\\x%02x", ch);
        }
        buf[j] = 0;
}

/* Decides the request. 0 with *ret_value set when granted; otherwise a
 * negative errno and *ret_outcome and *ret_reason say why (no value involved). */
static int decide(CredentialServer *s, const CredentialRequest *req, char **ret_value, size_t *ret_len,
                  const char **ret_outcome, char **ret_reason) {
        const Caller caller = { .uid = 0, .unit = req->unit };
        const Secret *secret = NULL;
        OvError e = {};
        int r;

        r = policy_refresh(s->policy);
        if (r < 0)
                log_warning_errno(r, "Policy reload failed, keeping the old one: %m");

        /* No role, no lookup: an org is not loaded for a unit that may
         * never have its values. */
        if (!policy_may(s->policy, req->org, ACTION_RESOLVE, &caller)) {
                *ret_outcome = "denied";
                *ret_reason = strdup_printf("unit %s is no consumer of org %s", req->unit, req->org);
                return -EACCES;
        }
        r = vault_get(s->vault, req->org, req->id, &secret, &e);
        if (r < 0 && e.code != OV_ERR_NOT_FOUND)
                goto vault_error;
        const SecretType *t = r >= 0 ? type_registry_find(s->types, secret->type) : NULL;
        const Consumer *k = NULL;
        r = policy_may_resolve(s->policy, req->org, req->id, &caller, r >= 0, t, &k, &e);
        if (r < 0 && e.code == OV_ERR_ACCESS_DENIED) {
                *ret_outcome = "denied";
                *ret_reason = strdup(e.message);
                return r;
        }
        if (r < 0)
                goto vault_error;
        if (req->field && !secret_type_field(t, req->field)) {
                *ret_outcome = ov_error_dbus_name(OV_ERR_NOT_FOUND);
                *ret_reason = strdup_printf("type %s has no field %s", secret->type, req->field);
                return -ENOENT;
        }
        if (req->field)
                r = vault_resolve_field(s->vault, req->org, req->id, req->field, k->name, ret_value, ret_len, &e);
        else
                r = vault_resolve(s->vault, req->org, req->id, k->name, ret_value, ret_len, &e);
        if (r < 0)
                goto vault_error;
        return 0;

vault_error:
        *ret_outcome = ov_error_dbus_name(e.code);
        *ret_reason = strdup(e.message);
        return r;
}

static void serve(CredentialServer *s, int fd) {
        _cleanup_close_ int conn = fd;
        _cleanup_(credential_request_clear) CredentialRequest req = {};
        _cleanup_free_ char *cred_id = NULL, *reason = NULL, *what = NULL;
        struct ucred peer = {};
        socklen_t peer_len = sizeof(peer);
        struct sockaddr_un sa = {};
        socklen_t sa_len = sizeof(sa);
        const char *outcome = NULL;
        char *value = NULL;
        size_t len = 0;
        int r;

        if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &peer_len) < 0) {
                log_warning("Credential socket: cannot read the peer's credentials: %m");
                return;
        }
        /* The address names what the peer asks for; parse it first so every
         * refusal can name the unit and credential. */
        if (getpeername(conn, (struct sockaddr *) &sa, &sa_len) < 0 ||
            sa_len <= offsetof(struct sockaddr_un, sun_path) || sa.sun_family != AF_UNIX ||
            credential_address_parse(sa.sun_path, sa_len - offsetof(struct sockaddr_un, sun_path), &req) < 0) {
                char shown[4 * sizeof(sa.sun_path) + 8] = "";
                if (sa_len > offsetof(struct sockaddr_un, sun_path) && sa_len <= sizeof(sa))
                        escape_address(sa.sun_path, sa_len - offsetof(struct sockaddr_un, sun_path), shown, sizeof(shown));
                log_warning("Credential socket: refused peer uid %u pid %d: unparsable address \"%s\"",
                            (unsigned) peer.uid, (int) peer.pid, shown);
                _cleanup_free_ char *detail = strdup_printf("unparsable peer address \"%s\"", shown);
                audit_credential(&peer, NULL, "denied", detail ?: "unparsable peer address");
                return;
        }
        cred_id = credential_id_string(&req);
        what = strdup_printf("%s %s", req.unit, cred_id ?: "?");
        if (!cred_id || !what) {
                log_error("Credential socket: out of memory");
                return;
        }

        if (peer.uid != 0) {
                outcome = "denied";
                reason = strdup_printf("peer uid %u is not root", (unsigned) peer.uid);
                r = -EPERM;
        } else
                r = decide(s, &req, &value, &len, &outcome, &reason);
        if (r < 0) {
                log_warning("Credential %s for unit %s refused: %s", cred_id, req.unit, reason ?: "out of memory");
                _cleanup_free_ char *detail = strdup_printf("%s: %s", cred_id, reason ?: "out of memory");
                audit_credential(&peer, &req, outcome, detail ?: cred_id);
                return;
        }

        log_info("Credential %s handed to unit %s", cred_id, req.unit);
        audit_credential(&peer, &req, "ok", cred_id);
        r = connection_start(s, conn, value, len, what);
        conn = -EBADF;  /* owned by the connection now */
        if (r < 0)
                log_error_errno(r, "Credential %s: cannot start writing: %m", what);
}

static int on_listen_ready(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        CredentialServer *s = userdata;
        int conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (conn < 0) {
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        log_warning("Credential socket: accept failed: %m");
                return 0;
        }
        if (s->on_activity)
                s->on_activity(s->userdata);
        serve(s, conn);
        return 0;
}

/* A socket-activated fd: the one named for us, or the only AF_UNIX stream
 * listener. Others passed to us are closed. -ENOENT when there is none. */
static int take_listen_fd(void) {
        _cleanup_strv_free_ char **names = NULL;
        int n = sd_listen_fds_with_names(1, &names), found = -ENOENT, n_unix = 0;

        if (n <= 0)
                return n < 0 ? n : -ENOENT;
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                const char *name = names ? names[i] : NULL;
                if (name && (strcmp(name, SOCKET_NAME) == 0 || strcmp(name, UNIT_SOCKET_NAME) == 0)) {
                        found = fd;
                        break;
                }
        }
        if (found < 0)
                for (int i = 0; i < n; i++)
                        if (sd_is_socket_unix(SD_LISTEN_FDS_START + i, SOCK_STREAM, 1, NULL, 0) > 0) {
                                n_unix++;
                                found = SD_LISTEN_FDS_START + i;
                        }
        if (n_unix > 1)
                found = -ENOENT;
        for (int i = 0; i < n; i++)
                if (SD_LISTEN_FDS_START + i != found)
                        close(SD_LISTEN_FDS_START + i);
        return found;
}

static int bind_listen_fd(const char *runtime_dir, char **ret_path) {
        _cleanup_free_ char *path = strdup_printf("%s/" SOCKET_NAME, runtime_dir);
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int r;

        if (!path)
                return -ENOMEM;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);

        r = mkdir_p_at(AT_FDCWD, runtime_dir, 0755);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        /* Root-only from the first moment: the umask covers the window
         * before chmod. */
        mode_t old = umask(0177);
        r = bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ? -errno : 0;
        umask(old);
        if (r < 0)
                return r;
        if (chmod(path, 0600) < 0 || listen(fd, SOMAXCONN) < 0) {
                r = -errno;
                (void) unlink(path);
                return r;
        }
        *ret_path = path;
        path = NULL;
        r = fd;
        fd = -EBADF;
        return r;
}

int credential_server_new(CredentialServer **ret, sd_event *event, Vault *vault, Policy *policy,
                          const TypeRegistry *types, const char *runtime_dir,
                          void (*on_activity)(void *userdata), void *userdata) {
        CredentialServer *s;
        int r;

        if (!ret || !event || !vault || !policy || !types || !runtime_dir)
                return -EINVAL;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        *s = (CredentialServer) {
                .event = sd_event_ref(event), .vault = vault, .policy = policy, .types = types,
                .listen_fd = -EBADF, .on_activity = on_activity, .userdata = userdata,
        };

        r = take_listen_fd();
        if (r >= 0) {
                s->listen_fd = r;
                r = fcntl(s->listen_fd, F_SETFL, fcntl(s->listen_fd, F_GETFL) | O_NONBLOCK) < 0 ? -errno : 0;
                log_info("Credential socket: using the socket-activated listener");
        } else if (r == -ENOENT) {
                r = bind_listen_fd(runtime_dir, &s->bound_path);
                if (r >= 0) {
                        s->listen_fd = r;
                        log_info("Credential socket: listening on %s", s->bound_path);
                }
        }
        if (r >= 0)
                r = sd_event_add_io(event, &s->listen_source, s->listen_fd, EPOLLIN, on_listen_ready, s);
        if (r < 0) {
                credential_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void credential_server_free(CredentialServer *s) {
        if (!s)
                return;
        s->listen_source = event_source_disable_unref(s->listen_source);
        while (s->connections)
                connection_free(s->connections);
        if (s->listen_fd >= 0)
                close(s->listen_fd);
        if (s->bound_path)
                (void) unlink(s->bound_path);
        free(s->bound_path);
        sd_event_unref(s->event);
        free(s);
}
