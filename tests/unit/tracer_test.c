/* Unit: the tracer's termination (gc/tracer.c).  A trace ends when its
 * count of active GC threads reaches zero, so the count must start at
 * the number of GC threads that take part.  It was the configured
 * number, which GC_set_markers_count can raise after
 * pargc_tracer_prepare has started the GC threads for a collection (a
 * thread calling it before the world is stopped): the count then
 * included threads that did not exist, and the collection never ended
 * (tests/stress/markers_count_test races for that window; here it is
 * opened on purpose).  Also the lifetimes of the tracer's state: a round
 * given up leaves nothing behind for the next trace, and each trace
 * counts only what it marked itself.  Each case runs in a child process;
 * a hang ends in SIGALRM. */
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
  pargc_lock(&pargc_collect_lock);
  pargc_tracer_prepare();
  pargc_tracer_set_threads(6); /* as GC_set_markers_count(6) right now */
  pargc_tracer_begin();
  pargc_tracer_set_expected_live(SIZE_MAX);
  pargc_tracer_push_range((void *)&list, (void *)(&list + 1));
  pargc_tracer_trace();
  struct pargc_trace_stats st;
  pargc_tracer_finish(&st);
  pargc_unlock(&pargc_collect_lock);
  _exit(st.threads <= 2 ? 0 : 1);
}

static int stop_at_once(void) { return 1; }

static struct pargc_trace_stats trace_list(int (*stop)(void), bool *whole)
{
  pargc_tracer_begin();
  pargc_tracer_set_expected_live(0); /* one GC thread */
  pargc_tracer_push_range((void *)&list, (void *)(&list + 1));
  *whole = pargc_tracer_trace_until(stop);
  struct pargc_trace_stats st;
  pargc_tracer_finish(&st);
  return st;
}

/* A round given up, then whole traces: the stop flag and the dropped
 * work are per round, the figures per trace. */
static void round_given_up_then_whole(void)
{
  alarm(20);
  GC_INIT();
  GC_disable(); /* no collection marks the list first */
  list = check_make_list(1000);
  pargc_lock(&pargc_collect_lock);
  pargc_tracer_prepare();
  bool given_up_whole, first_whole, second_whole;
  trace_list(stop_at_once, &given_up_whole);
  pargc_tracer_abandon();
  struct pargc_trace_stats first = trace_list(NULL, &first_whole);
  struct pargc_trace_stats second = trace_list(NULL, &second_whole); /* all marked already */
  pargc_unlock(&pargc_collect_lock);
  _exit(!given_up_whole && first_whole && second_whole && first.marked_objects >= 1000 &&
                second.marked_objects == 0
            ? 0
            : 1);
}

int main(void)
{
  check_in_child("threads raised after prepare", threads_raised_after_prepare);
  check_in_child("a round given up, then whole traces", round_given_up_then_whole);
  return CHECK_SUMMARY();
}
