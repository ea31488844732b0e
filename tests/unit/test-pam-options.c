/* SPDX-License-Identifier: Apache-2.0 */
/* pam_orgvault's argument parser (libov-pam-options); its log goes to a buffer. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "check-main.h"
#include "util.h"
#include "pam-options.h"

static char logged[8192];
static unsigned n_logged, n_debug;

static void capture(void *userdata, int priority, const char *fmt, ...) {
        size_t used = strlen(logged);
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(logged + used, sizeof(logged) - used, fmt, ap);
        va_end(ap);
        used = strlen(logged);
        snprintf(logged + used, sizeof(logged) - used, "\n");
        if (priority == LOG_DEBUG)
                n_debug++;
        else
                n_logged++;
}

static PamOptions parse_args(int argc, const char **argv) {
        PamOptions o = {};
        logged[0] = 0;
        n_logged = n_debug = 0;
        ck_assert_int_eq(pam_options_parse(argc, argv, &o, capture, NULL), 0);
        return o;
}
#define PARSE(...) parse_args((int) ELEMENTSOF(((const char *[]) { __VA_ARGS__ })), (const char *[]) { __VA_ARGS__ })

START_TEST(test_defaults) {
        PamOptions o = parse_args(0, NULL);
        ck_assert_uint_eq(o.n_credentials, 0);
        ck_assert_ptr_null(o.credentials);
        ck_assert_uint_eq(o.timeout, 0);
        ck_assert(!o.debug);
        ck_assert_ptr_null(o.bus_address);    /* the system bus, never $DBUS_SYSTEM_BUS_ADDRESS */
        ck_assert_uint_eq(o.n_bad, 0);
        ck_assert_uint_eq(n_logged, 0);
        pam_options_clear(&o);
}
END_TEST

START_TEST(test_full_line) {
        PamOptions o = PARSE("credentials=acme.ops-slack.webhook_url,acme.ops-openai", "timeout=3600", "debug",
                             "bus=unix:path=/run/test/bus");
        ck_assert_uint_eq(o.n_credentials, 2);
        ck_assert_str_eq(o.credentials[0], "acme.ops-slack.webhook_url");
        ck_assert_str_eq(o.credentials[1], "acme.ops-openai");
        ck_assert_ptr_null(o.credentials[2]);
        ck_assert_uint_eq(o.timeout, 3600);
        ck_assert(o.debug);
        ck_assert_str_eq(o.bus_address, "unix:path=/run/test/bus");
        ck_assert_uint_eq(o.n_bad, 0);
        ck_assert_uint_eq(n_logged, 0);
        pam_options_clear(&o);
        ck_assert_ptr_null(o.credentials);
}
END_TEST

START_TEST(test_credentials_repeated_and_deduplicated) {
        PamOptions o = PARSE("credentials=acme.a", "debug", "credentials=acme.b,acme.a", "credentials=globex.c.f");
        ck_assert_uint_eq(o.n_credentials, 3);
        ck_assert_str_eq(o.credentials[0], "acme.a");
        ck_assert_str_eq(o.credentials[1], "acme.b");
        ck_assert_str_eq(o.credentials[2], "globex.c.f");
        ck_assert_uint_eq(o.n_bad, 0);
        ck_assert_ptr_nonnull(strstr(logged, "Credential acme.a listed twice"));
        pam_options_clear(&o);
}
END_TEST

START_TEST(test_bad_credentials) {
        PamOptions o = PARSE("credentials=acme.good,,Acme.upper,acme,acme..x,.acme.x,acme.x.,a.b.c.d,acme/x.y,acme.ok2");
        ck_assert_uint_eq(o.n_credentials, 2);
        ck_assert_str_eq(o.credentials[0], "acme.good");
        ck_assert_str_eq(o.credentials[1], "acme.ok2");
        ck_assert_uint_eq(o.n_bad, 8);
        ck_assert_uint_eq(n_logged, 8);
        ck_assert_ptr_nonnull(strstr(logged, "\"Acme.upper\" is no credential id"));
        pam_options_clear(&o);

        o = PARSE("credentials=");
        ck_assert_uint_eq(o.n_credentials, 0);
        ck_assert_uint_eq(o.n_bad, 1);
        pam_options_clear(&o);
}
END_TEST

START_TEST(test_credential_bounds) {
        char longest[PAM_OV_CREDENTIAL_ID_MAX + 2], arg[PAM_OV_CREDENTIAL_ID_MAX + 32];
        memset(longest, 'a', PAM_OV_CREDENTIAL_ID_MAX);
        longest[3] = '.';
        longest[PAM_OV_CREDENTIAL_ID_MAX] = 0;
        ck_assert(pam_credential_id_plausible(longest));
        snprintf(arg, sizeof(arg), "credentials=%s", longest);
        PamOptions o = PARSE(arg);
        ck_assert_uint_eq(o.n_credentials, 1);
        pam_options_clear(&o);

        strcat(longest, "a");
        ck_assert(!pam_credential_id_plausible(longest));
        snprintf(arg, sizeof(arg), "credentials=%s", longest);
        o = PARSE(arg);
        ck_assert_uint_eq(o.n_credentials, 0);
        ck_assert_uint_eq(o.n_bad, 1);
        pam_options_clear(&o);
}
END_TEST

START_TEST(test_credentials_max) {
        char list[PAM_OV_CREDENTIALS_MAX * 16 + 64] = "credentials=";
        for (int i = 0; i <= PAM_OV_CREDENTIALS_MAX; i++)
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%sacme.s%d", i ? "," : "", i);
        PamOptions o = PARSE(list);
        ck_assert_uint_eq(o.n_credentials, PAM_OV_CREDENTIALS_MAX);
        ck_assert_uint_eq(o.n_bad, 1);
        pam_options_clear(&o);
}
END_TEST

START_TEST(test_timeout) {
        PamOptions o = PARSE("timeout=0");
        ck_assert_uint_eq(o.timeout, 0);
        ck_assert_uint_eq(o.n_bad, 0);
        pam_options_clear(&o);

        static const char *const bad[] = { "timeout=", "timeout=-1", "timeout=10s", "timeout= 5", "timeout=0x10",
                                           "timeout=315360001", "timeout=99999999999999999999999" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                o = PARSE(bad[i]);
                ck_assert_msg(o.n_bad == 1 && o.timeout == 0, "%s accepted", bad[i]);
                ck_assert_ptr_nonnull(strstr(logged, "Option timeout= wants whole seconds"));
                pam_options_clear(&o);
        }
        o = PARSE("timeout=315360000");
        ck_assert_uint_eq(o.timeout, PAM_OV_TIMEOUT_MAX);
        pam_options_clear(&o);
}
END_TEST

START_TEST(test_unknown_logged_by_name_only) {
        PamOptions o = PARSE("token=sk-FAKEvalue", "revoke", "credentials=acme.a", "Debug");
        ck_assert_uint_eq(o.n_credentials, 1);
        ck_assert_uint_eq(o.n_bad, 0);        /* unknown options are ignored, not failures */
        ck_assert_uint_eq(n_logged, 3);
        ck_assert_ptr_nonnull(strstr(logged, "Unknown option \"token\", ignoring"));
        ck_assert_ptr_nonnull(strstr(logged, "Unknown option \"revoke\", ignoring"));
        ck_assert_ptr_nonnull(strstr(logged, "Unknown option \"Debug\", ignoring"));
        ck_assert_ptr_null(strstr(logged, "FAKEvalue"));
        ck_assert(!o.debug);
        pam_options_clear(&o);
}
END_TEST

START_TEST(test_bus_and_socket) {
        PamOptions o = PARSE("socket=/run/orgvault/credential.sock", "bus=unix:path=/a", "bus=unix:path=/b");
        ck_assert_str_eq(o.bus_address, "unix:path=/b");          /* the last one wins */
        ck_assert_uint_eq(n_logged, 0);
        ck_assert_uint_eq(n_debug, 0);                              /* socket= is a debug line, with debug */
        pam_options_clear(&o);

        o = PARSE("debug", "socket=/run/x.sock");
        ck_assert_ptr_null(o.bus_address);
        ck_assert_uint_eq(n_debug, 1);
        ck_assert_ptr_nonnull(strstr(logged, "Option socket= names a credential socket"));
        pam_options_clear(&o);

        o = PARSE("bus=", "bus=unix:path=/x\n");
        ck_assert_ptr_null(o.bus_address);
        ck_assert_uint_eq(o.n_bad, 2);
        pam_options_clear(&o);
}
END_TEST

START_TEST(test_debug_anywhere) {
        /* debug after the option it explains still applies to it. */
        PamOptions o = PARSE("credentials=acme.a,acme.a", "debug");
        ck_assert(o.debug);
        ck_assert_uint_eq(n_debug, 1);
        pam_options_clear(&o);
}
END_TEST

START_TEST(test_null_entries_skipped) {
        const char *argv[] = { NULL, "credentials=acme.a", NULL };
        PamOptions o = parse_args(3, argv);
        ck_assert_uint_eq(o.n_credentials, 1);
        pam_options_clear(&o);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("pam-options");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_full_line);
        tcase_add_test(tc, test_credentials_repeated_and_deduplicated);
        tcase_add_test(tc, test_bad_credentials);
        tcase_add_test(tc, test_credential_bounds);
        tcase_add_test(tc, test_credentials_max);
        tcase_add_test(tc, test_timeout);
        tcase_add_test(tc, test_unknown_logged_by_name_only);
        tcase_add_test(tc, test_bus_and_socket);
        tcase_add_test(tc, test_debug_anywhere);
        tcase_add_test(tc, test_null_entries_skipped);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_main_run(suite());
}
