// ENSURE(cond): like REQUIRE (tests/harness.h) but evaluates cond once, for
// conditions with side effects (loading a model, submitting a batch).
#ifndef TC_TESTS_ENSURE_H
#define TC_TESTS_ENSURE_H

#include "tests/harness.h"

#define ENSURE(cond)                       \
    do {                                   \
        int ensure_ok_ = (cond) ? 1 : 0;   \
        CHECKF(ensure_ok_, "%s", #cond);   \
        if (!ensure_ok_) return;           \
    } while (0)

#endif
