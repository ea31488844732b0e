/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ov-error.h"

static const char *const dbus_names[_OV_ERR_MAX] = {
        [OV_OK] = NULL,
        [OV_ERR_ACCESS_DENIED] = "org.freedesktop.DBus.Error.AccessDenied",
        [OV_ERR_INVALID_ARGS] = "org.freedesktop.DBus.Error.InvalidArgs",
        [OV_ERR_NOT_FOUND] = "io.orgvault.Vault1.Error.NotFound",
        [OV_ERR_NAME_EXISTS] = "io.orgvault.Vault1.Error.NameExists",
        [OV_ERR_INVALID_FIELD] = "io.orgvault.Vault1.Error.InvalidField",
        [OV_ERR_UNKNOWN_TYPE] = "io.orgvault.Vault1.Error.UnknownType",
        [OV_ERR_IN_USE] = "io.orgvault.Vault1.Error.InUse",
        [OV_ERR_SEALED] = "io.orgvault.Vault1.Error.Sealed",
        [OV_ERR_STORAGE_FAILURE] = "io.orgvault.Vault1.Error.StorageFailure",
        [OV_ERR_NO_MEMORY] = "org.freedesktop.DBus.Error.NoMemory",
        [OV_ERR_CONFLICT] = "io.orgvault.Vault1.Error.Conflict",
};

static const int errnos[_OV_ERR_MAX] = {
        [OV_OK] = 0,
        [OV_ERR_ACCESS_DENIED] = EACCES,
        [OV_ERR_INVALID_ARGS] = EINVAL,
        [OV_ERR_NOT_FOUND] = ENOENT,
        [OV_ERR_NAME_EXISTS] = EEXIST,
        [OV_ERR_INVALID_FIELD] = EINVAL,
        [OV_ERR_UNKNOWN_TYPE] = EINVAL,
        [OV_ERR_IN_USE] = EBUSY,
        [OV_ERR_SEALED] = ENOKEY,
        [OV_ERR_STORAGE_FAILURE] = EIO,
        [OV_ERR_NO_MEMORY] = ENOMEM,
        [OV_ERR_CONFLICT] = ESTALE,
};

int ov_error_errno(OvErrorCode code) {
        if (code <= OV_OK || code >= _OV_ERR_MAX)
                return -EIO;
        return -errnos[code];
}

_printf_(4, 0) static void set_va(OvError *e, OvErrorCode code, int err, const char *fmt, va_list ap) {
        e->code = code;
        errno = err;            /* what "%m" prints */
        vsnprintf(e->message, sizeof e->message, fmt, ap);
}

int ov_error_set(OvError *e, OvErrorCode code, const char *fmt, ...) {
        if (e) {
                va_list ap;
                int saved_errno = errno;
                va_start(ap, fmt);
                set_va(e, code, saved_errno, fmt, ap);
                va_end(ap);
                errno = saved_errno;
        }
        return ov_error_errno(code);
}

int ov_error_set_errno(OvError *e, OvErrorCode code, int r, const char *fmt, ...) {
        if (r >= 0)
                r = ov_error_errno(code);
        if (e) {
                va_list ap;
                int saved_errno = errno;
                va_start(ap, fmt);
                set_va(e, code, -r, fmt, ap);
                va_end(ap);
                errno = saved_errno;
        }
        return r;
}

const char *ov_error_dbus_name(OvErrorCode code) {
        if (code <= OV_OK || code >= _OV_ERR_MAX)
                return "org.freedesktop.DBus.Error.Failed";
        return dbus_names[code];
}

OvErrorCode ov_error_from_dbus_name(const char *name) {
        for (int i = 1; i < _OV_ERR_MAX; i++)
                if (name && strcmp(dbus_names[i], name) == 0)
                        return (OvErrorCode) i;
        return OV_OK;
}
