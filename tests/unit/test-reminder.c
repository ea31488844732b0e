/* SPDX-License-Identifier: Apache-2.0 */
/* Reminder entries as journald receives them (a socket at its address in a
 * private /run): their MESSAGE, MESSAGE_ID and fields; and the vault's walk
 * over every org's due secrets feeding them, with an injected clock. */

#include <stdio.h>
#include <string.h>

#include "check-main.h"
#include "journal-capture.h"
#include "reminder.h"
#include "vault.h"

#define SLACK "https://hooks.slack.com/services/TFAKE0000/BFAKE0000/xxxxxxxxxxxxxxxxxxxxxxxx"
#define DAY (86400ULL * 1000000ULL)
/* 2026-12-08 10:00:00 UTC */
#define WHEN 1796724000000000ULL

static void emit_reminder(const void *r) { (void) reminder_emit(r); }

START_TEST(test_reminder_entry) {
        static Entry e;

        journal_capture(emit_reminder, &(Reminder) {
                .org = "acme", .id = "ops-slack", .name = "Ops Slack", .what = "expires", .when = WHEN,
                .now = WHEN - 3 * DAY,
        }, &e);
        assert_field(&e, "MESSAGE", "Secret acme/ops-slack (\"Ops Slack\") expires on 2026-12-08 10:00 UTC");
        assert_field(&e, "MESSAGE_ID", reminder_message_id());
        assert_field(&e, "PRIORITY", "5");
        assert_field(&e, "ORGVAULT_KIND", "reminder");
        assert_field(&e, "ORGVAULT_ORG", "acme");
        assert_field(&e, "ORGVAULT_SECRET", "ops-slack");
        assert_field(&e, "ORGVAULT_NAME", "Ops Slack");
        assert_field(&e, "ORGVAULT_DUE", "expires");
        assert_field(&e, "ORGVAULT_DUE_USEC", "1796724000000000");
        assert_field(&e, "ORGVAULT_OVERDUE", "no");

        journal_capture(emit_reminder, &(Reminder) {
                .org = "acme", .id = "pager", .name = "Pager", .what = "rotation", .when = WHEN, .now = WHEN,
        }, &e);
        assert_field(&e, "MESSAGE", "Secret acme/pager (\"Pager\") has been due for rotation since 2026-12-08 10:00 UTC");
        assert_field(&e, "PRIORITY", "4");
        assert_field(&e, "ORGVAULT_OVERDUE", "yes");
        ck_assert_uint_eq(strlen(reminder_message_id()), 32);
}
END_TEST

static uint64_t fake_now;
static uint64_t fake_clock(void) { return fake_now; }

typedef struct Seen {
        char messages[8][256];
        size_t n;
} Seen;

/* Each due secret's entry, captured as journald would get it. */
static void on_due(const char *org, const Secret *s, const char *what, uint64_t when, uint64_t now, void *userdata) {
        static Entry e;
        Seen *seen = userdata;
        journal_capture(emit_reminder, &(Reminder) {
                .org = org, .id = s->id, .name = s->name, .what = what, .when = when, .now = now,
        }, &e);
        _cleanup_free_ char *id = field(&e, "MESSAGE_ID"), *m = field(&e, "MESSAGE");
        ck_assert_str_eq(id, reminder_message_id());
        ck_assert_uint_lt(seen->n, 8);
        snprintf(seen->messages[seen->n++], 256, "%s", m);
}

START_TEST(test_due_secrets_of_every_org) {
        char dir[] = "/tmp/ov-test-remind-XXXXXX";
        const char *root = getenv("SOURCE_ROOT");
        ck_assert_ptr_nonnull(root);
        ck_assert_ptr_nonnull(mkdtemp(dir));
        _cleanup_free_ char *data = strdup_printf("%s/policy", root);
        TypeRegistry *types = NULL;
        ck_assert_int_eq(type_registry_load(&types, data, "/nonexistent", NULL), 0);
        fake_now = WHEN - 10 * DAY;
        {
                VaultConfig cfg = { .state_dir = dir, .clock = fake_clock };
                _cleanup_(vault_freep) Vault *v = NULL;
                OvError e = {};
                ck_assert_int_eq(vault_open(&v, &cfg, types, &e), 0);
                _cleanup_json_ json_t *f = json_pack("{s:s}", "webhook_url", SLACK);
                ck_assert_int_eq(vault_add_with(v, "acme", "slack-webhook", "Soon", NULL, f,
                                                &(SecretOptions) { .has_expires = true, .expires = WHEN }, NULL, NULL,
                                                &e), 0);
                ck_assert_int_eq(vault_add_with(v, "acme", "slack-webhook", "Later", NULL, f,
                                                &(SecretOptions) { .has_expires = true, .expires = WHEN + 60 * DAY },
                                                NULL, NULL, &e), 0);
                ck_assert_int_eq(vault_add_with(v, "globex", "slack-webhook", "Old key", NULL, f,
                                                &(SecretOptions) { .has_expires = true, .expires = WHEN - 20 * DAY },
                                                NULL, NULL, &e), 0);
                ck_assert_int_eq(vault_add_with(v, "globex", "slack-webhook", "Plain", NULL, f, NULL, NULL, NULL, &e), 0);
        }
        {
                /* A fresh vault, as the daemon is when the timer starts it. */
                VaultConfig cfg = { .state_dir = dir, .clock = fake_clock };
                _cleanup_(vault_freep) Vault *v = NULL;
                OvError e = {};
                Seen seen = {};
                ck_assert_int_eq(vault_open(&v, &cfg, types, &e), 0);
                ck_assert_int_eq(vault_for_each_due(v, 14 * DAY, on_due, &seen, &e), 2);
                ck_assert_uint_eq(seen.n, 2);
                ck_assert_str_eq(seen.messages[0], "Secret acme/soon (\"Soon\") expires on 2026-12-08 10:00 UTC");
                ck_assert_str_eq(seen.messages[1], "Secret globex/old-key (\"Old key\") expired on 2026-11-18 10:00 UTC");
                seen.n = 0;
                ck_assert_int_eq(vault_for_each_due(v, 1, on_due, &seen, &e), 1);     /* overdue only */
                ck_assert_uint_eq(seen.n, 1);
        }
        _cleanup_free_ char *cmd = strdup_printf("rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
        type_registry_free(types);
}
END_TEST

static Suite *reminder_suite(void) {
        Suite *s = suite_create("reminder");
        TCase *tc = tcase_create("reminder");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_reminder_entry);
        tcase_add_test(tc, test_due_secrets_of_every_org);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_main_run(reminder_suite());
}
