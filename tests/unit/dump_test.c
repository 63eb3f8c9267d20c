/* The heap dumps print what is there (api/api_misc.c):
 *  - GC_print_free_list lists the calling thread's free objects of that
 *    kind and size: each address is an object of the size asked for, in
 *    the span the last allocation came from, none of them the live
 *    object, and the count line agrees with the lines;
 *  - GC_dump_regions has a line for the span of a small object and for a
 *    large object, each with its kind and object size;
 *  - GC_dump names the dump and ends with the finalization counts.
 * Each runs in a child process whose output is captured. */
#include "config.h"
#include <gc.h>
#include <gc/gc_inline.h>
#include "check.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void *small, *large;
static char out[1 << 20];

static void print_list(void) { GC_print_free_list(GC_I_NORMAL, GC_size(small) / GC_GRANULE_BYTES); }
static void dump_regions(void) { GC_dump_regions(); }
static void dump_all(void) { GC_dump_named("dump_test"); }

int main(void)
{
  GC_INIT();
  small = GC_MALLOC(40);
  large = GC_MALLOC(3 << 20);
  CHECK(small && large);

  CHECK_EQ(check_capture(print_list, out, sizeof out), 0);
  size_t lines = 0, wrong = 0, count = (size_t)-1;
  for (char *l = out; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
    void *obj, *span;
    if (sscanf(l, " %p (span at %p", &obj, &span) == 2) {
      lines++;
      /* In the parent too: the child was forked after the allocation. */
      wrong += GC_base(obj) != obj || GC_size(obj) != GC_size(small) || obj == small ||
               ((uintptr_t)obj ^ (uintptr_t)small) >= ((uintptr_t)1 << 16);
    }
    sscanf(l, " %zu free objects", &count);
  }
  CHECK(lines > 0);
  CHECK_EQ(wrong, 0);
  CHECK_EQ(count, lines);

  CHECK_EQ(check_capture(dump_regions, out, sizeof out), 0);
  char want[128];
  snprintf(want, sizeof want, "small, kind %d, %zu-byte objects", GC_I_NORMAL, GC_size(small));
  CHECK(strstr(out, want) != NULL);
  snprintf(want, sizeof want, "large, kind %d, %zu-byte objects: 1", GC_I_NORMAL, GC_size(large));
  CHECK(strstr(out, want) != NULL);
  if (!strstr(out, want))
    fprintf(stderr, "no '%s' in:\n%s\n", want, out);

  CHECK_EQ(check_capture(dump_all, out, sizeof out), 0);
  CHECK(strncmp(out, "***GC Dump dump_test", 20) == 0);
  CHECK(strstr(out, "Finalizable objects:") != NULL);
  return CHECK_SUMMARY();
}
