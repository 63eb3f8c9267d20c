/* collect_test: PARGC_MALLOC_MODE=collect, the collector behind malloc.
 *
 * The program is linked with libpargc-malloc and runs itself again with
 * PARGC_MALLOC_MODE=collect (the mode is chosen before main).  It then
 * allocates far more than it keeps and never frees: the peak RSS must
 * stay a fraction of what it allocated (the collector reclaimed the
 * garbage), while every object still reachable -- from static data, from
 * a thread's stack, from a node libc's tsearch allocated (libc's objects
 * are scanned), from an object allocated with the C++-style aligned
 * functions -- keeps its contents; a main thread that blocks every
 * signal is still stopped for collections.  A premature collection shows as a
 * wrong pattern, or as free's one-line abort on the reused pointer. */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <search.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define OBJ 120
#define PER_THREAD ((size_t)1500000) /* x OBJ: ~180 MB allocated per thread */

struct node {
  struct node *next;
  uint32_t tag;
  unsigned char pad[OBJ - sizeof(void *) - sizeof(uint32_t)];
};

static struct node *make(uint32_t tag)
{
  struct node *n = malloc(sizeof *n);
  if (!n)
    return NULL;
  n->next = NULL;
  n->tag = tag;
  memset(n->pad, (int)(tag & 0xFF), sizeof n->pad);
  return n;
}

static bool intact(const struct node *n, uint32_t tag)
{
  return n && n->tag == tag && n->pad[0] == (unsigned char)(tag & 0xFF) &&
         n->pad[sizeof n->pad - 1] == (unsigned char)(tag & 0xFF);
}

static struct node *static_root;
static void *tree; /* tsearch's root: its nodes are libc's */

static int cmp_tag(const void *a, const void *b)
{
  uint32_t x = ((const struct node *)a)->tag, y = ((const struct node *)b)->tag;
  return x < y ? -1 : x > y;
}

/* Allocate PER_THREAD objects, keep one in a thousand on a list held
 * only by this frame, check them all at the end. */
static void *churn(void *arg)
{
  uint32_t base = (uint32_t)(uintptr_t)arg * 100000000u;
  struct node *kept = NULL;
  size_t nkept = 0, bad = 0;
  for (size_t i = 0; i < PER_THREAD; i++) {
    struct node *n = make(base + (uint32_t)i);
    if (!n) {
      bad++;
      break;
    }
    if (i % 1000 == 0) {
      n->next = kept;
      kept = n;
      nkept++;
    }
  }
  size_t i = (nkept - 1) * 1000;
  for (struct node *n = kept; n; n = n->next, i -= 1000)
    bad += !intact(n, base + (uint32_t)i);
  CHECK_EQ(bad, 0);
  return NULL;
}

/* A main thread that blocks every signal (a server leaving them to a
 * sigwait thread) and then computes, while another thread allocates:
 * collections must still stop it -- the library's sigprocmask and
 * pthread_sigmask keep the collector's suspend signal open.  Before,
 * the first collection waited for it forever.  The worker opens SIGALRM
 * for itself, so that the hang alarm can fire. */
static _Atomic int blocked_done;

static void *blocked_worker(void *arg)
{
  sigset_t alrm;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
  churn(arg);
  blocked_done = 1;
  return NULL;
}

static void blocked_main(void)
{
  sigset_t all, old, cur;
  sigfillset(&all);
  CHECK_EQ(sigprocmask(SIG_BLOCK, &all, &old), 0);
  CHECK_EQ(pthread_sigmask(SIG_BLOCK, NULL, &cur), 0);
  CHECK(sigismember(&cur, SIGUSR1) == 1); /* every other signal is blocked */
  check_hang_alarm(300, "collect_test: a collection never stopped a thread "
                        "that blocked every signal\n");
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, blocked_worker, (void *)3), 0);
  volatile unsigned long spin = 0;
  while (!blocked_done)
    spin++;
  CHECK_EQ(pthread_join(t, NULL), 0);
  check_hang_alarm(0, NULL);
  CHECK_EQ(sigprocmask(SIG_SETMASK, &old, NULL), 0);
}

static int run(void)
{
  static_root = make(7);
  struct node *key = make(8);
  CHECK(tsearch(key, &tree, cmp_tag) != NULL);
  key = NULL; /* only libc's tree node points to it now */
  void *aligned = NULL;
  CHECK_EQ(posix_memalign(&aligned, 4096, 1000), 0);
  CHECK(aligned != NULL && (uintptr_t)aligned % 4096 == 0);
  memset(aligned, 0x5A, 1000);
  unsigned char *z = calloc(100, 10);
  CHECK(z != NULL && z[0] == 0 && z[999] == 0);
  CHECK(malloc_usable_size(z) >= 1000);
  unsigned char *r = realloc(z, 5000);
  CHECK(r != NULL && r[999] == 0);
  void *volatile again = r;
  free(r); /* a hint in this mode: harmless, even twice */
  free(again);
  errno = 0;
  CHECK(malloc(SIZE_MAX / 2) == NULL && errno == ENOMEM);

  check_run_threads(2, churn);
  churn((void *)2);
  blocked_main();

  CHECK(intact(static_root, 7));
  struct node probe = {.tag = 8};
  void *found = tfind(&probe, &tree, cmp_tag);
  CHECK(found != NULL && intact(*(struct node **)found, 8));
  size_t bad = 0;
  for (int i = 0; i < 1000; i++)
    bad += ((unsigned char *)aligned)[i] != 0x5A;
  CHECK_EQ(bad, 0);

  /* 4 x PER_THREAD x OBJ bytes (~720 MB) allocated, a few MB kept. */
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  long allocated_mb = (long)(4 * PER_THREAD * sizeof(struct node) >> 20);
  printf("collect_test: allocated %ld MB, peak RSS %ld MB\n", allocated_mb, ru.ru_maxrss / 1024);
  CHECK(ru.ru_maxrss / 1024 < allocated_mb / 4);
  return CHECK_SUMMARY();
}

int main(int argc, char **argv)
{
  (void)argc;
  const char *mode = getenv("PARGC_MALLOC_MODE");
  if (!mode || strcmp(mode, "collect") != 0) {
    setenv("PARGC_MALLOC_MODE", "collect", 1);
    execv("/proc/self/exe", argv);
    perror("collect_test: exec");
    return 1;
  }
  return run();
}
