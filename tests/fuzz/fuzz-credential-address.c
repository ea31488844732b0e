/* SPDX-License-Identifier: Apache-2.0 */
/* The credential socket's peer address (docs/API.md): anyone root can bind
 * any abstract name, so the bytes of sun_path are outside input.
 * credential_address_parse gets the raw bytes, leading NUL included. */

#include <string.h>
#include <sys/un.h>

#include "credential-socket.h"
#include "fuzz-common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_setup();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* The kernel never hands over more than sun_path holds. */
        char sun_path[sizeof(((struct sockaddr_un *) NULL)->sun_path)];
        CredentialRequest req = {};

        if (size > sizeof sun_path)
                return 0;
        memcpy(sun_path, data, size);
        if (credential_address_parse(sun_path, size, &req) < 0)
                return 0;
        /* What it accepts names a unit and a valid org and secret id. */
        if (!req.unit || !req.unit[0] || !org_name_valid(req.org) || !secret_id_valid(req.id) ||
            (req.field && !req.field[0]))
                abort();
        credential_request_clear(&req);
        return 0;
}
