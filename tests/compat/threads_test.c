/* threads_test.c: threads and stacks in Boehm GC's API.
 *  - objects reachable only from another thread's stack survive
 *    collections triggered by this thread (threads made with
 *    pthread_create, which GC_THREADS redirects to GC_pthread_create);
 *  - many threads allocating and collecting at once keep their data;
 *  - a thread registered by hand (GC_register_my_thread) is scanned;
 *  - GC_call_with_alloc_lock, GC_do_blocking, GC_call_with_gc_active,
 *    GC_get_stack_base, GC_call_with_stack_base, GC_get_my_stackbottom.
 * Boehm GC requires GC_THREADS (and so the redirects) in programs that
 * create threads, and declares the thread calls only then, so the
 * threaded parts are compiled only in the GC_THREADS variants.  (pargc
 * also registers threads that bypass the redirects; that is pargc's own
 * feature and is tested with pargc, not here.) */
#define _GNU_SOURCE 1
#include <gc.h>
#include <pthread.h>
#include <stdint.h>
#include "compat.h"

#define THREADS 4
#define NODES 2000

struct node {
  struct node *next;
  intptr_t value;
};

/* Build a list on this thread's stack only, let others collect, check. */
static void *list_worker(void *arg) {
  intptr_t id = (intptr_t)arg;
  int bad = 0;
  for (int round = 0; round < 5; round++) {
    struct node *head = 0;
    for (int i = 0; i < NODES; i++) {
      struct node *n = (struct node *)GC_MALLOC(sizeof *n);
      n->next = head;
      n->value = id * 100000 + i;
      head = n;
    }
    GC_gcollect();
    for (int i = 0; i < NODES * 10; i++) (void)GC_MALLOC(24); /* churn */
    int i = NODES - 1;
    for (struct node *n = head; n; n = n->next, i--) bad += n->value != id * 100000 + i;
    bad += i != -1;
  }
  return (void *)(intptr_t)bad;
}

static void *GC_CALLBACK under_lock(void *arg) {
  ++*(int *)arg;
  return arg;
}

static void *GC_CALLBACK active_again(void *arg) {
  void *p = GC_MALLOC(16); /* allowed: we are active again */
  *(void **)arg = p;
  return p;
}
static void *GC_CALLBACK blocked(void *arg) {
  /* No heap access here except through GC_call_with_gc_active. */
  return GC_call_with_gc_active(active_again, arg);
}

static void *GC_CALLBACK with_base(struct GC_stack_base *sb, void *arg) {
  int local;
  (void)arg;
  return (void *)(intptr_t)((char *)sb->mem_base > (char *)&local);
}

#ifdef GC_THREADS
/* A thread started with the real pthread_create (not redirected), which
 * registers itself and keeps a list on its stack. */
static void *self_registering(void *arg) {
  struct GC_stack_base sb;
  int r = GC_get_stack_base(&sb);
  if (r != GC_SUCCESS) return (void *)1;
  r = GC_register_my_thread(&sb);
  if (r != GC_SUCCESS) return (void *)2;
  if (!GC_thread_is_registered()) return (void *)3;
  void *res = list_worker(arg);
  GC_unregister_my_thread();
  return res;
}
static int real_pthread_create(pthread_t *t, void *(*fn)(void *), void *arg) {
#pragma push_macro("pthread_create")
#undef pthread_create
  return pthread_create(t, 0, fn, arg);
#pragma pop_macro("pthread_create")
}
/* GC_pthread_join would look for a record of a thread it did not make. */
static int real_pthread_join(pthread_t t, void **res) {
#pragma push_macro("pthread_join")
#undef pthread_join
  return pthread_join(t, res);
#pragma pop_macro("pthread_join")
}
#endif

int main(void) {
  GC_INIT();
#ifdef GC_THREADS
  pthread_t t[THREADS];
  for (intptr_t i = 0; i < THREADS; i++) CHECK_EQ(pthread_create(&t[i], 0, list_worker, (void *)i), 0);
  for (int i = 0; i < THREADS; i++) {
    void *bad = (void *)1;
    CHECK_EQ(pthread_join(t[i], &bad), 0);
    CHECK_EQ((intptr_t)bad, 0);
  }
#endif
  CHECK_EQ((intptr_t)list_worker((void *)99), 0); /* main thread too */

  int counter = 0;
  CHECK(GC_call_with_alloc_lock(under_lock, &counter) == &counter);
  CHECK_EQ(counter, 1);
  void *got = 0;
  CHECK(GC_do_blocking(blocked, &got) == got);
  CHECK(got != 0 && GC_base(got) != 0);

  struct GC_stack_base sb = {0};
  CHECK_EQ(GC_get_stack_base(&sb), GC_SUCCESS);
  int local;
  CHECK((char *)sb.mem_base > (char *)&local); /* stacks grow down */
  CHECK(GC_call_with_stack_base(with_base, 0) == (void *)1);
  struct GC_stack_base mine = {0};
  void *handle = GC_get_my_stackbottom(&mine);
  (void)handle;
  CHECK(mine.mem_base != 0);

#ifdef GC_THREADS
  GC_allow_register_threads();
  CHECK(GC_thread_is_registered());
  CHECK_EQ(GC_register_my_thread(&sb), GC_DUPLICATE);
  pthread_t r;
  CHECK_EQ(real_pthread_create(&r, self_registering, (void *)7), 0);
  void *bad = (void *)1;
  CHECK_EQ(real_pthread_join(r, &bad), 0);
  CHECK_EQ((intptr_t)bad, 0);
  CHECK(GC_get_parallel() >= 0);
  GC_alloc_lock();
  GC_alloc_unlock();
#endif
  return CHECK_SUMMARY();
}
