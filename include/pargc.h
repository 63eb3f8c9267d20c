/*
 * pargc.h -- what pargc offers beyond Boehm GC's API.
 *
 * Include after (or instead of) <gc.h>.  All settings here can also be
 * given in the environment (docs/environment.md); these calls are for
 * programs that want to choose at run time.
 */
#ifndef PARGC_H
#define PARGC_H

#include "gc/gc.h"
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PARGC_API extern __attribute__((visibility("default")))

/* Version of pargc itself (GC_VERSION_* is the Boehm API level). */
#define PARGC_VERSION_MAJOR 0
#define PARGC_VERSION_MINOR 1

#ifdef __cplusplus
}
#endif
#endif
