/* leak_test.c: leak detection with leak_detector.h.  A program whose
 * malloc/free are redirected to the collector's debug calls runs with
 * GC_set_find_leak(1); blocks dropped without free are reported at the
 * next collection (CHECK_LEAKS) with the file and line that allocated
 * them (and the type a describe function gives), and blocks that were
 * freed are not.  With GC_FINDLEAK_DELAY_FREE a block written to after
 * it was freed is reported.  The leaky program runs in a
 * child process whose output is checked.  Allocation sites are pinned
 * with #line so the test knows them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* After the system headers and instead of gc.h, as documented: it turns
 * on GC_DEBUG before gc.h is read. */
#include <gc/leak_detector.h>
#include <gc/gc_mark.h>
#include "compat.h"

#define LEAKS 10

static COMPAT_NOINLINE void leak_some(void) {
  for (int i = 0; i < LEAKS; i++) {
#line 7000 "leaky_site.c"
    char *p = (char *)malloc(40);
    p[0] = 1;
  }
}

#line 40 "leak_test.c"
static COMPAT_NOINLINE void free_some(void) {
  for (int i = 0; i < LEAKS; i++) {
#line 8000 "freed_site.c"
    char *p = (char *)malloc(40);
    free(p);
  }
  char *s = strdup("not leaked either");
  free(s);
  char *r = (char *)realloc(0, 100);
  r = (char *)realloc(r, 1000);
  free(r);
}

/* The leak report names the type GC_register_describe_type_fn gives. */
static void GC_CALLBACK describe_block(void *p, char *buf) {
  (void)p;
  strcpy(buf, "leaky_block_type");
}

#line 60 "leak_test.c"
static void leaky_child(void) {
  GC_set_find_leak(1);
  GC_INIT();
  GC_register_describe_type_fn(1 /* NORMAL */, describe_block);
  leak_some();
  free_some();
  compat_wipe_stack();
  CHECK_LEAKS();
  CHECK_LEAKS();
  printf("child done\n");
}

/* GC_FINDLEAK_DELAY_FREE: freed blocks are kept and checked; one
 * written to after free is reported (as smashed), with its site. */
static COMPAT_NOINLINE void use_after_free(void) {
#line 9000 "uaf_site.c"
  char *p = (char *)malloc(48);
  free(p);
  p[8] = 42;
#line 9100 "clean_site.c"
  char *q = (char *)malloc(48);
  free(q);
}

#line 120 "leak_test.c"
static void delay_free_child(void) {
  setenv("GC_FINDLEAK_DELAY_FREE", "1", 1);
  GC_set_find_leak(1);
  GC_INIT();
  use_after_free();
  compat_wipe_stack();
  CHECK_LEAKS();
  CHECK_LEAKS();
  printf("child done\n");
}

static int contains_ci(const char *hay, const char *needle) {
  for (; *hay; hay++) {
    size_t i = 0;
    while (needle[i] && hay[i] && (hay[i] | 32) == (needle[i] | 32))
      i++;
    if (!needle[i])
      return 1;
  }
  return 0;
}

int main(void) {
  static char out[1 << 16];
  CHECK_EQ(check_capture(delay_free_child, out, sizeof out), 0);
  CHECK(strstr(out, "child done") != 0);
  CHECK(contains_ci(out, "smashed"));
  CHECK(strstr(out, "uaf_site.c:9000") != 0);
  CHECK(strstr(out, "clean_site.c") == 0);
  CHECK_EQ(check_capture(leaky_child, out, sizeof out), 0);
  CHECK(strstr(out, "child done") != 0);
  CHECK(strstr(out, "leaky_site.c:7000") != 0); /* the leak, by site */
  CHECK(strstr(out, "leaky_block_type") != 0);  /* and by type */
  CHECK(strstr(out, "freed_site.c:8000") == 0); /* freed blocks: silent */
  if (strstr(out, "leaky_site.c:7000") == 0 || strstr(out, "freed_site.c") != 0)
    fprintf(stderr, "leak report was:\n%s\n", out);
  /* Leak mode off: the same calls are a plain debug allocator. */
  GC_INIT();
  CHECK_EQ(GC_get_find_leak(), 0);
  char *p = (char *)malloc(10);
  CHECK(p != 0);
  p = (char *)realloc(p, 20);
  free(p);
  void *q = 0;
  CHECK_EQ(posix_memalign(&q, 64, 10), 0);
  CHECK(((GC_word)q & 63) == 0);
  return CHECK_SUMMARY();
}
