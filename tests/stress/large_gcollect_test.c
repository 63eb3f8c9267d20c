/* Stress: threads allocating 1 MiB objects and calling GC_gcollect every
 * fourth allocation, beside a thread that gives free pages back to the
 * OS over and over (pargc_release_memory).  Each collection frees the
 * unmarked large objects into the node pool, whose lock the other threads
 * take all the time: to take runs from the pool, and to decommit them.
 * The collector once freed large objects with the world stopped, and so
 * waited for a pool lock that a stopped thread held: the program hung
 * (the releaser makes that likely at every collection: every run of this
 * test hung).  A hang is reported by the alarm below; a run that works
 * takes a few seconds. */
#include "config.h"
#include <gc.h>
#include <pargc.h>
#include "check.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

enum { T = 3, ALLOCS = 600, OBJECT = 1 << 20 };
enum { HANG_S = 120 }; /* the message says so */
static const char hang_msg[] = "large_gcollect_test: still running after 120 s: deadlocked "
                            "(a stopped-world wait for an allocator lock?)\n";

static _Atomic long broken;
static _Atomic int workers_done;
static unsigned char *kept[T]; /* each thread's latest object: a root */

/* Does the object still hold what thread id wrote?  A run freed while
 * reachable would be handed to another thread, which writes its own id. */
static bool intact(const unsigned char *p, uintptr_t id)
{
  for (int i = 0; i < 64; i++)
    if (p[i] != id + 1)
      return false;
  return true;
}

static void *worker(void *arg)
{
  uintptr_t id = (uintptr_t)arg;
  for (int i = 0; i < ALLOCS; i++) {
    unsigned char *p = GC_MALLOC(OBJECT);
    if (!p || (kept[id] && !intact(kept[id], id))) {
      broken++;
      continue;
    }
    memset(p, (int)(id + 1), 64);
    kept[id] = p;
    if (i % 4 == 3)
      GC_gcollect();
  }
  return NULL;
}

/* Mostly inside the pools' locks: walking them and decommitting. */
static void *releaser(void *arg)
{
  (void)arg;
  while (!workers_done)
    pargc_release_memory();
  return NULL;
}

int main(void)
{
  check_hang_alarm(HANG_S, hang_msg);
  GC_INIT();
  pthread_t r;
  int rc = pthread_create(&r, NULL, releaser, NULL);
  CHECK_EQ(rc, 0);
  check_run_threads(T, worker);
  workers_done = 1;
  if (rc == 0)
    pthread_join(r, NULL);
  check_hang_alarm(0, NULL);
  CHECK_EQ(broken, 0);
  CHECK(GC_get_gc_no() >= (GC_word)(T * ALLOCS / 4));
  printf("%lu collections\n", (unsigned long)GC_get_gc_no());
  return CHECK_SUMMARY();
}
