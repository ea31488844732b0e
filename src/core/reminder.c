/* SPDX-License-Identifier: Apache-2.0 */
/* Reminder entries in the journal (include/reminder.h). */

#include <errno.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <systemd/sd-journal.h>

#include "reminder.h"

#define REMINDER_MESSAGE_ID "c0d26e2756dd4720b4968ba7990ebec6"

const char *reminder_message_id(void) { return REMINDER_MESSAGE_ID; }

/* UTC, so every admin reads the same instant whatever the server's zone. */
static const char *format_utc(char buf[static 32], uint64_t usec) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%d %H:%M UTC", &tm) == 0)
                strcpy(buf, "?");
        return buf;
}

char *reminder_message(const Reminder *r) {
        bool overdue = r->when <= r->now, expiry = strcmp(r->what, "expires") == 0;
        char when[32];
        return strdup_printf("Secret %s/%s (\"%s\") %s %s", r->org, r->id, r->name,
                             expiry ? (overdue ? "expired on" : "expires on")
                                    : (overdue ? "has been due for rotation since" : "is due for rotation on"),
                             format_utc(when, r->when));
}

int reminder_emit(const Reminder *r) {
        _cleanup_free_ char *message = reminder_message(r);
        if (!message)
                return -ENOMEM;
        return sd_journal_send("MESSAGE=%s", message,
                               "MESSAGE_ID=" REMINDER_MESSAGE_ID,
                               "PRIORITY=%d", r->when <= r->now ? LOG_WARNING : LOG_NOTICE,
                               "ORGVAULT_KIND=reminder",
                               "ORGVAULT_ORG=%s", r->org,
                               "ORGVAULT_SECRET=%s", r->id,
                               "ORGVAULT_NAME=%s", r->name,
                               "ORGVAULT_DUE=%s", r->what,
                               "ORGVAULT_DUE_USEC=%llu", (unsigned long long) r->when,
                               "ORGVAULT_OVERDUE=%s", r->when <= r->now ? "yes" : "no",
                               NULL);
}
