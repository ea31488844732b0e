/* SPDX-License-Identifier: Apache-2.0 */
/* Pipelined method calls on one sd-bus connection: keeps `depth` calls in
 * flight until a deadline or a call count, and records each call's latency.
 * Also the durable-write floor, measured into the same kind of record. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

/* Builds call number i (0, 1, ... over every run of one Stats). */
typedef int (*build_call_fn)(sd_bus *bus, uint64_t i, sd_bus_message **ret, void *userdata);
/* Checks a successful reply; a negative return counts the call as failed. */
typedef int (*check_reply_fn)(sd_bus_message *reply, void *userdata);

typedef struct RunSpec {
        unsigned depth;          /* calls in flight */
        uint64_t max_calls;      /* 0 = no limit */
        double seconds;          /* stop issuing after this long; 0 = no limit */
        build_call_fn build;
        check_reply_fn check;    /* may be NULL */
        void *userdata;
} RunSpec;

/* Figures of one operation, summed over the runs that add to it. */
typedef struct Stats {
        uint64_t calls, errors;
        uint64_t usec;           /* time spent in its runs */
        uint64_t *lat;           /* µs per call */
        size_t n_lat, allocated;
        char first_error[256];
} Stats;

void stats_clear(Stats *s);
int stats_add(Stats *s, uint64_t latency_usec);
void stats_print(const char *label, unsigned depth, Stats *s);

uint64_t mono_usec(void);
int run_pipelined(sd_bus *bus, const RunSpec *spec, Stats *stats);
/* count times: temp file, ~600 bytes, fsync, close, rename, fsync dir. */
int run_fsync_floor(int dir_fd, unsigned count, Stats *stats);
