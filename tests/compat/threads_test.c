/* threads_test.c: threads and stacks in Boehm GC's API.
 *  - objects reachable only from another thread's stack survive
 *    collections triggered by this thread (threads made with
 *    pthread_create, which GC_THREADS redirects to GC_pthread_create);
 *  - many threads allocating and collecting at once keep their data;
 *  - a thread registered by hand (GC_register_my_thread) is scanned;
 *  - GC_call_with_alloc_lock, GC_do_blocking, GC_call_with_gc_active,
 *    GC_get_stack_base, GC_call_with_stack_base, GC_get_my_stackbottom;
 *  - javaxfc.h's thread suspension: a suspended thread makes no progress,
 *    also across collections, which still scan its stack; it runs again
 *    once resumed; a new thread, a thread in GC_do_blocking, a finished
 *    one and the calling thread itself can be suspended;
 *  - the thread events (GC_set_on_thread_event) of a collection.
 * Boehm GC requires GC_THREADS (and so the redirects) in programs that
 * create threads, and declares the thread calls only then, so the
 * threaded parts are compiled only in the GC_THREADS variants.  (pargc
 * also registers threads that bypass the redirects; that is pargc's own
 * feature and is tested with pargc, not here.) */
#define _GNU_SOURCE 1
#include <gc.h>
#include <gc/javaxfc.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include "compat.h"

#define THREADS 4
#define NODES 2000

struct node {
  struct node *next;
  intptr_t value;
};

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
  void *res = compat_list_worker(arg);
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

#ifdef GC_THREADS
/* ---- thread suspension (javaxfc.h) ---- */

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static long load_long(long *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void store_long(long *p, long v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

/* Wait up to 5 s for *p to differ from old; its last value. */
static long wait_change(long *p, long old) {
  for (int i = 0; i < 5000 && load_long(p) == old; i++) sleep_ms(1);
  return load_long(p);
}

/* A thread that keeps a list only on its own stack and counts its turns,
 * allocating on each (so a suspension may find it in the allocator). */
struct spinner {
  long turns, stop;
};
static void *spin(void *arg) {
  struct spinner *s = (struct spinner *)arg;
  struct node *head = 0;
  for (int i = 0; i < NODES; i++) {
    struct node *n = (struct node *)GC_MALLOC(sizeof *n);
    n->next = head;
    n->value = i;
    head = n;
  }
  while (!load_long(&s->stop)) {
    void *p = GC_MALLOC(16);
    __asm__ __volatile__("" : : "r"(p) : "memory");
    __atomic_fetch_add(&s->turns, 1, __ATOMIC_RELEASE);
  }
  intptr_t bad = 0, i = NODES - 1;
  for (struct node *n = head; n; n = n->next, i--) bad += n->value != i;
  return (void *)(bad + (i != -1));
}

/* Allocate and fill what a list freed by mistake would be reused for. */
static COMPAT_NOINLINE void churn(void) {
  for (int i = 0; i < NODES * 20; i++) {
    struct node *n = (struct node *)GC_MALLOC(sizeof *n);
    n->next = 0;
    n->value = -1;
  }
}

/* Suspend a running thread: it stops, stays stopped across collections
 * (which keep what only its stack references), and runs again once
 * resumed.  `fresh`: suspend it right after pthread_create. */
static void test_suspend_running(int fresh) {
  struct spinner s = {0, 0};
  pthread_t t;
  CHECK_EQ(pthread_create(&t, 0, spin, &s), 0);
  if (!fresh) {
    wait_change(&s.turns, 0);
    CHECK(!GC_is_thread_suspended(t));
  }
  GC_suspend_thread(t);
  CHECK(GC_is_thread_suspended(t));
  long before = load_long(&s.turns);
  sleep_ms(30);
  CHECK_EQ(load_long(&s.turns), before);
  for (int i = 0; i < 3; i++) {
    compat_wipe_stack();
    GC_gcollect();
    churn();
  }
  CHECK_EQ(load_long(&s.turns), before);
  CHECK(GC_is_thread_suspended(t));
  GC_suspend_thread(t); /* already suspended: nothing changes */
  GC_resume_thread(t);
  CHECK(!GC_is_thread_suspended(t));
  GC_resume_thread(t); /* not suspended: nothing happens */
  CHECK(wait_change(&s.turns, before) != before);
  store_long(&s.stop, 1);
  void *bad = (void *)1;
  CHECK_EQ(pthread_join(t, &bad), 0);
  CHECK_EQ((intptr_t)bad, 0);
}

/* A thread in GC_do_blocking is only marked suspended; it stops when it
 * leaves the blocking section. */
static long blocking_release, blocking_left;
static void *GC_CALLBACK blocking_wait(void *arg) {
  store_long((long *)arg, 1);
  while (!load_long(&blocking_release)) sleep_ms(1);
  return 0;
}
static void *blocking_thread(void *arg) {
  GC_do_blocking(blocking_wait, arg);
  store_long(&blocking_left, 1);
  return 0;
}
static void test_suspend_blocked(void) {
  long inside = 0;
  pthread_t t;
  CHECK_EQ(pthread_create(&t, 0, blocking_thread, &inside), 0);
  wait_change(&inside, 0);
  GC_suspend_thread(t);
  CHECK(GC_is_thread_suspended(t));
  store_long(&blocking_release, 1);
  sleep_ms(30);
  GC_gcollect();
  CHECK_EQ(load_long(&blocking_left), 0);
  GC_resume_thread(t);
  CHECK_EQ(wait_change(&blocking_left, 0), 1);
  CHECK_EQ(pthread_join(t, 0), 0);
}

/* A finished thread not yet joined can be marked suspended, as Boehm
 * GC's own test does; the calling thread suspends itself until another
 * thread resumes it. */
static void *finish_now(void *arg) {
  store_long((long *)arg, 1);
  return 0;
}
static long self_stage;
static void *suspend_self(void *arg) {
  (void)arg;
  store_long(&self_stage, 1);
  GC_suspend_thread(pthread_self());
  store_long(&self_stage, 2);
  return 0;
}
static void test_suspend_other_states(void) {
  long ran = 0;
  pthread_t t;
  CHECK_EQ(pthread_create(&t, 0, finish_now, &ran), 0);
  wait_change(&ran, 0);
  sleep_ms(20); /* let it finish */
  GC_suspend_thread(t);
  CHECK(GC_is_thread_suspended(t));
  GC_resume_thread(t);
  CHECK(!GC_is_thread_suspended(t));
  CHECK_EQ(pthread_join(t, 0), 0);

  CHECK_EQ(pthread_create(&t, 0, suspend_self, 0), 0);
  for (int i = 0; i < 5000 && !GC_is_thread_suspended(t); i++) sleep_ms(1);
  CHECK(GC_is_thread_suspended(t));
  sleep_ms(20);
  CHECK_EQ(load_long(&self_stage), 1);
  GC_resume_thread(t);
  CHECK_EQ(wait_change(&self_stage, 1), 2);
  CHECK_EQ(pthread_join(t, 0), 0);
}

/* Thread events: a collection reports each thread it stops and restarts. */
static long thread_events[2];
static void GC_CALLBACK on_thread_event(GC_EventType e, void *id) {
  (void)id;
  if (e == GC_EVENT_THREAD_SUSPENDED) __atomic_fetch_add(&thread_events[0], 1, __ATOMIC_RELAXED);
  if (e == GC_EVENT_THREAD_UNSUSPENDED) __atomic_fetch_add(&thread_events[1], 1, __ATOMIC_RELAXED);
}
static void test_thread_events(void) {
  struct spinner s = {0, 0};
  pthread_t t;
  CHECK_EQ(pthread_create(&t, 0, spin, &s), 0);
  wait_change(&s.turns, 0);
  GC_set_on_thread_event(on_thread_event);
  CHECK(GC_get_on_thread_event() == on_thread_event);
  GC_gcollect();
  GC_set_on_thread_event(0);
  CHECK(load_long(&thread_events[0]) > 0);
  CHECK(load_long(&thread_events[1]) > 0);
  store_long(&s.stop, 1);
  CHECK_EQ(pthread_join(t, 0), 0);
}
#endif

int main(void) {
  GC_INIT();
#ifdef GC_THREADS
  pthread_t t[THREADS];
  for (intptr_t i = 0; i < THREADS; i++) CHECK_EQ(pthread_create(&t[i], 0, compat_list_worker, (void *)i), 0);
  for (int i = 0; i < THREADS; i++) {
    void *bad = (void *)1;
    CHECK_EQ(pthread_join(t[i], &bad), 0);
    CHECK_EQ((intptr_t)bad, 0);
  }
#endif
  CHECK_EQ((intptr_t)compat_list_worker((void *)99), 0); /* main thread too */

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

  test_suspend_running(0);
  test_suspend_running(1);
  test_suspend_blocked();
  test_suspend_other_states();
  test_thread_events();
#endif
  return CHECK_SUMMARY();
}
