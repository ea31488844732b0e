/* SPDX-License-Identifier: Apache-2.0 */
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
};

int ov_error_set(OvError *e, OvErrorCode code, const char *fmt, ...) {
        if (e) {
                va_list ap;
                e->code = code;
                va_start(ap, fmt);
                vsnprintf(e->message, sizeof e->message, fmt, ap);
                va_end(ap);
        }
        return -(int) code;
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
