/*
 * gc/leak_detector.h -- turn a malloc/free program into a leak check.
 *
 * Include this after the system headers in each file of the program:
 * malloc, calloc, realloc, free, strdup, strndup, memalign and
 * posix_memalign become the collector's debug allocation calls, so each
 * block records its allocation site.  Run with GC_FIND_LEAK set (or call
 * GC_set_find_leak(1) before GC_INIT()): blocks that become unreachable
 * without being freed are reported, with file and line, at collections.
 * CHECK_LEAKS() forces a collection (and so a report) now.
 */
#ifndef GC_LEAK_DETECTOR_H
#define GC_LEAK_DETECTOR_H

/* Debug allocation is what records the file and line. */
#ifndef GC_DEBUG
#define GC_DEBUG
#endif
#include "gc.h"

#ifndef GC_DONT_INCLUDE_STDLIB
/* Include them now, so they do not redeclare the names defined below. */
#include <stdlib.h>
#include <string.h>
#endif

#undef malloc
#define malloc(n) GC_MALLOC(n)
#undef calloc
#define calloc(m, n) GC_MALLOC((m) * (n))
#undef free
#define free(p) GC_FREE(p)
#undef realloc
#define realloc(p, n) GC_REALLOC(p, n)
#undef strdup
#define strdup(s) GC_STRDUP(s)
#undef strndup
#define strndup(s, n) GC_STRNDUP(s, n)
#ifdef GC_REQUIRE_WCSDUP
#include <wchar.h>
#undef wcsdup
#define wcsdup(s) GC_WCSDUP(s)
#endif
#undef memalign
#define memalign(a, n) GC_memalign(a, n)
#undef posix_memalign
#define posix_memalign(p, a, n) GC_posix_memalign(p, a, n)

#ifndef CHECK_LEAKS
#define CHECK_LEAKS() GC_gcollect()
#endif

#endif /* GC_LEAK_DETECTOR_H */
