/* Unit test for gc/roots: the program's globals and statics are covered,
 * a dlopen'd library's data is covered after dlopen, user ranges with
 * holes (GC_add_roots / GC_remove_roots), exclusions with holes
 * (GC_exclude_static_roots), pargc's own unscanned data and tables
 * (pargc_roots_exclude_own), the vdso and a sanitizer's run-time library
 * are not covered, and the ranges come out sorted, disjoint and aligned. */
#include "config.h"
#include "gc/roots.h"
#include "gc/threads.h"
#include "check.h"

/* Boehm's root calls; no redirects: the plain dlopen is tested. */
#define GC_THREADS 1
#define GC_NO_THREAD_REDIRECTS 1
#include <gc/gc.h>

#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#define MAX_RANGES 4096
static struct {
  char *lo, *hi;
} ranges[MAX_RANGES];
static int nranges;

static void collect(void *lo, void *hi, void *arg)
{
  (void)arg;
  if (nranges < MAX_RANGES) {
    ranges[nranges].lo = lo;
    ranges[nranges].hi = hi;
    nranges++;
  }
}

/* The world is stopped around the call, as the collector does. */
static void collect_roots(void)
{
  nranges = 0;
  pargc_threads_stop_world();
  pargc_roots_each_range(collect, NULL);
  pargc_threads_start_world();
}

static bool covered(const void *p)
{
  for (int i = 0; i < nranges; i++)
    if ((const char *)p >= ranges[i].lo && (const char *)p < ranges[i].hi)
      return true;
  return false;
}

void *roots_global = &roots_global;
void *roots_global_bss;
static void *roots_static_data = &roots_static_data;
static char roots_static_bss[1 << 14];
static const int roots_const = 42;
/* Stands for one of pargc's own tables; its neighbours stay roots. */
static char roots_before[64], roots_own_table[1 << 13], roots_after[64];

static void test_program_data(void)
{
  collect_roots();
  CHECK(nranges > 0);
  CHECK(covered(&roots_global));
  CHECK(covered(&roots_global_bss));
  CHECK(covered(&roots_static_data));
  CHECK(covered(&roots_static_bss[0]));
  CHECK(covered(&roots_static_bss[sizeof roots_static_bss - 1]));
  CHECK(!covered(&roots_const)); /* read-only data is not scanned */
  CHECK(!covered(pargc_roots_private_probe()));
  uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
  if (vdso)
    CHECK(!covered((void *)vdso));
  /* Sorted, disjoint (not even touching: merged) and word-aligned. */
  bool ordered = true, aligned = true;
  for (int i = 0; i < nranges; i++) {
    if (((uintptr_t)ranges[i].lo | (uintptr_t)ranges[i].hi) & (sizeof(void *) - 1))
      aligned = false;
    if (ranges[i].lo >= ranges[i].hi)
      ordered = false;
    if (i > 0 && ranges[i].lo <= ranges[i - 1].hi)
      ordered = false;
  }
  CHECK(ordered);
  CHECK(aligned);
}

static void test_dlopen(void)
{
  const char *top = getenv("top_builddir");
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/unit/.libs/libroots_dl.so",
           top ? top : ".");
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
    CHECK(h != NULL);
    return;
  }
  void **data = dlsym(h, "roots_dl_data");
  void **bss = dlsym(h, "roots_dl_bss");
  CHECK(data && bss);
  collect_roots();
  CHECK(data && covered(data));
  CHECK(bss && covered(bss));
  dlclose(h);
  /* Re-read after dlclose: nothing of the module may be reported if it
   * was unmapped (its ranges would fault when scanned). */
  void *still = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  collect_roots();
  if (!still)
    CHECK(!covered(data));
  else
    dlclose(still);
}

static void test_user_ranges(void)
{
  char *b = malloc(4096);
  collect_roots();
  CHECK(!covered(b + 100));
  pargc_roots_add(b, b + 1000);
  collect_roots();
  CHECK(covered(b));
  CHECK(covered(b + 999 - 7));
  CHECK(!covered(b + 1000));
  /* A hole in the middle. */
  pargc_roots_remove(b + 200, b + 400);
  collect_roots();
  CHECK(covered(b + 100));
  CHECK(!covered(b + 200));
  CHECK(!covered(b + 300));
  CHECK(covered(b + 400));
  CHECK(covered(b + 800));
  /* Overlapping adds merge; an add bridging the hole fills it. */
  pargc_roots_add(b + 900, b + 2000);
  pargc_roots_add(b + 150, b + 450);
  collect_roots();
  CHECK(covered(b + 300));
  CHECK(covered(b + 1500));
  CHECK(!covered(b + 2000));
  int before = nranges;
  pargc_roots_add(b + 3000, b + 3008);
  collect_roots();
  CHECK_EQ(nranges, before + 1);
  /* Cut the ends. */
  pargc_roots_remove(b - 64, b + 64);
  pargc_roots_remove(b + 1900, b + 3004);
  collect_roots();
  CHECK(!covered(b));
  CHECK(covered(b + 64));
  CHECK(!covered(b + 1950));
  CHECK(!covered(b + 3000)); /* unaligned rest: nothing whole left */
  pargc_roots_clear();
  collect_roots();
  CHECK(!covered(b + 500));
  CHECK(covered(&roots_global)); /* clear leaves static data alone */
  free(b);
}

static void test_exclusions(void)
{
  char *s = roots_static_bss;
  pargc_roots_exclude(s + 4096, s + 8192);
  collect_roots();
  CHECK(covered(s + 1000));
  CHECK(!covered(s + 4096));
  CHECK(!covered(s + 6000));
  CHECK(covered(s + 8192));
  CHECK(covered(&roots_global));
  /* An exclusion does not apply to the user's own ranges. */
  pargc_roots_add(s + 5000, s + 5100);
  collect_roots();
  CHECK(covered(s + 5040));
  pargc_roots_clear();
  pargc_roots_clear_exclusions();
  collect_roots();
  CHECK(covered(s + 6000));
}

/* The Boehm names reach the same tables. */
static void test_boehm_api(void)
{
  static char area[512];
  char *h = malloc(512);
  GC_add_roots(h, h + 512);
  collect_roots();
  CHECK(covered(h + 256));
  GC_remove_roots(h, h + 512);
  collect_roots();
  CHECK(!covered(h + 256));
  GC_add_roots(h, h + 512);
  GC_clear_roots();
  collect_roots();
  CHECK(!covered(h + 256));
  GC_exclude_static_roots(area, area + sizeof area);
  collect_roots();
  CHECK(!covered(area + 256));
  GC_clear_exclusion_table();
  collect_roots();
  CHECK(covered(area + 256));
  free(h);
}

/* A table given to pargc_roots_exclude_own is left out whole, and only
 * it: this test links pargc into the program, the case the call is for. */
static void test_own_tables(void)
{
  collect_roots();
  CHECK(covered(&roots_own_table[0]));
  pargc_roots_exclude_own(roots_own_table, sizeof roots_own_table);
  collect_roots();
  CHECK(!covered(&roots_own_table[0]));
  CHECK(!covered(&roots_own_table[sizeof roots_own_table - 1]));
  CHECK(covered(&roots_before[0]));
  CHECK(covered(&roots_after[0]));
  CHECK(covered(&roots_static_bss[0]));
}

/* The writable segments of a sanitizer's run-time library, when this
 * test runs in a sanitizer build (CI's second pass); none otherwise. */
static int find_sanitizer(struct dl_phdr_info *info, size_t size, void *arg)
{
  (void)size;
  const char *base = strrchr(info->dlpi_name, '/');
  base = base ? base + 1 : info->dlpi_name;
  if (strncmp(base, "libubsan.so", 11) != 0 && strncmp(base, "libasan.so", 10) != 0)
    return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && ph->p_memsz > 0)
      *(uintptr_t *)arg = info->dlpi_addr + ph->p_vaddr + ph->p_memsz - 1;
  }
  return 0;
}

static void test_sanitizer_runtime(void)
{
  uintptr_t last = 0;
  dl_iterate_phdr(find_sanitizer, &last);
  if (!last)
    return;
  collect_roots();
  CHECK(!covered((void *)last));
}

int main(void)
{
  pargc_threads_init();
  pargc_roots_init();
  test_program_data();
  test_dlopen();
  test_user_ranges();
  test_exclusions();
  test_boehm_api();
  test_own_tables();
  test_sanitizer_runtime();
  return CHECK_SUMMARY();
}
