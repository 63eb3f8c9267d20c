/* Stress: 8 threads build, check and drop binary trees and lists under
 * constant collection (small heap, PARGC_VERIFY on), while short-lived
 * threads are created and exit during collections, and pointers are kept
 * only as interior pointers.  Any lost object shows up as a corrupted
 * value (or a PARGC_VERIFY abort). */
#include "config.h"
#include <gc.h>
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct tree {
  struct tree *left, *right;
  uintptr_t key;
};

static struct tree *build(int depth, uintptr_t key)
{
  struct tree *t = GC_MALLOC(sizeof *t);
  t->key = key;
  if (depth > 0) {
    t->left = build(depth - 1, key * 2);
    t->right = build(depth - 1, key * 2 + 1);
  }
  return t;
}

static long check(const struct tree *t, int depth, uintptr_t key)
{
  if (!t || t->key != key)
    return -1000000;
  if (depth == 0)
    return 1;
  return 1 + check(t->left, depth - 1, key * 2) + check(t->right, depth - 1, key * 2 + 1);
}

static int rounds = 60;
static _Atomic long failures;

static void *mutator(void *arg)
{
  uintptr_t id = (uintptr_t)arg;
  /* A long-lived tree, referenced only through an interior pointer. */
  char *keep = (char *)build(12, id) + 8;
  for (int r = 0; r < rounds; r++) {
    struct tree *t = build(8 + (int)(id % 3), r);
    if (check(t, 8 + (int)(id % 3), r) != (2L << (8 + id % 3)) - 1)
      failures++;
    /* Uneven: some threads also allocate big pointer arrays. */
    if (id % 4 == 0) {
      struct tree **arr = GC_MALLOC(50000 * sizeof *arr);
      for (int i = 0; i < 50000; i += 97)
        arr[i] = t;
      if (arr[97]->key != (uintptr_t)r)
        failures++;
    }
  }
  if (check((struct tree *)(keep - 8), 12, id) != 8191)
    failures++;
  return NULL;
}

static void *short_lived(void *arg)
{
  struct tree *t = build(6, (uintptr_t)arg);
  return (void *)(uintptr_t)(check(t, 6, (uintptr_t)arg) == 127);
}

int main(int argc, char **argv)
{
  setenv("PARGC_VERIFY", "1", 0);
  setenv("GC_INITIAL_HEAP_SIZE", "1M", 0);
  if (argc > 1)
    rounds = atoi(argv[1]);
  GC_INIT();
  enum { T = 8 };
  pthread_t t[T];
  for (uintptr_t i = 0; i < T; i++)
    pthread_create(&t[i], NULL, mutator, (void *)i);
  /* Threads come and go while the mutators force collections. */
  long spawned_ok = 0;
  for (int i = 0; i < 100; i++) {
    pthread_t s;
    pthread_create(&s, NULL, short_lived, (void *)(uintptr_t)i);
    void *ok;
    pthread_join(s, &ok);
    spawned_ok += ok == (void *)1;
    if (i % 10 == 0)
      GC_gcollect();
  }
  for (int i = 0; i < T; i++)
    pthread_join(t[i], NULL);
  CHECK_EQ(spawned_ok, 100);
  CHECK_EQ(failures, 0);
  CHECK(GC_get_gc_no() >= 10);
  printf("collections: %lu, heap %zu KiB\n", GC_get_gc_no(), GC_get_heap_size() >> 10);
  return CHECK_SUMMARY();
}
