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
