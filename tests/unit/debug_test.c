/* Unit test of api/debug.c: the checks the compat programs do not reach.
 *  - a live debug object whose trailer was overwritten is reported by the
 *    next collection (not only by GC_debug_free), with its site;
 *  - leak detection reports large objects and each leak only once, and
 *    says nothing about reachable or freed objects;
 *  - GC_debug_realloc keeps contents and the new site;
 *  - a finalizer registered on a debug object sees the client pointer.
 * Each case runs in a child process whose stderr is captured. */
#include "config.h"
#include <gc.h>
#include "check.h"

#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))


static NOINLINE void poke(char *p, size_t off)
{
  __asm__ __volatile__("" : "+r"(p));
  p[off] = 'x';
}

static char *live_smashed;
static void smash_at_collection(void)
{
  GC_INIT();
  live_smashed = GC_debug_malloc(40, "live_site.c", 77);
  poke(live_smashed, 40);
  GC_gcollect();
  printf("after collection\n");
}

static NOINLINE void leak_large_and_small(void)
{
  for (int i = 0; i < 3; i++)
    (void)GC_debug_malloc(2 << 20, "big_leak.c", 10 + i);
  for (int i = 0; i < 5; i++)
    (void)GC_debug_malloc(24, "small_leak.c", 20);
  GC_debug_free(GC_debug_malloc(24, "freed_leak.c", 30));
}

static void *kept;
static void leak_child(void)
{
  GC_set_find_leak(1);
  GC_INIT();
  kept = GC_debug_malloc(24, "kept_site.c", 40);
  leak_large_and_small();
  check_wipe_stack();
  GC_gcollect();
  printf("second collection\n");
  GC_gcollect();
  printf("done\n");
}

static int count(const char *hay, const char *needle)
{
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p++)
    n++;
  return n;
}

static int fin_ok;
static void GC_CALLBACK fin(void *obj, void *cd)
{
  fin_ok += (uintptr_t)obj == ~(uintptr_t)cd; /* cd: the hidden pointer */
}

static NOINLINE void make_debug_finalizable(void)
{
  for (int i = 0; i < 20; i++) {
    char *p = GC_debug_malloc(16, "fin_site.c", 1);
    /* Client data is traced (as in Boehm GC): pass the address hidden. */
    GC_debug_register_finalizer(p, fin, (void *)~(uintptr_t)p, 0, 0);
  }
}

int main(void)
{
  static char out[1 << 16];
  CHECK_EQ(check_capture(smash_at_collection, out, sizeof out), 0);
  CHECK(strstr(out, "smashed") != NULL);
  CHECK(strstr(out, "live_site.c:77") != NULL);
  CHECK(strstr(out, "after collection") != NULL);

  CHECK_EQ(check_capture(leak_child, out, sizeof out), 0);
  CHECK_EQ(count(out, "big_leak.c:1"), 3);
  CHECK(count(out, "small_leak.c:20") >= 4);
  CHECK(count(out, "small_leak.c:20") <= 5);
  CHECK_EQ(count(out, "freed_leak.c"), 0);
  CHECK_EQ(count(out, "kept_site.c"), 0);
  /* Reported once: nothing more after the second collection. */
  const char *second = strstr(out, "second collection");
  CHECK(second != NULL && strstr(second, "leak") == NULL);
  if (!second || strstr(second, "leak"))
    fprintf(stderr, "leak output was:\n%s\n", out);

  GC_INIT();
  char *p = GC_debug_malloc(10, "realloc_site.c", 5);
  memcpy(p, "abcdefghi", 10);
  p = GC_debug_realloc(p, 100000, "realloc_site.c", 6);
  CHECK(p != NULL && strcmp(p, "abcdefghi") == 0);
  GC_debug_free(p);

  make_debug_finalizable();
  for (int i = 0; i < 3; i++) {
    check_wipe_stack();
    GC_gcollect();
    GC_invoke_finalizers();
  }
  CHECK(fin_ok >= 16);
  return CHECK_SUMMARY();
}
