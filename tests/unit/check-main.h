/* SPDX-License-Identifier: Apache-2.0 */
/* Shared main() tail for Check suites: runs them and prints the
 * "N passed, N failed" line that tests/run sums. */
#pragma once

#include <check.h>
#include <stdio.h>

static inline int check_main_run(Suite *s) {
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int n = srunner_ntests_run(sr), f = srunner_ntests_failed(sr);
        srunner_free(sr);
        printf("%d passed, %d failed\n", n - f, f);
        return f == 0 ? 0 : 1;
}

/* A call taking an OvError fails with the named error: the int is a negative
 * errno (ov-error.h), the name is in e.code, which the call must have set. */
#define ck_assert_ov_error(call, e, want) do {                            \
                (e).code = OV_OK;                                          \
                int _ov_r = (call);                                        \
                ck_assert_msg(_ov_r < 0, "%s succeeded (%d)", #call, _ov_r); \
                ck_assert_int_eq((e).code, (want));                        \
        } while (0)
