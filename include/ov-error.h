/* SPDX-License-Identifier: Apache-2.0 */
/* The named errors of docs/API.md, carried from the core to the bus layer. */
#pragma once

#include "util.h"

typedef enum OvErrorCode {
        OV_OK = 0,
        OV_ERR_ACCESS_DENIED,    /* org.freedesktop.DBus.Error.AccessDenied */
        OV_ERR_INVALID_ARGS,     /* org.freedesktop.DBus.Error.InvalidArgs */
        OV_ERR_NOT_FOUND,        /* io.orgvault.Vault1.Error.NotFound */
        OV_ERR_NAME_EXISTS,
        OV_ERR_INVALID_FIELD,
        OV_ERR_UNKNOWN_TYPE,
        OV_ERR_IN_USE,
        OV_ERR_SEALED,
        OV_ERR_STORAGE_FAILURE,
        OV_ERR_NO_MEMORY,        /* org.freedesktop.DBus.Error.NoMemory */
        OV_ERR_CONFLICT,         /* another host changed it first: retry */
        _OV_ERR_MAX,
} OvErrorCode;

typedef struct OvError {
        OvErrorCode code;
        char message[1024];
} OvError;

/* The one error convention: a function returns 0 (or more) on success and a
 * negative errno on failure, never anything else; when it takes an OvError,
 * that is the only carrier of the named error, so callers branch on e.code,
 * never on the int.
 *
 * ov_error_set sets the error (when e != NULL) and returns the errno that
 * goes with the code (ov_error_errno), so callers can write
 * `return ov_error_set(e, OV_ERR_NOT_FOUND, "No secret %s", id);`.
 * ov_error_set_errno is the same for a failure with a cause r (a negative
 * errno), which "%m" in fmt prints; it returns r. */
int ov_error_set(OvError *e, OvErrorCode code, const char *fmt, ...) _printf_(3, 4);
int ov_error_set_errno(OvError *e, OvErrorCode code, int r, const char *fmt, ...) _printf_(4, 5);
/* -EACCES for AccessDenied, -ENOENT for NotFound, -EIO for StorageFailure, ... */
int ov_error_errno(OvErrorCode code);
const char *ov_error_dbus_name(OvErrorCode code);
OvErrorCode ov_error_from_dbus_name(const char *name);
