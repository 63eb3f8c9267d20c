/* Stress: GC_set_markers_count while other threads collect.  The trace
 * ends when its count of active GC threads reaches zero, so that count
 * must start at the number of GC threads that really take part.  It was
 * taken from the configured number, read after the GC threads had been
 * started for the collection: a call raising it in between (from a
 * thread not yet stopped) made the count include threads that did not
 * exist, and the collection never ended.  A hang ends in SIGALRM. */
#include "config.h"
#include <gc.h>
#include "check.h"
#include "check_list.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

static _Atomic int stop;
static struct cell *volatile keep[2];

/* Over 1 MiB live, so that every collection marks on all GC threads. */
static void *collector(void *arg)
{
  int i = (int)(uintptr_t)arg;
  keep[i] = check_make_list(60000);
  for (int r = 0; r < 150 && !atomic_load(&stop); r++) {
    check_make_list(1000);
    GC_gcollect();
  }
  return (void *)(uintptr_t)check_list_ok(keep[i], 60000);
}

static void *changer(void *arg)
{
  (void)arg;
  for (unsigned n = 0; !atomic_load(&stop); n++) {
    GC_set_markers_count(1 + n % 8);
    if (n % 16 == 0)
      usleep(100);
  }
  return NULL;
}

int main(void)
{
  alarm(120);
  GC_set_markers_count(2);
  GC_INIT();
  pthread_t c[2], ch;
  CHECK(pthread_create(&ch, NULL, changer, NULL) == 0);
  for (int i = 0; i < 2; i++)
    CHECK(pthread_create(&c[i], NULL, collector, (void *)(uintptr_t)i) == 0);
  for (int i = 0; i < 2; i++) {
    void *ok = NULL;
    pthread_join(c[i], &ok);
    CHECK(ok == (void *)1);
  }
  atomic_store(&stop, 1);
  pthread_join(ch, NULL);
  return CHECK_SUMMARY();
}
