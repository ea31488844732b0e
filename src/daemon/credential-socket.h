/* SPDX-License-Identifier: Apache-2.0 */
/* The LoadCredential= socket (docs/API.md): root-only peers, the unit and
 * credential id read from the peer's abstract address. */
#pragma once

#include <systemd/sd-event.h>
#include "policy.h"
#include "vault.h"

typedef struct CredentialRequest {
        char *unit;              /* e.g. "alertd.service" */
        char *org;
        char *id;
        char *field;             /* NULL: the whole value as JSON */
} CredentialRequest;

/* Parses a peer's sun_path as systemd makes it: "\0<random>/unit/<unit>/<org>.<id>[.<field>]"
 * (len bytes, the leading NUL included). -EINVAL on anything else. */
int credential_address_parse(const char *sun_path, size_t len, CredentialRequest *ret);
void credential_request_clear(CredentialRequest *r);
/* Splits a credential id "<org>.<id>[.<field>]" (n bytes; org, id and field
 * hold no '.') into req's org, id and field. -EINVAL on anything else. Both
 * the socket's addresses and ResolveForUser name credentials this way. */
int credential_id_parse(const char *s, size_t n, CredentialRequest *req);

typedef struct CredentialServer CredentialServer;

/* Takes a socket-activated listening fd named "credential.sock" (or the only
 * AF_UNIX one) from sd_listen_fds, else binds <runtime_dir>/credential.sock
 * with mode 0600. on_activity (may be NULL) is called for each connection so
 * the daemon's idle timer restarts. */
int credential_server_new(CredentialServer **ret, sd_event *event, Vault *vault, Policy *policy,
                          const TypeRegistry *types, const char *runtime_dir,
                          void (*on_activity)(void *userdata), void *userdata);
void credential_server_free(CredentialServer *s);
static inline void credential_server_freep(CredentialServer **s) { credential_server_free(*s); }
