/* Unit test for alloc/options: parsing, ranges, warnings, and the
 * agreement between the options table and docs/environment.md.
 * `options_test --markdown` prints the document (used by `make env-doc`). */
#include "config.h"
#include "alloc/options.h"
#include "alloc/report.h"
#include "check.h"

#include <string.h>

static char warnings[4096];

static void capture_warn(char *msg, uintptr_t arg)
{
  (void)arg;
  strncat(warnings, msg, sizeof warnings - strlen(warnings) - 1);
}

static void load(char **envp)
{
  warnings[0] = 0;
  pargc_options_reset();
  pargc_options_init(envp);
}

static void test_sizes(void)
{
  int64_t v;
  CHECK(pargc_options_parse_size("123", &v) && v == 123);
  CHECK(pargc_options_parse_size("64K", &v) && v == 65536);
  CHECK(pargc_options_parse_size("2m", &v) && v == 2 << 20);
  CHECK(pargc_options_parse_size("1G", &v) && v == 1 << 30);
  CHECK(pargc_options_parse_size("3GB", &v) && v == 3LL << 30);
  CHECK(pargc_options_parse_size("1T", &v) && v == 1LL << 40);
  CHECK(!pargc_options_parse_size("", &v));
  CHECK(!pargc_options_parse_size("-5", &v));
  CHECK(!pargc_options_parse_size("12Q", &v));
  CHECK(!pargc_options_parse_size("99999999999999999999", &v));
  CHECK(!pargc_options_parse_size("9000000000000T", &v)); /* overflows */
}

static void test_defaults(void)
{
  char *env[] = {NULL};
  load(env);
  CHECK_EQ(pargc_opt.free_space_divisor, 3);
  CHECK_EQ(pargc_opt.print_stats, 0);
  CHECK_EQ(pargc_opt.given.k, 0);
  CHECK(strcmp(pargc_opt.stats_file, "") == 0);
  CHECK(warnings[0] == 0);
}

static void test_values(void)
{
  char *env[] = {"PARGC_K=4", "GC_INITIAL_HEAP_SIZE=16M", "GC_PRINT_STATS=",
                 "GC_DONT_GC=yes", "PARGC_STATS_FILE=/tmp/x.json", NULL};
  load(env);
  CHECK_EQ(pargc_opt.k, 4);
  CHECK(pargc_opt.given.k);
  CHECK_EQ(pargc_opt.initial_heap, 16 << 20);
  CHECK_EQ(pargc_opt.print_stats, 1); /* Boehm: present means on */
  CHECK_EQ(pargc_opt.dont_gc, 1);
  CHECK(strcmp(pargc_opt.stats_file, "/tmp/x.json") == 0);
  CHECK(warnings[0] == 0);
}

static void test_bad_values(void)
{
  char *env[] = {"PARGC_K=-1", "GC_FREE_SPACE_DIVISOR=abc", "GC_DONT_GC=maybe",
                 "PARGC_HEAP_RESERVE=1K", NULL};
  load(env);
  CHECK_EQ(pargc_opt.k, 0); /* default kept (0: chosen by the topology) */
  CHECK(!pargc_opt.given.k);
  CHECK_EQ(pargc_opt.free_space_divisor, 3);
  CHECK_EQ(pargc_opt.dont_gc, 0);
  CHECK(strstr(warnings, "PARGC_K=\"-1\"") && strstr(warnings, "0..4096"));
  CHECK(strstr(warnings, "GC_FREE_SPACE_DIVISOR=\"abc\""));
  CHECK(strstr(warnings, "GC_DONT_GC=\"maybe\""));
  CHECK(strstr(warnings, "PARGC_HEAP_RESERVE=\"1K\""));
}

/* An integer whose minimum is -1 takes "auto" (stored as -1); others
 * refuse it. */
static void test_auto(void)
{
  char *env[] = {"PARGC_GC_THREADS=Auto", "PARGC_K=auto", NULL};
  load(env);
  CHECK_EQ(pargc_opt.gc_threads, -1);
  CHECK(pargc_opt.given.gc_threads);
  CHECK_EQ(pargc_opt.k, 0);
  CHECK(strstr(warnings, "PARGC_K=\"auto\"") != NULL);
  CHECK(strstr(warnings, "PARGC_GC_THREADS") == NULL);
  char *bad[] = {"PARGC_GC_THREADS=lots", NULL};
  load(bad);
  CHECK_EQ(pargc_opt.gc_threads, 0);
  CHECK(strstr(warnings, "\"auto\" or an integer in 0..1024") != NULL);
}

static void test_unknown(void)
{
  char *env[] = {"PARGC_KAY=3", "UNRELATED=1", NULL};
  load(env);
  CHECK(strstr(warnings, "unknown variable PARGC_KAY") != NULL);
  CHECK(strstr(warnings, "UNRELATED") == NULL);
}

/* docs/environment.md must be exactly what the table generates. */
static void test_doc_matches_table(void)
{
  const char *top = getenv("top_srcdir");
  char path[4096];
  snprintf(path, sizeof path, "%s/docs/environment.md", top ? top : ".");
  FILE *f = fopen(path, "r");
  CHECK(f != NULL);
  if (!f)
    return;
  char *doc = NULL, *gen = NULL;
  size_t doc_len = 0, gen_len = 0;
  FILE *d = open_memstream(&doc, &doc_len);
  int c;
  while ((c = fgetc(f)) != EOF)
    fputc(c, d);
  fclose(f);
  fclose(d);
  FILE *g = open_memstream(&gen, &gen_len);
  pargc_options_write_markdown(g);
  fclose(g);
  CHECK(doc_len == gen_len && memcmp(doc, gen, gen_len) == 0);
  if (doc_len != gen_len || memcmp(doc, gen, gen_len) != 0)
    fprintf(stderr, "docs/environment.md is stale: run `make env-doc`\n");
  free(doc);
  free(gen);
}

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "--markdown") == 0) {
    pargc_options_write_markdown(stdout);
    return 0;
  }
  pargc_report_set_warn(capture_warn);
  test_sizes();
  test_defaults();
  test_values();
  test_bad_values();
  test_auto();
  test_unknown();
  test_doc_matches_table();
  return CHECK_SUMMARY();
}
