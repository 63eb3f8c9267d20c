/* torture_test: threads, fork and dlopen on libpargc-malloc, which this
 * program is linked with (the same binary also runs under LD_PRELOAD in
 * programs_test.sh).
 *
 * Worker threads allocate, write, check and free objects of mixed sizes,
 * passing a share of them to the next worker to free (remote frees);
 * threads start and exit all the time, so contexts are parked and
 * reused.  Meanwhile the main thread forks (the children allocate and
 * free with their own threads, then exit with a status that says
 * whether their objects were intact) and dlopens/dlcloses a library,
 * whose loading allocates.  Every object carries its size and a
 * pattern; a corrupted one fails the test. */
#define _GNU_SOURCE
#include "check.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WORKERS 4
#define SLOTS 512
#define ROUNDS 20000

/* A handoff box per worker: objects another worker frees. */
static _Atomic(unsigned char *) box[WORKERS][64];
static _Atomic long corrupt;
static _Atomic int stop;

static unsigned char *obj_new(uint32_t *seed)
{
  *seed = *seed * 1103515245u + 12345u;
  uint32_t r = *seed >> 8;
  size_t n = (r & 7) == 0 ? 1024 + r % 40000 : 8 + r % 200;
  if ((r & 255) == 1)
    n = 600000 + r % 100000; /* now and then a large run */
  unsigned char *p = malloc(n);
  if (!p)
    return NULL;
  memcpy(p, &n, sizeof n);
  memset(p + sizeof n, (int)(n & 0xFF), n - sizeof n);
  return p;
}

static bool obj_ok(const unsigned char *p)
{
  size_t n;
  memcpy(&n, p, sizeof n);
  if (n < 8 || n > 700000)
    return false;
  return p[sizeof n] == (unsigned char)(n & 0xFF) && p[n - 1] == (unsigned char)(n & 0xFF);
}

static void obj_free(unsigned char *p)
{
  if (!p)
    return;
  if (!obj_ok(p))
    atomic_fetch_add(&corrupt, 1);
  free(p);
}

static void *worker(void *arg)
{
  intptr_t me = (intptr_t)arg;
  uint32_t seed = (uint32_t)me * 7919u + (uint32_t)time(NULL);
  unsigned char *slot[SLOTS] = {0};
  for (int i = 0; i < ROUNDS / 4; i++) {
    int s = (int)(seed % SLOTS);
    obj_free(slot[s]);
    slot[s] = obj_new(&seed);
    /* Hand one object to the next worker, take one from our box. */
    if ((i & 7) == 0) {
      unsigned char *mine = obj_new(&seed);
      unsigned char *old = atomic_exchange(&box[(me + 1) % WORKERS][i / 8 % 64], mine);
      obj_free(old);
    }
    if ((i & 15) == 0)
      obj_free(atomic_exchange(&box[me][i / 16 % 64], NULL));
  }
  for (int s = 0; s < SLOTS; s++)
    obj_free(slot[s]);
  return NULL;
}

/* Keeps WORKERS threads running, each replaced by a fresh one when it
 * ends, until told to stop. */
static void *spawner(void *arg)
{
  (void)arg;
  while (!atomic_load(&stop)) {
    pthread_t t[WORKERS];
    for (intptr_t i = 0; i < WORKERS; i++)
      if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
        atomic_fetch_add(&corrupt, 1000);
    for (int i = 0; i < WORKERS; i++)
      pthread_join(t[i], NULL);
  }
  return NULL;
}

/* In a fork child: threads of its own, then exit 0 if nothing broke. */
static void fork_child(void)
{
  pthread_t t[2];
  for (intptr_t i = 0; i < 2; i++)
    if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
      _exit(3);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  uint32_t seed = 42;
  for (int i = 0; i < 1000; i++)
    obj_free(obj_new(&seed));
  _exit(atomic_load(&corrupt) ? 2 : 0);
}

int main(void)
{
  pthread_t sp;
  CHECK_EQ(pthread_create(&sp, NULL, spawner, NULL), 0);
  for (int i = 0; i < 12; i++) {
    pid_t pid = fork();
    if (pid == 0)
      fork_child();
    CHECK(pid > 0);
    int st = -1;
    if (pid > 0)
      waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      fprintf(stderr, "fork child %d: status %#x\n", i, st);
    /* dlopen allocates (link maps, search paths, TLS); dlclose frees. */
    void *h = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
    CHECK(h != NULL);
    if (h) {
      double (*cosf)(double) = (double (*)(double))dlsym(h, "cos");
      CHECK(cosf != NULL && cosf(0.0) == 1.0);
      dlclose(h);
    }
    char *e = NULL;
    void *nope = dlopen("libpargc-does-not-exist.so", RTLD_NOW);
    CHECK(nope == NULL && (e = dlerror()) != NULL);
  }
  atomic_store(&stop, 1);
  pthread_join(sp, NULL);
  for (int w = 0; w < WORKERS; w++)
    for (int i = 0; i < 64; i++)
      obj_free(atomic_exchange(&box[w][i], NULL));
  CHECK_EQ(atomic_load(&corrupt), 0);
  return CHECK_SUMMARY();
}
