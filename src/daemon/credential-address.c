/* SPDX-License-Identifier: Apache-2.0 */
/* The peer address systemd binds before it connects to a LoadCredential=
 * socket: "@<random hex>/unit/<unit>/<credential id>" with '@' being the NUL
 * of an abstract address (systemd's load_credential() prints the random part
 * with PRIx64, so it is 1..16 hex digits; we allow up to 64). Outside input:
 * parse strictly, reject anything else. */

#include <errno.h>
#include <string.h>
#include <sys/un.h>

#include "credential-socket.h"

#define RANDOM_HEX_MAX 64
#define UNIT_NAME_MAX 255
#define FIELD_ID_MAX 64

static bool is_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool unit_char_valid(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               strchr(":_.\\@-", c);
}

/* The unit types that can carry credentials, and the others systemd knows:
 * the suffix must be one of them (as systemd's unit_name_is_valid wants). */
static bool unit_suffix_valid(const char *s) {
        static const char *const suffixes[] = {
                "service", "socket", "mount", "swap", "target", "device",
                "automount", "timer", "path", "slice", "scope",
        };
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (strcmp(s, suffixes[i]) == 0)
                        return true;
        return false;
}

static bool unit_name_valid(const char *s, size_t n) {
        if (n == 0 || n > UNIT_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!unit_char_valid(s[i]))
                        return false;
        const char *dot = memrchr(s, '.', n);
        if (!dot || dot == s)
                return false;
        /* "a@.service" is a template: systemd never loads credentials for one. */
        if (dot[-1] == '@')
                return false;
        char suffix[16];
        size_t m = n - (size_t) (dot + 1 - s);
        if (m == 0 || m >= sizeof(suffix))
                return false;
        memcpy(suffix, dot + 1, m);
        suffix[m] = 0;
        return unit_suffix_valid(suffix);
}

static bool field_id_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > FIELD_ID_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return false;
        return true;
}

void credential_request_clear(CredentialRequest *r) {
        if (!r)
                return;
        free(r->unit);
        free(r->org);
        free(r->id);
        free(r->field);
        *r = (CredentialRequest) {};
}

int credential_id_parse(const char *s, size_t n, CredentialRequest *req) {
        char buf[OV_ORG_MAX + 1 + OV_ID_MAX + 1 + FIELD_ID_MAX + 1];

        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = 0;

        char *id = strchr(buf, '.');
        if (!id)
                return -EINVAL;
        *id++ = 0;
        char *field = strchr(id, '.');
        if (field)
                *field++ = 0;
        if (!org_name_valid(buf) || !secret_id_valid(id) || (field && !field_id_valid(field)))
                return -EINVAL;

        req->org = strdup(buf);
        req->id = strdup(id);
        if (field)
                req->field = strdup(field);
        if (!req->org || !req->id || (field && !req->field))
                return -ENOMEM;
        return 0;
}

int credential_address_parse(const char *sun_path, size_t len, CredentialRequest *ret) {
        static const char unit_tag[] = "/unit/";
        _cleanup_(credential_request_clear) CredentialRequest req = {};
        int r;

        if (!sun_path || !ret)
                return -EINVAL;
        /* Abstract only: a path name could be anyone's file. */
        if (len < 2 || len > sizeof(((struct sockaddr_un *) NULL)->sun_path) || sun_path[0] != 0)
                return -EINVAL;
        const char *p = sun_path + 1, *end = sun_path + len;
        if (memchr(p, 0, (size_t) (end - p)))
                return -EINVAL;

        const char *q = p;
        while (q < end && is_hex(*q))
                q++;
        if (q == p || q - p > RANDOM_HEX_MAX)
                return -EINVAL;
        if ((size_t) (end - q) < strlen(unit_tag) || memcmp(q, unit_tag, strlen(unit_tag)) != 0)
                return -EINVAL;
        q += strlen(unit_tag);

        const char *slash = memchr(q, '/', (size_t) (end - q));
        if (!slash || !unit_name_valid(q, (size_t) (slash - q)))
                return -EINVAL;
        const char *cred = slash + 1;
        if (memchr(cred, '/', (size_t) (end - cred)))
                return -EINVAL;

        req.unit = strndup(q, (size_t) (slash - q));
        if (!req.unit)
                return -ENOMEM;
        r = credential_id_parse(cred, (size_t) (end - cred), &req);
        if (r < 0)
                return r;

        *ret = req;
        req = (CredentialRequest) {};
        return 0;
}
