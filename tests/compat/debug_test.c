/* debug_test.c: debug allocation (GC_debug_*, and the GC_MALLOC macros
 * under GC_DEBUG) reports misuse with the allocation site:
 *  - writing past the end of an object is reported as a smashed object
 *    when it is freed, naming the file and line that allocated it, and
 *    at the next collection while it is still reachable;
 *  - so is writing just before it, into its debug header (an underrun):
 *    when it is freed and at the next collection;
 *  - freeing an object twice is reported, and the program goes on;
 *  - debug objects behave as ordinary ones otherwise (contents, GC_base
 *    giving the start of the header, finalizers see the user pointer).
 * The misuse runs in a child process whose output is checked. */
#include <gc.h>
#include <gc/gc_mark.h>
#include <stdio.h>
#include "compat.h"

/* Allocation sites the reports must name.  The macro case sets its line
 * with #line (at the end of this file). */
#define SMASH_FILE "smash_site.c"
#define SMASH_LINE 4242
#define MACRO_SITE "macro_site.c:5000"

/* Write one byte, out of the compiler's sight (it would warn about the
 * deliberate overflow). */
static COMPAT_NOINLINE void poke(char *p, size_t offset) {
  __asm__ __volatile__("" : "+r"(p));
  p[offset] = 'x';
}

static void smash_child(void) {
  GC_INIT();
  char *p = (char *)GC_debug_malloc(16, SMASH_FILE, SMASH_LINE);
  poke(p, 16); /* one past the end: into the trailer */
  GC_debug_free(p);
  printf("child still running\n");
}

/* Write the byte just before p: into the debug header's last word. */
static COMPAT_NOINLINE void poke_before(char *p) {
  __asm__ __volatile__("" : "+r"(p));
  p[-1] = 'x';
}

static void underrun_free_child(void) {
  GC_INIT();
  char *p = (char *)GC_debug_malloc(16, SMASH_FILE, SMASH_LINE);
  poke_before(p);
  GC_debug_free(p);
  printf("child still running\n");
}

/* Reachable from here while the collection runs. */
static char *volatile kept;

static void underrun_collect_child(void) {
  GC_INIT();
  kept = (char *)GC_debug_malloc(40, SMASH_FILE, SMASH_LINE);
  poke_before(kept);
  GC_gcollect();
  printf("child still running\n");
}

static void overrun_collect_child(void) {
  GC_INIT();
  kept = (char *)GC_debug_malloc(40, SMASH_FILE, SMASH_LINE);
  poke(kept, 40);
  GC_gcollect();
  printf("child still running\n");
}

static void double_free_child(void) {
  GC_INIT();
  char *p = (char *)GC_debug_malloc(16, GC_EXTRAS);
  GC_debug_free(p);
  GC_debug_free(p);
  printf("child still running\n");
}

#ifdef GC_DEBUG
static void macro_child(void);
#endif

static int finalized_ok, finalized;
static void GC_CALLBACK fin(void *obj, void *cd) {
  finalized++;
  finalized_ok += ((char *)obj)[0] == 'f' && cd == (void *)&finalized;
}
static COMPAT_NOINLINE void make_finalizable(void) {
  for (int i = 0; i < 50; i++) {
    char *p = (char *)GC_debug_malloc(10, GC_EXTRAS);
    p[0] = 'f';
    GC_debug_register_finalizer(p, fin, &finalized, 0, 0);
  }
}

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != 0; }

static int contains_ci(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++)
    if (strncasecmp(hay, needle, n) == 0) return 1;
  return 0;
}

int main(void) {
  static char out[65536];
  char site[512];

  CHECK_EQ(check_capture(smash_child, out, sizeof out), 0);
  snprintf(site, sizeof site, "%s:%d", SMASH_FILE, SMASH_LINE);
  CHECK(contains_ci(out, "smash"));
  CHECK(contains(out, site));
  CHECK(contains(out, "child still running"));
  if (!contains(out, site)) fprintf(stderr, "expected %s in:\n%s\n", site, out);

  /* An underrun: the header may be gone, the allocation site with it, so
   * only the report is required. */
  CHECK_EQ(check_capture(underrun_free_child, out, sizeof out), 0);
  CHECK(contains_ci(out, "smash"));
  CHECK(contains(out, "child still running"));
  if (!contains_ci(out, "smash")) fprintf(stderr, "underrun at free, no report in:\n%s\n", out);
  CHECK_EQ(check_capture(underrun_collect_child, out, sizeof out), 0);
  CHECK(contains_ci(out, "smash"));
  CHECK(contains(out, "child still running"));
  if (!contains_ci(out, "smash")) fprintf(stderr, "underrun at collection, no report in:\n%s\n", out);
  CHECK_EQ(check_capture(overrun_collect_child, out, sizeof out), 0);
  CHECK(contains_ci(out, "smash"));
  CHECK(contains(out, site));
  if (!contains(out, site)) fprintf(stderr, "overrun at collection: expected %s in:\n%s\n", site, out);

  CHECK_EQ(check_capture(double_free_child, out, sizeof out), 0);
  CHECK(contains(out, "child still running"));
  CHECK(strlen(out) > strlen("child still running\n")); /* something was reported */

#ifdef GC_DEBUG
  CHECK_EQ(check_capture(macro_child, out, sizeof out), 0);
  snprintf(site, sizeof site, "%s", MACRO_SITE);
  CHECK(contains_ci(out, "smash"));
  CHECK(contains(out, site));
  if (!contains(out, site)) fprintf(stderr, "expected %s in:\n%s\n", site, out);
#endif

  /* Ordinary behaviour of debug objects, in this process. */
  GC_INIT();
  char *p = (char *)GC_debug_malloc(100, GC_EXTRAS);
  CHECK(p != 0);
  CHECK((char *)GC_base(p) + GC_get_debug_header_size() == p);
  CHECK(GC_size(GC_base(p)) >= 100 + GC_get_debug_header_size());
  memset(p, 'a', 100);
  p = (char *)GC_debug_realloc(p, 200, GC_EXTRAS);
  CHECK(p[99] == 'a');
  GC_debug_free(p);
  char *s = GC_debug_strdup("copy", GC_EXTRAS);
  CHECK(strcmp(s, "copy") == 0);
  char *sn = GC_debug_strndup("copy", 2, GC_EXTRAS);
  CHECK(strcmp(sn, "co") == 0);
  void *u = GC_debug_malloc_uncollectable(8, GC_EXTRAS);
  CHECK(u != 0);
  GC_debug_free(u);
  CHECK(GC_debug_malloc_atomic(8, GC_EXTRAS) != 0);
  CHECK(GC_debug_malloc_ignore_off_page(8, GC_EXTRAS) != 0);
  CHECK(GC_debug_malloc_atomic_ignore_off_page(8, GC_EXTRAS) != 0);
  CHECK(GC_debug_malloc_atomic_uncollectable(8, GC_EXTRAS) != 0);
  void *r = GC_debug_malloc_replacement(8);
  CHECK(r != 0);
  r = GC_debug_realloc_replacement(r, 64);
  CHECK(r != 0);
  make_finalizable();
  compat_collect(3);
  CHECK(COMPAT_MOSTLY(finalized, 50));
  CHECK_EQ(finalized_ok, finalized);
  return CHECK_SUMMARY();
}

#ifdef GC_DEBUG
/* The same misuse through the macros, which GC_DEBUG maps to the debug
 * calls with __FILE__ and __LINE__: pinned to MACRO_SITE with #line. */
static void macro_child(void) {
  GC_INIT();
#line 5000 "macro_site.c"
  char *p = (char *)GC_MALLOC(24);
  poke(p, 24);
  GC_FREE(p);
  printf("child still running\n");
}
#endif
