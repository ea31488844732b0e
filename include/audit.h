/* SPDX-License-Identifier: Apache-2.0 */
/* Audit records to the journal (one MESSAGE_ID per kind) and optionally to an
 * append-only JSON-lines file. Never a value. */
#pragma once

#include "util.h"

typedef enum AuditKind {
        AUDIT_ADD, AUDIT_UPDATE, AUDIT_RENAME, AUDIT_DELETE, AUDIT_REFERENCE,
        AUDIT_RESOLVE, AUDIT_DENIED, AUDIT_SEAL, AUDIT_UNSEAL, AUDIT_ROTATE,
        AUDIT_CREDENTIAL, AUDIT_RESTORE, AUDIT_PURGE, AUDIT_ROLLBACK, _AUDIT_KIND_MAX,
} AuditKind;

typedef struct AuditEvent {
        AuditKind kind;
        uid_t uid;               /* (uid_t)-1 if unknown */
        pid_t pid;               /* 0 if unknown */
        const char *unit;        /* NULL if unknown */
        const char *user;        /* the user a root caller asks for (ResolveForUser), else NULL */
        const char *service;     /* the PAM service it names, else NULL */
        const char *action;      /* method or action name */
        const char *org;
        const char *secret_id;
        const char *outcome;     /* "ok", "denied", or the error name */
        const char *detail;      /* free text, e.g. broken references; never a value */
} AuditEvent;

int audit_open(const char *log_path);   /* NULL: journal only */
void audit_close(void);
void audit_emit(const AuditEvent *ev);
const char *audit_message_id(AuditKind k);  /* 32 hex chars */
