/* report: warnings and fatal errors; see report.h. */
#include "config.h"
#include "alloc/report.h"
#include "alloc/options.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic(pargc_warn_fn) report_warn_fn;

__thread bool pargc_world_stopped_by_me __attribute__((tls_model("initial-exec")));

/* Warnings held back while the world is stopped (pargc_report_defer). */
enum { REPORT_HELD = 4, REPORT_LINE = 512 };
static _Atomic int report_deferring;
static _Atomic unsigned report_held_n;
static char report_held[REPORT_HELD][2 * REPORT_LINE];

static void report_emit(const char *what, const char *fmt, va_list ap)
{
  /* Format into a stack buffer and write once, so that lines from
   * different threads do not interleave. */
  char buf[REPORT_LINE];
  int n = snprintf(buf, sizeof buf, "pargc: %s", what);
  if (n < 0)
    n = 0;
  int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
  if (m < 0)
    m = 0;
  size_t len = (size_t)n + (size_t)m;
  if (len > sizeof buf - 2)
    len = sizeof buf - 2;
  buf[len++] = '\n';
  buf[len] = 0;
  pargc_warn_fn fn = report_warn_fn;
  if (fn && what[0] == 'w') {
    /* A Boehm warn proc takes a format with one argument; hand it a
     * string without conversions ('%' doubled). */
    char esc[2 * sizeof buf];
    size_t j = 0;
    for (size_t i = 0; i < len && j < sizeof esc - 2; i++) {
      if (buf[i] == '%')
        esc[j++] = '%';
      esc[j++] = buf[i];
    }
    esc[j] = 0;
    if (atomic_load_explicit(&report_deferring, memory_order_acquire)) {
      unsigned slot = atomic_fetch_add(&report_held_n, 1);
      if (slot < REPORT_HELD)
        memcpy(report_held[slot], esc, j + 1);
      return;
    }
    fn(esc, 0);
    return;
  }
  ssize_t w = write(STDERR_FILENO, buf, len);
  (void)w;
}

void pargc_warn(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  report_emit("warning: ", fmt, ap);
  va_end(ap);
}

void pargc_fatal(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  report_emit("fatal: ", fmt, ap);
  va_end(ap);
  /* GC_LOOP_ON_ABORT: wait for a debugger instead of dumping core. */
  if (pargc_opt.loop_on_abort)
    for (;;)
      pause();
  abort();
}

pargc_warn_fn pargc_report_set_warn(pargc_warn_fn fn)
{
  return __atomic_exchange_n(&report_warn_fn, fn, __ATOMIC_ACQ_REL);
}

pargc_warn_fn pargc_report_get_warn(void)
{
  return report_warn_fn;
}

void pargc_report_defer(void)
{
  atomic_store_explicit(&report_deferring, 1, memory_order_release);
}

void pargc_report_resume(void)
{
  atomic_store_explicit(&report_deferring, 0, memory_order_release);
  unsigned n = atomic_exchange(&report_held_n, 0);
  pargc_warn_fn fn = report_warn_fn;
  for (unsigned i = 0; i < n && i < REPORT_HELD && fn; i++)
    fn(report_held[i], 0);
  if (n > REPORT_HELD)
    pargc_warn("%u more warnings while the world was stopped were dropped", n - REPORT_HELD);
}
