/* SPDX-License-Identifier: Apache-2.0 */
/* The audit module against a real file: one JSON object per line with who,
 * what and the outcome, appended (never truncated), mode 0600, and a fixed,
 * distinct MESSAGE_ID per kind; and the journal entry as journald would
 * receive it (a socket at its address, in a private /run). */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "audit.h"
#include "check-main.h"
#include "journal-capture.h"

static char tmp[] = "/tmp/ovtest-audit-XXXXXX";
static char log_path[PATH_MAX];

static void setup(void) {
        strcpy(tmp, "/tmp/ovtest-audit-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmp));
        snprintf(log_path, sizeof log_path, "%s/audit.jsonl", tmp);
}

static void teardown(void) {
        audit_close();
        unlink(log_path);
        rmdir(tmp);
}

/* The lines of the log, parsed; ck-asserts each is one JSON object. */
static json_t *read_lines(void) {
        json_t *lines = json_array();
        FILE *f = fopen(log_path, "re");
        char *line = NULL;
        size_t size = 0;

        ck_assert_ptr_nonnull(f);
        while (getline(&line, &size, f) > 0) {
                json_error_t err;
                ck_assert_msg(line[strlen(line) - 1] == '\n', "record does not end the line");
                json_t *j = json_loads(line, 0, &err);
                ck_assert_msg(json_is_object(j), "not a JSON object: %s (%s)", line, err.text);
                json_array_append_new(lines, j);
        }
        free(line);
        fclose(f);
        return lines;
}

static const char *str(json_t *o, const char *key) {
        return json_string_value(json_object_get(o, key));
}

START_TEST(test_message_ids_distinct) {
        for (int i = 0; i < _AUDIT_KIND_MAX; i++) {
                const char *id = audit_message_id((AuditKind) i);
                ck_assert_ptr_nonnull(id);
                ck_assert_uint_eq(strlen(id), 32);
                ck_assert_uint_eq(strspn(id, "0123456789abcdef"), 32);
                for (int j = 0; j < i; j++)
                        ck_assert_str_ne(id, audit_message_id((AuditKind) j));
        }
        ck_assert_ptr_null(audit_message_id(_AUDIT_KIND_MAX));
}
END_TEST

START_TEST(test_json_line_fields) {
        ck_assert_int_eq(audit_open(log_path), 0);
        audit_emit(&(AuditEvent) {
                .kind = AUDIT_DELETE, .uid = 61002, .pid = 4242, .action = "DeleteSecret",
                .org = "acme", .secret_id = "ops-slack", .outcome = "ok",
                .detail = "broke: alerts sink:ops-channel",
        });
        audit_close();

        _cleanup_json_ json_t *lines = read_lines();
        ck_assert_uint_eq(json_array_size(lines), 1);
        json_t *j = json_array_get(lines, 0);
        ck_assert_str_eq(str(j, "kind"), "delete");
        ck_assert_str_eq(str(j, "message_id"), audit_message_id(AUDIT_DELETE));
        ck_assert_int_eq(json_integer_value(json_object_get(j, "uid")), 61002);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), 4242);
        ck_assert_str_eq(str(j, "action"), "DeleteSecret");
        ck_assert_str_eq(str(j, "org"), "acme");
        ck_assert_str_eq(str(j, "secret"), "ops-slack");
        ck_assert_str_eq(str(j, "outcome"), "ok");
        ck_assert_str_eq(str(j, "detail"), "broke: alerts sink:ops-channel");
        ck_assert_int_gt(json_integer_value(json_object_get(j, "time")), 0);
        ck_assert(json_is_null(json_object_get(j, "unit")));
}
END_TEST

START_TEST(test_unknown_fields_are_null) {
        ck_assert_int_eq(audit_open(log_path), 0);
        audit_emit(&(AuditEvent) { .kind = AUDIT_SEAL, .uid = (uid_t) -1, .action = "Seal" });
        audit_close();

        _cleanup_json_ json_t *lines = read_lines();
        json_t *j = json_array_get(lines, 0);
        ck_assert(json_is_null(json_object_get(j, "uid")));
        ck_assert(json_is_null(json_object_get(j, "pid")));
        ck_assert(json_is_null(json_object_get(j, "org")));
        ck_assert(json_is_null(json_object_get(j, "secret")));
        ck_assert_str_eq(str(j, "outcome"), "ok");
}
END_TEST

/* A hostile detail (newline, quote, invalid UTF-8 bytes escaped by the
 * caller or not) never breaks the one-record-per-line framing. */
START_TEST(test_one_record_per_line) {
        ck_assert_int_eq(audit_open(log_path), 0);
        audit_emit(&(AuditEvent) { .kind = AUDIT_DENIED, .uid = 1000, .action = "AddSecret", .org = "acme",
                                   .outcome = "denied", .detail = "line one\nline \"two\"\t{}" });
        audit_emit(&(AuditEvent) { .kind = AUDIT_CREDENTIAL, .uid = 0, .unit = "alertd.service",
                                   .org = "acme", .secret_id = "ops-slack", .outcome = "ok" });
        audit_close();

        _cleanup_json_ json_t *lines = read_lines();
        ck_assert_uint_eq(json_array_size(lines), 2);
        ck_assert_str_eq(str(json_array_get(lines, 0), "detail"), "line one\nline \"two\"\t{}");
        ck_assert_str_eq(str(json_array_get(lines, 1), "unit"), "alertd.service");
        ck_assert_str_eq(str(json_array_get(lines, 1), "kind"), "credential");
}
END_TEST

START_TEST(test_appends_with_private_mode) {
        ck_assert_int_eq(audit_open(log_path), 0);
        audit_emit(&(AuditEvent) { .kind = AUDIT_ADD, .uid = 1, .org = "a", .secret_id = "x" });
        audit_close();

        struct stat st;
        ck_assert_int_eq(stat(log_path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0600);

        /* A second run appends after the first run's records. */
        ck_assert_int_eq(audit_open(log_path), 0);
        audit_emit(&(AuditEvent) { .kind = AUDIT_UPDATE, .uid = 1, .org = "a", .secret_id = "x" });
        audit_emit(&(AuditEvent) { .kind = AUDIT_RENAME, .uid = 1, .org = "a", .secret_id = "x" });
        audit_close();

        _cleanup_json_ json_t *lines = read_lines();
        ck_assert_uint_eq(json_array_size(lines), 3);
        ck_assert_str_eq(str(json_array_get(lines, 0), "kind"), "add");
        ck_assert_str_eq(str(json_array_get(lines, 1), "kind"), "update");
        ck_assert_str_eq(str(json_array_get(lines, 2), "kind"), "rename");
}
END_TEST

START_TEST(test_open_failures) {
        char bad[PATH_MAX + 32];

        snprintf(bad, sizeof bad, "%s/missing-dir/audit.jsonl", tmp);
        ck_assert_int_eq(audit_open(bad), -ENOENT);
        /* Journal-only mode, and events after a failed open, are harmless. */
        audit_emit(&(AuditEvent) { .kind = AUDIT_ROTATE, .uid = 0, .org = "a" });
        ck_assert_int_eq(audit_open(NULL), 0);
        audit_emit(&(AuditEvent) { .kind = _AUDIT_KIND_MAX });
        audit_emit(NULL);
        ck_assert_int_eq(access(bad, F_OK), -1);
}
END_TEST

/* ---- the journal entry ---- */

static void emit_audit(const void *ev) { audit_emit(ev); }

static void capture_journal(const AuditEvent *ev, Entry *ret) { journal_capture(emit_audit, ev, ret); }

START_TEST(test_journal_entry_fields) {
        static Entry e;

        capture_journal(&(AuditEvent) {
                .kind = AUDIT_RESOLVE, .uid = 61002, .pid = 4242, .action = "Resolve",
                .org = "acme", .secret_id = "ops-slack", .outcome = "ok", .detail = "alerts",
        }, &e);
        assert_field(&e, "MESSAGE", "Resolve acme/ops-slack by uid 61002: ok");
        assert_field(&e, "MESSAGE_ID", audit_message_id(AUDIT_RESOLVE));
        assert_field(&e, "PRIORITY", "6");
        assert_field(&e, "ORGVAULT_KIND", "resolve");
        assert_field(&e, "ORGVAULT_UID", "61002");
        assert_field(&e, "ORGVAULT_PID", "4242");
        assert_field(&e, "ORGVAULT_UNIT", NULL);
        assert_field(&e, "ORGVAULT_ACTION", "Resolve");
        assert_field(&e, "ORGVAULT_ORG", "acme");
        assert_field(&e, "ORGVAULT_SECRET", "ops-slack");
        assert_field(&e, "ORGVAULT_OUTCOME", "ok");
        assert_field(&e, "ORGVAULT_DETAIL", "alerts");

        /* unknown caller, a unit, no action: the kind names it */
        capture_journal(&(AuditEvent) {
                .kind = AUDIT_CREDENTIAL, .uid = (uid_t) -1, .unit = "alertd.service", .org = "acme",
                .outcome = "denied",
        }, &e);
        assert_field(&e, "MESSAGE", "credential acme by uid ? unit alertd.service: denied");
        assert_field(&e, "MESSAGE_ID", audit_message_id(AUDIT_CREDENTIAL));
        assert_field(&e, "ORGVAULT_UID", NULL);
        assert_field(&e, "ORGVAULT_PID", NULL);
        assert_field(&e, "ORGVAULT_UNIT", "alertd.service");
        assert_field(&e, "ORGVAULT_SECRET", NULL);
        assert_field(&e, "ORGVAULT_DETAIL", NULL);
        assert_field(&e, "ORGVAULT_OUTCOME", "denied");
}
END_TEST

/* A record bigger than the stack buffer, and a detail with a newline, arrive whole. */
START_TEST(test_journal_entry_large_and_multiline) {
        static Entry e;
        static char detail[5000];

        memset(detail, 'd', sizeof detail - 1);
        detail[100] = '\n';
        capture_journal(&(AuditEvent) {
                .kind = AUDIT_DELETE, .uid = 0, .pid = 1, .action = "DeleteSecret", .org = "acme",
                .secret_id = "ops-slack", .detail = detail,
        }, &e);
        assert_field(&e, "ORGVAULT_DETAIL", detail);
        assert_field(&e, "MESSAGE", "DeleteSecret acme/ops-slack by uid 0: ok");
        assert_field(&e, "ORGVAULT_OUTCOME", "ok");
        assert_field(&e, "MESSAGE_ID", audit_message_id(AUDIT_DELETE));
}
END_TEST

static Suite *audit_suite(void) {
        Suite *s = suite_create("audit");
        TCase *tc = tcase_create("audit");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_message_ids_distinct);
        tcase_add_test(tc, test_json_line_fields);
        tcase_add_test(tc, test_unknown_fields_are_null);
        tcase_add_test(tc, test_one_record_per_line);
        tcase_add_test(tc, test_appends_with_private_mode);
        tcase_add_test(tc, test_open_failures);
        tcase_add_test(tc, test_journal_entry_fields);
        tcase_add_test(tc, test_journal_entry_large_and_multiline);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_main_run(audit_suite());
}
