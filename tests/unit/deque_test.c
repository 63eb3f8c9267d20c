/* Unit test for gc/deque: with the owner pushing and taking and three
 * thieves stealing concurrently, every entry is obtained exactly once;
 * a full deque refuses pushes (the tracer spills them, never drops). */
#include "config.h"
#include "gc/deque.h"
#include "check.h"

#include <pthread.h>
#include <stdlib.h>

#define N 400000
static struct pargc_deque dq;
static _Atomic unsigned char seen[N];
static _Atomic int done;

static void *thief(void *arg)
{
  (void)arg;
  struct pargc_range r;
  while (!atomic_load(&done) || pargc_deque_size_hint(&dq) > 0)
    if (pargc_deque_steal(&dq, &r))
      atomic_fetch_add(&seen[r.lo], 1);
  return NULL;
}

int main(void)
{
  CHECK(pargc_deque_init(&dq, 64));
  /* Sequential: LIFO for the owner, FIFO for a thief. */
  for (uintptr_t i = 0; i < 3; i++)
    CHECK(pargc_deque_push(&dq, (struct pargc_range){i, i + 1}));
  struct pargc_range r;
  CHECK(pargc_deque_steal(&dq, &r) && r.lo == 0);
  CHECK(pargc_deque_take(&dq, &r) && r.lo == 2);
  CHECK(pargc_deque_take(&dq, &r) && r.lo == 1);
  CHECK(!pargc_deque_take(&dq, &r));
  /* Full: the 65th push fails. */
  for (uintptr_t i = 0; i < 64; i++)
    CHECK(pargc_deque_push(&dq, (struct pargc_range){i, 0}));
  CHECK(!pargc_deque_push(&dq, (struct pargc_range){99, 0}));
  while (pargc_deque_take(&dq, &r))
    ;

  pthread_t t[3];
  for (int i = 0; i < 3; i++)
    pthread_create(&t[i], NULL, thief, NULL);
  uintptr_t next = 0;
  while (next < N) {
    /* Push a burst (spilling nothing: bursts fit), take some back. */
    int burst = 1 + rand() % 48;
    for (int k = 0; k < burst && next < N; k++)
      if (pargc_deque_push(&dq, (struct pargc_range){next, next + 1}))
        next++;
    int takes = rand() % 40;
    for (int k = 0; k < takes; k++)
      if (pargc_deque_take(&dq, &r))
        atomic_fetch_add(&seen[r.lo], 1);
  }
  while (pargc_deque_take(&dq, &r))
    atomic_fetch_add(&seen[r.lo], 1);
  atomic_store(&done, 1);
  for (int i = 0; i < 3; i++)
    pthread_join(t[i], NULL);
  size_t once = 0;
  for (size_t i = 0; i < N; i++)
    once += atomic_load(&seen[i]) == 1;
  CHECK_EQ(once, N);
  return CHECK_SUMMARY();
}
