/* SPDX-License-Identifier: Apache-2.0 */
/* The credential socket's peer-address parser (the daemon library's
 * credential-address.c). */
#include <errno.h>
#include <string.h>
#include <sys/un.h>

#include "check-main.h"
#include "credential-socket.h"

#define SUN_PATH_MAX sizeof(((struct sockaddr_un *) NULL)->sun_path)

/* Parses "@..." ('@' = the leading NUL) of the given length. */
static int parse_n(const char *addr, size_t n, CredentialRequest *req) {
        char buf[512];
        ck_assert_uint_le(n, sizeof(buf));
        memcpy(buf, addr, n);
        if (n > 0 && buf[0] == '@')
                buf[0] = 0;
        return credential_address_parse(buf, n, req);
}

static int parse(const char *addr, CredentialRequest *req) {
        return parse_n(addr, strlen(addr), req);
}

static void assert_rejected(const char *addr) {
        CredentialRequest req = {};
        int r = parse(addr, &req);
        if (r != -EINVAL)
                ck_abort_msg("accepted or wrong error (%d) for \"%s\"", r, addr);
        ck_assert_ptr_null(req.unit);
        ck_assert_ptr_null(req.org);
}

START_TEST(test_whole_value) {
        CredentialRequest req = {};
        ck_assert_int_eq(parse("@0123456789abcdef/unit/alertd.service/acme.ops-slack", &req), 0);
        ck_assert_str_eq(req.unit, "alertd.service");
        ck_assert_str_eq(req.org, "acme");
        ck_assert_str_eq(req.id, "ops-slack");
        ck_assert_ptr_null(req.field);
        credential_request_clear(&req);
        ck_assert_ptr_null(req.unit);
        credential_request_clear(&req);  /* twice is fine */
}
END_TEST

START_TEST(test_field) {
        CredentialRequest req = {};
        ck_assert_int_eq(parse("@5/unit/alertd.service/acme.ops_slack-2.webhook_url", &req), 0);
        ck_assert_str_eq(req.unit, "alertd.service");
        ck_assert_str_eq(req.org, "acme");
        ck_assert_str_eq(req.id, "ops_slack-2");
        ck_assert_str_eq(req.field, "webhook_url");
        credential_request_clear(&req);
}
END_TEST

/* Unit names as systemd allows them: instances, escapes, colons, other types. */
START_TEST(test_unit_names) {
        static const char *const good[] = {
                "getty@tty1.service", "a.socket", "foo\\x2dbar.service", "x:y_z-1.mount",
                "dev-sda1.swap", "UPPER.service",
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                char addr[256];
                CredentialRequest req = {};
                snprintf(addr, sizeof(addr), "@abc/unit/%s/acme.x", good[i]);
                ck_assert_msg(parse(addr, &req) == 0, "rejected %s", good[i]);
                ck_assert_str_eq(req.unit, good[i]);
                credential_request_clear(&req);
        }
}
END_TEST

START_TEST(test_malformed) {
        static const char *const bad[] = {
                "",                                              /* nothing */
                "@",                                             /* NUL only */
                "0123/unit/alertd.service/acme.x",               /* path name, not abstract */
                "@/unit/alertd.service/acme.x",                  /* no random part */
                "@xyz/unit/alertd.service/acme.x",               /* random part not hex */
                "@12 /unit/alertd.service/acme.x",
                "@12/units/alertd.service/acme.x",
                "@12/UNIT/alertd.service/acme.x",
                "@12/unit/alertd.service",                       /* no credential */
                "@12/unit/alertd.service/",
                "@12/unit//acme.x",                              /* no unit */
                "@12/unit/alertd/acme.x",                        /* no suffix */
                "@12/unit/alertd.bogus/acme.x",                  /* unknown suffix */
                "@12/unit/.service/acme.x",
                "@12/unit/alertd./acme.x",
                "@12/unit/getty@.service/acme.x",                /* template */
                "@12/unit/al ertd.service/acme.x",
                "@12/unit/alertd.service/acme",                  /* no id */
                "@12/unit/alertd.service/acme.",
                "@12/unit/alertd.service/.x",
                "@12/unit/alertd.service/Acme.x",                /* org not a slug */
                "@12/unit/alertd.service/-acme.x",
                "@12/unit/alertd.service/acme.-x",               /* id not a slug */
                "@12/unit/alertd.service/acme.X",
                "@12/unit/alertd.service/acme.x.",               /* empty field */
                "@12/unit/alertd.service/acme.x.Field",
                "@12/unit/alertd.service/acme.x.web-hook",
                "@12/unit/alertd.service/acme.x.y.z",            /* too many parts */
                "@12/unit/alertd.service/acme.x/y",
                "@12/unit/alertd.service/../acme.x",
                "@12/unit/alertd.service/acme.x\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_rejected(bad[i]);
}
END_TEST

START_TEST(test_embedded_nul) {
        static const char a[] = "@12/unit/alertd.service/acme.x\0y";
        CredentialRequest req = {};
        ck_assert_int_eq(parse_n(a, sizeof(a) - 1, &req), -EINVAL);
        static const char b[] = "@12/unit/alert\0d.service/acme.x";
        ck_assert_int_eq(parse_n(b, sizeof(b) - 1, &req), -EINVAL);
        ck_assert_int_eq(credential_address_parse(NULL, 4, &req), -EINVAL);
}
END_TEST

START_TEST(test_bounds) {
        CredentialRequest req = {};
        char addr[512], part[300];

        /* 64 hex digits of random part are fine, 65 are not. */
        memset(part, 'a', 64);
        part[64] = 0;
        snprintf(addr, sizeof(addr), "@%s/unit/a.service/acme.x", part);
        ck_assert_int_eq(parse(addr, &req), 0);
        credential_request_clear(&req);
        snprintf(addr, sizeof(addr), "@%sa/unit/a.service/acme.x", part);
        ck_assert_int_eq(parse(addr, &req), -EINVAL);

        /* A field of 64 characters; 65 are too many. */
        memset(part, 'f', 64);
        part[64] = 0;
        snprintf(addr, sizeof(addr), "@1/unit/a.service/a.b.%s", part);
        ck_assert_int_eq(parse(addr, &req), 0);
        ck_assert_uint_eq(strlen(req.field), 64);
        credential_request_clear(&req);
        snprintf(addr, sizeof(addr), "@1/unit/a.service/a.b.%sf", part);
        ck_assert_int_eq(parse(addr, &req), -EINVAL);

        /* Overlong ids and orgs. */
        memset(part, 'i', 65);
        part[65] = 0;
        snprintf(addr, sizeof(addr), "@1/unit/a.service/a.%s", part);
        ck_assert_int_eq(parse(addr, &req), -EINVAL);
        snprintf(addr, sizeof(addr), "@1/unit/a.service/%s.x", part);
        ck_assert_int_eq(parse(addr, &req), -EINVAL);

        /* The whole address fits a sun_path: exactly full is fine, one more is not. */
        size_t fixed = strlen("@1/unit/.service/acme.x");
        size_t unit = SUN_PATH_MAX - fixed;
        memset(part, 'u', unit);
        part[unit] = 0;
        snprintf(addr, sizeof(addr), "@1/unit/%s.service/acme.x", part);
        ck_assert_uint_eq(strlen(addr), SUN_PATH_MAX);
        ck_assert_int_eq(parse(addr, &req), 0);
        credential_request_clear(&req);
        snprintf(addr, sizeof(addr), "@1/unit/%su.service/acme.x", part);
        ck_assert_int_eq(parse(addr, &req), -EINVAL);
}
END_TEST

/* Every prefix of a valid address is rejected or parsed whole: never a crash,
 * never a half-filled request. */
START_TEST(test_truncations) {
        static const char a[] = "@0123456789abcdef/unit/getty@tty1.service/acme.ops-slack.webhook_url";
        for (size_t n = 0; n < sizeof(a) - 1; n++) {
                CredentialRequest req = {};
                int r = parse_n(a, n, &req);
                if (r == 0) {
                        ck_assert_ptr_nonnull(req.unit);
                        ck_assert_ptr_nonnull(req.id);
                        credential_request_clear(&req);
                } else {
                        ck_assert_int_eq(r, -EINVAL);
                        ck_assert_ptr_null(req.unit);
                }
        }
}
END_TEST

static Suite *credential_address_suite(void) {
        Suite *s = suite_create("credential-address");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, test_whole_value);
        tcase_add_test(tc, test_field);
        tcase_add_test(tc, test_unit_names);
        tcase_add_test(tc, test_malformed);
        tcase_add_test(tc, test_embedded_nul);
        tcase_add_test(tc, test_bounds);
        tcase_add_test(tc, test_truncations);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_main_run(credential_address_suite());
}
