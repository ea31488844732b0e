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
        _OV_ERR_MAX,
} OvErrorCode;

typedef struct OvError {
        OvErrorCode code;
        char message[1024];
} OvError;

/* Sets the error (when e != NULL) and returns -(int)code so callers can write
 * `return ov_error_set(e, OV_ERR_NOT_FOUND, "No secret %s", id);`. */
int ov_error_set(OvError *e, OvErrorCode code, const char *fmt, ...) _printf_(3, 4);
const char *ov_error_dbus_name(OvErrorCode code);
OvErrorCode ov_error_from_dbus_name(const char *name);
