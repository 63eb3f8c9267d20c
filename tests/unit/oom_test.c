/* Out-of-memory paths (alloc/heap, api/api): sizes that cannot be met --
 * SIZE_MAX, 2^62, a realloc to SIZE_MAX -- and a reached
 * GC_MAXIMUM_HEAP_SIZE return what the GC_set_oom_fn handler returns
 * (NULL), call it once per failure, warn once per failure, and leave the
 * collector working: after the program drops its data, allocation
 * succeeds again. */
#include "config.h"
#include <gc.h>
#include "check.h"

#include <stdint.h>
#include <string.h>

static int oom_calls;
static size_t oom_last;

static void *count_oom(size_t bytes)
{
  oom_calls++;
  oom_last = bytes;
  return NULL;
}

static int oom_warnings;

static void count_warning(char *msg, GC_word arg)
{
  (void)arg;
  if (strstr(msg, "out of memory"))
    oom_warnings++;
}

static void *volatile keep[1000];

/* Sizes hidden from the compiler's alloc_size warnings. */
static volatile size_t huge = SIZE_MAX;

int main(void)
{
  GC_INIT();
  GC_set_warn_proc(count_warning);
  GC_set_oom_fn(count_oom);
  CHECK(GC_get_oom_fn() == count_oom);

  CHECK(GC_MALLOC(huge) == NULL);
  CHECK_EQ(oom_calls, 1);
  CHECK(oom_last == SIZE_MAX);
  CHECK(GC_MALLOC_ATOMIC(huge - 8) == NULL);
  CHECK(GC_MALLOC((size_t)1 << 62) == NULL);
  CHECK(GC_REALLOC(GC_MALLOC(10), huge) == NULL);
  CHECK_EQ(oom_calls, 4);

  GC_set_max_heap_size(64 << 20);
  int n = 0;
  for (; n < 1000; n++) {
    void *p = GC_MALLOC(1 << 20);
    if (!p)
      break;
    keep[n] = p;
  }
  CHECK(n >= 32 && n <= 64);            /* stopped at the limit... */
  CHECK(GC_get_heap_size() <= (64u << 20)); /* ...and never beyond it */
  CHECK_EQ(oom_calls, 5);
  CHECK_EQ(oom_warnings, 5);

  /* Drop the data: the collector makes room again. */
  memset((void *)keep, 0, sizeof keep);
  GC_gcollect();
  int m = 0;
  for (; m < 20; m++)
    if (!GC_MALLOC(1 << 20))
      break;
  CHECK_EQ(m, 20);
  return CHECK_SUMMARY();
}
