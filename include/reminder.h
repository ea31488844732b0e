/* SPDX-License-Identifier: Apache-2.0 */
/* Reminders: one journal entry per secret that expires or is due for
 * rotation soon (or already), under its own MESSAGE_ID, so admins route it
 * like any journal alert (docs/API.md). Names and dates only, never a
 * value. */
#pragma once

#include "util.h"

typedef struct Reminder {
        const char *org;
        const char *id;
        const char *name;
        const char *what;        /* "expires" or "rotation" */
        uint64_t when;           /* µs since the epoch */
        uint64_t now;            /* µs since the epoch: overdue when when <= now */
} Reminder;

const char *reminder_message_id(void);  /* 32 hex chars */
/* The entry's MESSAGE, e.g. `Secret acme/ops-slack ("Ops Slack") expires
 * on 2026-12-08 10:00 UTC`; malloc'd, NULL without memory. */
char *reminder_message(const Reminder *r);
int reminder_emit(const Reminder *r);   /* sd_journal_send's result */
