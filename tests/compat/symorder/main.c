/* A program whose symbol order has libc before libgc.so.1 (symorder_test.sh
 * links it so), as Debian's ECL and Guile have through their own
 * libraries: GC_pthread_create must still start a registered thread, and
 * a result passed to GC_pthread_exit must stay a root until the join.
 * Prints one line per check; exits 1 if any failed. */
#define GC_THREADS
#include <gc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NODES 2000
struct node { struct node *next; long val; char pad[48]; };

static volatile int registered_at_start = -1;
static volatile int exiting;

static void *worker(void *arg)
{
  (void)arg;
  registered_at_start = GC_thread_is_registered(); /* before any allocation */
  struct node *list = NULL;
  for (long i = 0; i < NODES; i++) {
    struct node *n = GC_MALLOC(sizeof *n);
    n->next = list;
    n->val = i;
    list = n;
  }
  exiting = 1;
  GC_pthread_exit(list); /* the list's only reference from here on */
  return NULL;
}

int main(void)
{
  GC_INIT();
  pthread_t t;
  if (GC_pthread_create(&t, NULL, worker, NULL) != 0) {
    printf("FAIL: GC_pthread_create\n");
    return 1;
  }
  while (!exiting)
    sched_yield();
  usleep(200 * 1000); /* let the thread finish exiting */
  for (int i = 0; i < 4; i++)
    GC_gcollect();
  /* Reuse what a lost list would have freed. */
  for (int i = 0; i < 4 * NODES; i++)
    memset(GC_MALLOC(sizeof(struct node)), 0xA5, sizeof(struct node));
  void *res = NULL;
  if (GC_pthread_join(t, &res) != 0) {
    printf("FAIL: GC_pthread_join\n");
    return 1;
  }
  long expect = NODES - 1, bad = 0;
  for (struct node *n = res; n && expect >= -1; n = n->next, expect--)
    bad += n->val != expect;
  int fail = 0;
  printf("%s: thread registered before its first allocation (%d)\n",
         registered_at_start == 1 ? "ok" : (fail = 1, "FAIL"), registered_at_start);
  printf("%s: result kept until the join (%ld bad nodes, %ld missing)\n",
         bad == 0 && expect == -1 ? "ok" : (fail = 1, "FAIL"), bad, expect + 1);
  return fail;
}
