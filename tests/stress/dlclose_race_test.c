/* Stress: threads that dlopen and dlclose a library, and walk the loaded
 * objects with dl_iterate_phdr, over and over, beside a thread that
 * collects without pause.  The collector walks the loaded objects too,
 * for the static roots, and the walk takes the dynamic loader's lock,
 * which dlopen and dlclose hold while they edit the list of objects and
 * unmap one, and dl_iterate_phdr while it walks.  A collection that
 * stopped a thread there and then walked waited forever: the test
 * program of the malloc library hung so, its main thread stopped in
 * dlclose's munmap.  Besides, each time the library is loaded, a heap
 * object is kept only in its data; the object must survive the
 * collections that run while the library is loaded.  A hang is reported
 * by the alarm below (a run that works takes a few seconds).  No timing
 * is measured. */
#include "config.h"
#define GC_THREADS 1
#include <gc.h>
#include "check.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LOADERS = 2, ROUNDS = 3000, WALKS = 20000 }; /* two loaders: two variables */
enum { HANG_S = 120 }; /* the message says so */
static const char hang_msg[] = "dlclose_race_test: still running after 120 s: hung "
                               "(a thread stopped holding the loader's lock?)\n";

static char lib_path[4096];
static _Atomic int loaders_done;
static _Atomic long lost, walked;

/* Keep a fresh object in the library's static data (the loaders share
 * the library, so each has its own variable: one in .data, one in .bss),
 * collect a little by allocating, and check that the object is intact. */
static void use_library(void *h, uintptr_t id, uintptr_t stamp)
{
  void **data = dlsym(h, id == 1 ? "roots_dl_data" : "roots_dl_bss");
  CHECK(data != NULL);
  if (!data)
    return;
  void *was = *data;
  uintptr_t *obj = GC_MALLOC(64);
  obj[0] = obj[7] = stamp;
  *data = obj;
  obj = NULL;
  for (int i = 0; i < 200; i++)
    (void)GC_MALLOC(256);
  uintptr_t *back = *data;
  if (back[0] != stamp || back[7] != stamp)
    atomic_fetch_add(&lost, 1);
  *data = was; /* as the library left it */
}

static void *loader(void *arg)
{
  uintptr_t id = (uintptr_t)arg;
  for (int r = 0; r < ROUNDS; r++) {
    void *h = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      fprintf(stderr, "dlopen %s: %s\n", lib_path, dlerror());
      CHECK(!"dlopen");
      break;
    }
    use_library(h, id, id << 32 | (uintptr_t)r);
    CHECK_EQ(dlclose(h), 0);
  }
  atomic_fetch_add(&loaders_done, 1);
  return NULL;
}

static int count_object(struct dl_phdr_info *info, size_t size, void *arg)
{
  (void)info;
  (void)size;
  ++*(long *)arg;
  return 0;
}

static void *walker(void *arg)
{
  (void)arg;
  for (int i = 0; i < WALKS && atomic_load(&loaders_done) < LOADERS; i++) {
    long n = 0;
    dl_iterate_phdr(count_object, &n);
    atomic_fetch_add(&walked, n > 0);
  }
  return NULL;
}

static void *collector(void *arg)
{
  (void)arg;
  while (atomic_load(&loaders_done) < LOADERS)
    GC_gcollect();
  return NULL;
}

int main(void)
{
  check_hang_alarm(HANG_S, hang_msg);
  const char *top = getenv("top_builddir");
  snprintf(lib_path, sizeof lib_path, "%s/tests/unit/.libs/libroots_dl.so", top ? top : ".");
  GC_INIT();
  pthread_t l[LOADERS], w, c;
  for (uintptr_t i = 0; i < LOADERS; i++)
    CHECK_EQ(pthread_create(&l[i], NULL, loader, (void *)(i + 1)), 0);
  CHECK_EQ(pthread_create(&w, NULL, walker, NULL), 0);
  CHECK_EQ(pthread_create(&c, NULL, collector, NULL), 0);
  for (int i = 0; i < LOADERS; i++)
    CHECK_EQ(pthread_join(l[i], NULL), 0);
  CHECK_EQ(pthread_join(w, NULL), 0);
  CHECK_EQ(pthread_join(c, NULL), 0);
  check_hang_alarm(0, NULL);
  CHECK_EQ(atomic_load(&lost), 0);
  CHECK(atomic_load(&walked) > 0);
  return CHECK_SUMMARY();
}
