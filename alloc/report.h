/* report: how pargc talks to the user -- warnings and fatal errors.
 *
 * Every diagnostic goes through here so that one hook (Boehm's
 * GC_set_warn_proc) redirects all of them.  Messages are one line, start
 * with "pargc: ", and name the variable, address or size concerned.
 * Nothing here allocates from the GC heap, so it is safe in any state.
 */
#ifndef PARGC_REPORT_H
#define PARGC_REPORT_H
#ifndef PARGC_BUILDING
#error "alloc/report.h is internal to pargc"
#endif

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "alloc/os.h"

/* Boehm's warn-proc signature: a printf format with one %p/%lu argument. */
typedef void (*pargc_warn_fn)(char *msg, uintptr_t arg);

/* Print "pargc: warning: ..." (or hand it to the installed warn proc). */
void pargc_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* pargc_warn, the first time this call site is reached only. */
#define pargc_warn_once(...)                                                 \
  do {                                                                       \
    static int pargc_warned_;                                                \
    if (!__atomic_exchange_n(&pargc_warned_, 1, __ATOMIC_RELAXED))           \
      pargc_warn(__VA_ARGS__);                                               \
  } while (0)
/* Print "pargc: fatal: ..." and abort(); used for broken invariants only. */
void pargc_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* Install a Boehm-style warn proc; NULL restores the default (stderr). */
pargc_warn_fn pargc_report_set_warn(pargc_warn_fn fn);
pargc_warn_fn pargc_report_get_warn(void);
/* While the world is stopped a stopped thread may hold a lock the
 * program's warn proc takes (stdio's, malloc's), so the stopper brackets
 * the stop with these: warnings meant for a warn proc wait (a few are
 * kept, the rest counted) and reach it at resume; the default one goes
 * to stderr at once (write(2) takes no lock).  Fatal errors go to stderr
 * at once either way. */
void pargc_report_defer(void);
void pargc_report_resume(void);

/* Assertions in two levels (mimalloc's scheme has a third; its cheap
 * argument checks are our level 1 too).  The level comes from configure
 * (config.h: PARGC_ASSERT_LEVEL):
 *   0  none (the default): every assertion compiles to nothing -- its
 *      condition is type-checked, never evaluated;
 *   1  --enable-assertions: the cheap ones, pargc_assert: an invariant
 *      stated next to it in a comment, checked in O(1) where the code
 *      relies on it -- locks held, world stopped, page states, epochs,
 *      phase order, deque indices, size classes;
 *   2  --enable-assertions=full: also the validators, which walk a whole
 *      structure (a span's free list against its bitmap, a page list's
 *      links, a deque's contents) at the points where it must be
 *      consistent: `if (PARGC_ASSERT_FULL) pargc_page_validate(...)`.
 * An assertion holds in every legal interleaving: mutators run beside
 * the concurrent marker and the lazy sweep, and the marker reads words
 * that merely look like pointers, so it checks only what the code that
 * runs there may rely on, never a racy reading of another thread's
 * state.  A failure aborts with pargc_fatal. */
#ifndef PARGC_ASSERT_LEVEL
#define PARGC_ASSERT_LEVEL 0
#endif
#define PARGC_ASSERT_FULL (PARGC_ASSERT_LEVEL >= 2)
#define pargc_assert_at(level, cond)                                         \
  do {                                                                       \
    if (PARGC_ASSERT_LEVEL >= (level) && !(cond))                            \
      pargc_fatal("assertion failed: %s (%s:%d)", #cond, __FILE__, __LINE__); \
  } while (0)
#define pargc_assert(cond) pargc_assert_at(1, cond)
/* A level-2 check in one expression (a validator's own conditions). */
#define pargc_assert_full(cond) pargc_assert_at(2, cond)

/* The calling thread holds lock m, a pargc_lock_t (alloc/lock.h, which
 * the caller includes). */
#define pargc_assert_held(m) pargc_assert(pargc_lock_held(m))

/* Set in the thread that stopped the world, from the stop to the restart
 * (gc/stop.c).  Nothing that thread does meanwhile may wait for a lock a
 * mutator can hold where it can be stopped: the mutator would never let
 * go ("Locks and the stopped world" in docs/architecture.md).  The
 * allocator's functions that take such locks assert it is clear, so that
 * a stopped-world path reaching one aborts in an assertion build at once
 * rather than hanging in the rare runs where a stopped thread holds it. */
extern __thread bool pargc_world_stopped_by_me __attribute__((tls_model("initial-exec")));
#define pargc_assert_not_stopped_world() pargc_assert(!pargc_world_stopped_by_me)

#define PARGC_LIKELY(x) __builtin_expect(!!(x), 1)
#define PARGC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PARGC_NOINLINE __attribute__((noinline))

#endif
