/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "check-main.h"
#include "log.h"
#include "ov-error.h"
#include "util.h"

START_TEST(test_utf8) {
        size_t n;
        ck_assert(utf8_text_valid("Ops Slack", &n));
        ck_assert_uint_eq(n, 9);
        ck_assert(utf8_text_valid("Équipe 東京 🚀", &n));
        ck_assert_uint_eq(n, 11);
        ck_assert(!utf8_text_valid("tab\there", NULL));
        ck_assert(!utf8_text_valid("nl\n", NULL));
        ck_assert(!utf8_text_valid("del\x7f", NULL));
        ck_assert(!utf8_text_valid("c1\xc2\x85", NULL));          /* U+0085 NEL */
        ck_assert(!utf8_text_valid("\xc0\xaf", NULL));            /* overlong '/' */
        ck_assert(!utf8_text_valid("\xed\xa0\x80", NULL));        /* surrogate */
        ck_assert(!utf8_text_valid("\xf4\x90\x80\x80", NULL));    /* > U+10FFFF */
        ck_assert(!utf8_text_valid("\xe2\x82", NULL));            /* truncated */
        ck_assert(!utf8_text_valid("\xff", NULL));
}
END_TEST

START_TEST(test_names) {
        ck_assert(org_name_valid("acme"));
        ck_assert(org_name_valid("a-1"));
        ck_assert(!org_name_valid("-acme"));
        ck_assert(!org_name_valid("Acme"));
        ck_assert(!org_name_valid("a_b"));
        ck_assert(!org_name_valid(".."));
        ck_assert(!org_name_valid("a/b"));
        ck_assert(!org_name_valid(""));
        char long_org[65];
        memset(long_org, 'a', 64);
        long_org[64] = 0;
        ck_assert(!org_name_valid(long_org));
        long_org[63] = 0;
        ck_assert(org_name_valid(long_org));

        ck_assert(secret_id_valid("ops-slack_2"));
        ck_assert(!secret_id_valid("_x"));
        ck_assert(!secret_id_valid("../etc"));
        ck_assert(!secret_id_valid("a.json"));

        ck_assert(display_name_valid("Ops Slack"));
        ck_assert(!display_name_valid(""));
        ck_assert(!display_name_valid("a\nb"));
        char name[200];
        memset(name, 'x', 129);
        name[129] = 0;
        ck_assert(!display_name_valid(name));
        name[128] = 0;
        ck_assert(display_name_valid(name));
}
END_TEST

START_TEST(test_slug) {
        _cleanup_free_ char *a = slug_from_name("Ops Slack (prod)!");
        ck_assert_str_eq(a, "ops-slack-prod");
        _cleanup_free_ char *b = slug_from_name("  Équipe  42 ");
        ck_assert_str_eq(b, "equipe-42");
        /* Latin letters become their ASCII letters, not dashes (#11). */
        _cleanup_free_ char *e = slug_from_name("Équipe Données");
        ck_assert_str_eq(e, "equipe-donnees");
        _cleanup_free_ char *f = slug_from_name("Straße Œuvre Łódź Æther Ĳssel þing");
        ck_assert_str_eq(f, "strasse-oeuvre-lodz-aether-ijssel-thing");
        _cleanup_free_ char *g = slug_from_name("3×4 ÷ ñ");
        ck_assert_str_eq(g, "3-4-n");
        _cleanup_free_ char *c = slug_from_name("東京");
        ck_assert_ptr_null(c);
        char long_name[300];
        memset(long_name, 'a', 200);
        long_name[200] = 0;
        _cleanup_free_ char *d = slug_from_name(long_name);
        ck_assert_uint_eq(strlen(d), OV_ID_MAX);
        ck_assert(secret_id_valid(d));
}
END_TEST

START_TEST(test_strv_and_search) {
        {
                char *l[] = { (char *) "a", (char *) "bc", NULL };
                _cleanup_free_ char *joined = strv_join(l, ", "), *none = strv_join(NULL, ",");
                ck_assert_str_eq(joined, "a, bc");
                ck_assert_str_eq(none, "");
        }
        _cleanup_strv_free_ char **l = NULL;
        ck_assert_int_eq(strv_push(&l, "a"), 0);
        ck_assert_int_eq(strv_push(&l, "b"), 0);
        ck_assert_uint_eq(strv_length(l), 2);
        ck_assert(strv_contains(l, "b"));
        ck_assert(!strv_contains(l, "c"));
        ck_assert(ascii_strcase_contains("Ops Slack", "sLa"));
        ck_assert(ascii_strcase_contains("Ops Slack", ""));
        ck_assert(!ascii_strcase_contains("Ops", "Opsx"));
        ck_assert(ascii_strcase_contains("aaab", "AAB"));       /* a partial match, then a later start */
        ck_assert(ascii_strcase_contains("Slack", "slack"));
        ck_assert(!ascii_strcase_contains("", "a"));
        ck_assert(!ascii_strcase_contains("Équipe", "éQUIPE"));  /* ASCII folding only */
        ck_assert(ascii_strcase_contains("Équipe ops", "OPS"));
}
END_TEST

static int count_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' || is_temp_name(de->d_name))
                        n++;
        closedir(d);
        return n;
}

START_TEST(test_atomic_write) {
        char tmpl[] = "/tmp/ovutil.XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(tmpl));
        _cleanup_close_ int dfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(dfd, 0);

        ck_assert_int_eq(mkdir_p_at(dfd, "a/b/c", 0700), 0);
        ck_assert_int_eq(write_file_atomic_at(dfd, "a/b/c/f", "one", 3, 0600), 0);
        ck_assert_int_eq(write_file_atomic_at(dfd, "a/b/c/f", "two!", 4, 0600), 0);

        _cleanup_free_ char *text = NULL;
        size_t len;
        ck_assert_int_eq(read_file_at(dfd, "a/b/c/f", 1024, &text, &len), 0);
        ck_assert_str_eq(text, "two!");
        ck_assert_uint_eq(len, 4);

        struct stat st;
        ck_assert_int_eq(fstatat(dfd, "a/b/c/f", &st, 0), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0600);

        /* no temp file left behind */
        char path[256];
        snprintf(path, sizeof path, "%s/a/b/c", tmpl);
        ck_assert_int_eq(count_entries(path), 1);

        ck_assert_int_eq(read_file_at(dfd, "a/b/c/f", 2, &text, &len) , -EFBIG);
        ck_assert_int_eq(read_file_at(dfd, "a/b/c/none", 10, &text, &len), -ENOENT);

        json_t *doc = json_pack("{s:s}", "k", "v");
        ck_assert_int_eq(write_json_atomic_at(dfd, "doc.json", doc, 0600), 0);
        json_decref(doc);
        _cleanup_free_ char *j = NULL;
        ck_assert_int_eq(read_file_at(dfd, "doc.json", 1024, &j, NULL), 0);
        ck_assert_str_eq(j, "{\"k\":\"v\"}\n");

        /* a write into a missing dir fails and creates nothing */
        ck_assert_int_eq(write_file_atomic_at(dfd, "missing/f", "x", 1, 0600), -ENOENT);

        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_errors) {
        OvError e = {};
        /* The int is an errno; the named error travels in e.code only. */
        ck_assert_int_eq(ov_error_set(&e, OV_ERR_NOT_FOUND, "No secret %s", "x"), -ENOENT);
        ck_assert_int_eq(e.code, OV_ERR_NOT_FOUND);
        ck_assert_str_eq(e.message, "No secret x");
        ck_assert_int_eq(ov_error_set(NULL, OV_ERR_IN_USE, "x"), -EBUSY);
        for (int c = OV_ERR_ACCESS_DENIED; c < _OV_ERR_MAX; c++)
                ck_assert_int_lt(ov_error_errno((OvErrorCode) c), 0);
        /* With a cause: %m is the cause, and the cause is returned. */
        errno = EPERM;
        ck_assert_int_eq(ov_error_set_errno(&e, OV_ERR_STORAGE_FAILURE, -ENOSPC, "Cannot write %s: %m", "r"), -ENOSPC);
        ck_assert_int_eq(e.code, OV_ERR_STORAGE_FAILURE);
        ck_assert_str_eq(e.message, "Cannot write r: No space left on device");
        ck_assert_int_eq(errno, EPERM);
        ck_assert_int_eq(log_debug_errno(-EROFS, "not shown: %m"), -EROFS);
        ck_assert_str_eq(ov_error_dbus_name(OV_ERR_IN_USE), "io.orgvault.Vault1.Error.InUse");
        ck_assert_str_eq(ov_error_dbus_name(OV_ERR_ACCESS_DENIED), "org.freedesktop.DBus.Error.AccessDenied");
        ck_assert_int_eq(ov_error_from_dbus_name("io.orgvault.Vault1.Error.Sealed"), OV_ERR_SEALED);
        ck_assert_int_eq(ov_error_from_dbus_name("nope"), OV_OK);
}
END_TEST

int main(void) {
        Suite *s = suite_create("util");
        TCase *tc = tcase_create("util");
        tcase_add_test(tc, test_utf8);
        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_slug);
        tcase_add_test(tc, test_strv_and_search);
        tcase_add_test(tc, test_atomic_write);
        tcase_add_test(tc, test_errors);
        suite_add_tcase(s, tc);
        return check_main_run(s);
}
