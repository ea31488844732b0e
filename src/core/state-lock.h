/* SPDX-License-Identifier: Apache-2.0 */
/* One daemon per state directory: an exclusive flock() on <state>/lock,
 * held for the life of the process that writes there (docs/FORMAT.md). */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#define STATE_LOCK_FILE "lock"

/* Takes the lock on dir_fd's lock file, waiting up to timeout_usec for
 * another holder to let go (0: do not wait). Returns the fd holding it
 * (close it to release), or -EBUSY on timeout with *ret_holder the
 * holder's pid (0 if unknown), or another -errno. */
int state_lock_take(int dir_fd, uint64_t timeout_usec, pid_t *ret_holder);
