/* A thread that stops allocating without entering a blocking section
 * does not keep the spans the last collection emptied from the others.
 *
 * Thread B builds 64 MB of data, drops it and sleeps (nanosleep: not a
 * blocking section, so its context is not parked).  The main thread
 * collects -- B's spans are now all empty, but B, asleep, has not
 * noticed the collection -- and builds 32 MB of data of its own.
 * Before a thread about to grow the heap moved lagging contexts to the
 * new epoch, those spans stayed on B's lists and the main thread grew
 * the heap by about as much as it built.  Now it takes B's emptied
 * spans as free runs (stealing), and the heap grows by at most 8 MB.
 * Stop mode, in a child process.
 */
#include "config.h"
#include <gc.h>
#include <pargc.h>
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define DATA (64L << 20)
#define OBJ 1024

static atomic_int b_done, a_done;

/* `bytes` of objects that only an uncollectable table points to (the
 * caller frees the table): live until then, garbage after, whatever
 * copies of one pointer the registers still hold. */
static void **make_data(long bytes)
{
  long n = bytes / OBJ;
  void **table = GC_MALLOC_UNCOLLECTABLE(n * sizeof *table);
  for (long i = 0; i < n; i++)
    table[i] = GC_MALLOC(OBJ);
  return table;
}

static void *thread_b(void *arg)
{
  (void)arg;
  GC_FREE(make_data(DATA));
  atomic_store(&b_done, 1);
  struct timespec ts = {0, 1000000};
  while (!atomic_load(&a_done))
    nanosleep(&ts, NULL); /* off the CPU, but not in a blocking section */
  return NULL;
}

static size_t heap_bytes(struct pargc_stats *s)
{
  pargc_get_stats(s, sizeof *s);
  return (size_t)s->heap_bytes;
}

static void run(void)
{
  GC_INIT();
  pthread_t b;
  pthread_create(&b, NULL, thread_b, NULL);
  struct timespec ts = {0, 1000000};
  while (!atomic_load(&b_done))
    nanosleep(&ts, NULL);
  GC_gcollect(); /* empties B's spans; B sleeps through it */
  struct pargc_stats s0, s1;
  size_t h0 = heap_bytes(&s0);
  void **mine = make_data(DATA / 2);
  size_t h1 = heap_bytes(&s1);
  GC_FREE(mine);
  atomic_store(&a_done, 1);
  pthread_join(b, NULL);
  long grew = (long)h1 - (long)h0;
  unsigned long long stolen = (unsigned long long)(s1.stolen_local_pages + s1.stolen_remote_pages -
                                                   s0.stolen_local_pages - s0.stolen_remote_pages);
  printf("heap %zu MB after B's data died and a collection, %zu MB after A's data: grew %ld MB; "
         "%llu pages stolen\n",
         h0 >> 20, h1 >> 20, grew >> 20, stolen);
  fflush(stdout);
  _exit(grew <= DATA / 8 && stolen > 0 ? 0 : 1);
}

int main(void)
{
  setenv("PARGC_MODE", "stop", 1);
  check_in_child("a sleeping thread's emptied spans are reused", run);
  return CHECK_SUMMARY();
}
