/* Unit: the tracer's termination (gc/tracer.c).  A trace ends when its
 * count of active GC threads reaches zero, so the count must start at
 * the number of GC threads that take part.  It was the configured
 * number, which GC_set_markers_count can raise after
 * pargc_tracer_prepare has started the GC threads for a collection (a
 * thread calling it before the world is stopped): the count then
 * included threads that did not exist, and the collection never ended
 * (tests/stress/markers_count_test races for that window; here it is
 * opened on purpose).  Each case runs in a child process; a hang ends in
 * SIGALRM. */
#include "config.h"
#include "gc/collect.h"
#include "gc/tracer.h"
#include <gc.h>
#include "check.h"
#include "check_list.h"

#include <signal.h>
#include <stdint.h>
#include <unistd.h>

static struct cell *volatile list;

/* A collection's trace, after the configured number of GC threads grew
 * past those started. */
static void threads_raised_after_prepare(void)
{
  alarm(20);
  GC_set_markers_count(2);
  GC_INIT();
  list = check_make_list(100000); /* over 1 MiB: all GC threads mark */
  GC_gcollect();            /* starts one GC thread besides the caller */
  pthread_mutex_lock(&pargc_collect_lock);
  pargc_tracer_prepare();
  pargc_tracer_set_threads(6); /* as GC_set_markers_count(6) right now */
  pargc_tracer_begin();
  pargc_tracer_set_expected_live(SIZE_MAX);
  pargc_tracer_push_range((void *)&list, (void *)(&list + 1));
  pargc_tracer_trace();
  struct pargc_trace_stats st;
  pargc_tracer_finish(&st);
  pthread_mutex_unlock(&pargc_collect_lock);
  _exit(st.threads <= 2 ? 0 : 1);
}

int main(void)
{
  check_in_child("threads raised after prepare", threads_raised_after_prepare);
  return CHECK_SUMMARY();
}
