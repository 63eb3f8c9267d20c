/* Concurrent mode's heap stays near stop-parallel mode's.
 *
 * A steady state: two threads keep a table of binary trees (about 24 MB
 * live) and replace random trees with new ones until 600 MB were
 * allocated.  The same program runs in a child in each mode; each child
 * reports the largest heap it saw (GC_get_heap_size after every
 * collection, from the collection event hook).  Concurrent mode's
 * largest heap must stay within 1.5x stop-parallel mode's.  Its cycles'
 * pacing once followed the heap size and grew the heap at every cycle
 * (2.7x on this workload); paced by the live data alone, cycles let the
 * program allocate more than a stopped collection's interval and the
 * heap reached 1.35-1.8x under load.  Now: 1.12-1.28x on an idle
 * two-core machine, 1.33x once in make check's parallel run, where the
 * cycle shares the cores with other tests and lasts longer -- what the
 * program allocates meanwhile survives the cycle.  Hence 1.5x: it
 * catches the heap-size pacing (2.7x) and the worse half of the other
 * fault's range.
 */
#include "config.h"
#include <gc.h>
#include "check.h"
#include "trees.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEPTH 9 /* 1023 nodes of 32 bytes: 32 KiB a tree */
#define SLOTS 768
#define THREADS 2
#define ALLOC_PER_THREAD (300L << 20)

static struct check_node **table;

static void *mutator(void *arg)
{
  unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 1;
  long per = SLOTS / THREADS, base = (long)(uintptr_t)arg * per;
  for (long done = 0; done < ALLOC_PER_THREAD; done += 1023 * (long)sizeof(struct check_node)) {
    long i = base + (long)(rand_r(&seed) % (unsigned)per);
    table[i] = check_tree_build(DEPTH);
  }
  return NULL;
}

/* One mode, in this process: the largest heap seen, or 0 on a lost tree. */
static size_t run_mode(void)
{
  GC_INIT();
  GC_set_on_collection_event(check_tree_on_event);
  table = GC_MALLOC(SLOTS * sizeof *table);
  for (long i = 0; i < SLOTS; i++)
    table[i] = check_tree_build(DEPTH);
  pthread_t th[THREADS];
  for (long t = 0; t < THREADS; t++)
    pthread_create(&th[t], NULL, mutator, (void *)(uintptr_t)t);
  for (long t = 0; t < THREADS; t++)
    pthread_join(th[t], NULL);
  for (long i = 0; i < SLOTS; i++)
    if (check_tree_count(table[i]) != 1023)
      return 0;
  return atomic_load(&check_tree_max_heap);
}

static size_t child(const char *mode)
{
  int fds[2];
  if (pipe(fds) != 0)
    return 0;
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    setenv("PARGC_MODE", mode, 1);
    setenv("PARGC_CONC_MIN_LIVE", "0", 0); /* cycles however small the heap */
    size_t h = run_mode();
    if (write(fds[1], &h, sizeof h) != (ssize_t)sizeof h)
      _exit(2);
    _exit(0);
  }
  close(fds[1]);
  size_t h = 0;
  if (read(fds[0], &h, sizeof h) != (ssize_t)sizeof h)
    h = 0;
  close(fds[0]);
  int st;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? h : 0;
}

int main(void)
{
  size_t stop = child("stop");
  size_t conc = child("concurrent");
  printf("largest heap: stop-parallel %zu MB, concurrent %zu MB (%.2fx)\n", stop >> 20,
         conc >> 20, stop ? (double)conc / (double)stop : 0.0);
  CHECK(stop > 0);
  CHECK(conc > 0);
  CHECK(conc * 10 <= stop * 15);
  return CHECK_SUMMARY();
}
