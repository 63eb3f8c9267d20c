/* malloc_test: the C allocation functions of libpargc-malloc, which this
 * program is linked with (-lpargc-malloc), so every malloc in it -- libc's
 * and stdio's too -- is pargc's.
 *
 * Checks the contract of each function (sizes, alignment, zeroing,
 * contents kept by realloc, failing sizes with ENOMEM, EINVAL), frees
 * across threads, and that a double free or a foreign pointer is
 * reported in one line and aborts (PARGC_MALLOC_BAD_FREE=ignore: left
 * alone).  The abort cases run in children re-executed with an argument. */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Calls the compiler cannot drop or fold: the pointers pass through here. */
static void *volatile sink;
static volatile size_t opaque_n;
static void *volatile opaque_p;

/* n and p as the compiler cannot see them (no size or free warnings). */
static size_t opaque(size_t n)
{
  opaque_n = n;
  return opaque_n;
}

static void *hide(void *p)
{
  opaque_p = p;
  return opaque_p;
}

static void check_basic(void)
{
  void *z = malloc(0);
  CHECK(z != NULL);
  void *z2 = malloc(0);
  CHECK(z2 != NULL && z2 != z);
  free(z);
  free(z2);
  free(NULL);
  for (size_t n = 1; n <= (size_t)2 << 20; n = n * 3 / 2 + 1) {
    unsigned char *p = malloc(n);
    CHECK(p != NULL);
    if (!p)
      continue;
    CHECK((uintptr_t)p % 16 == 0);
    CHECK(malloc_usable_size(p) >= n);
    memset(p, 0xA5, n);
    CHECK(p[0] == 0xA5 && p[n - 1] == 0xA5);
    free(p);
  }
}

static void check_calloc(void)
{
  /* Dirty some objects of a class first, so that calloc reuses them. */
  for (int i = 0; i < 100; i++) {
    char *p = malloc(200);
    memset(p, 0xFF, 200);
    free(p);
  }
  static const size_t sizes1_[] = {1, 200, 4096, 100000, (size_t)3 << 20};
  for (size_t sizes1_i = 0; sizes1_i < sizeof sizes1_ / sizeof sizes1_[0]; sizes1_i++) {
    size_t n = sizes1_[sizes1_i];
    unsigned char *p = calloc(1, n);
    CHECK(p != NULL);
    size_t nonzero = 0;
    for (size_t i = 0; p && i < n; i++)
      nonzero += p[i] != 0;
    CHECK_EQ(nonzero, 0);
    if (p)
      memset(p, 0xFF, n); /* dirty again for the next round */
    free(p);
  }
  /* Every size calloc zeroes inline: its n bytes zero, the neighbour
   * (the next object of the class, allocated after it) untouched. */
  for (size_t n = 1; n <= 160; n++) {
    unsigned char *a = malloc(n), *b = malloc(n);
    size_t ua = malloc_usable_size(a), ub = malloc_usable_size(b);
    memset(a, 0xFF, ua);
    memset(b, 0xFF, ub);
    free(a);
    unsigned char *c = calloc(1, n);
    size_t nonzero = 0, changed = 0;
    for (size_t i = 0; c && i < n; i++)
      nonzero += c[i] != 0;
    for (size_t i = 0; i < ub; i++)
      changed += b[i] != 0xFF;
    CHECK_EQ(nonzero, 0);
    CHECK_EQ(changed, 0);
    free(c);
    free(b);
  }
  errno = 0;
  CHECK(calloc(opaque(SIZE_MAX / 2), 3) == NULL && errno == ENOMEM);
}

/* A large calloc of fresh memory is not touched by the allocator: its
 * pages come in as the program writes them, as with glibc's mmap'd
 * blocks (no collector reads them in this mode, so nothing prefaults
 * them, alloc/os.h). */
static void check_calloc_lazy(void)
{
  size_t n = (size_t)64 << 20, pages = n / 4096;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  long before = ru.ru_minflt;
  unsigned char *p = calloc(1, opaque(n));
  getrusage(RUSAGE_SELF, &ru);
  CHECK(p != NULL);
  CHECK((size_t)(ru.ru_minflt - before) < pages / 16);
  if (p) {
    CHECK(p[0] == 0 && p[n / 2] == 0 && p[n - 1] == 0);
    free(p);
  }
}

static void check_realloc(void)
{
  unsigned char *p = realloc(NULL, 10);
  CHECK(p != NULL);
  for (int i = 0; i < 10; i++)
    p[i] = (unsigned char)i;
  size_t n = 10;
  /* Grow through small classes into large runs and back down. */
  static const size_t sizes2_[] = {100, 5000, 70000, 600000, (size_t)5 << 20, 300, 12};
  for (size_t sizes2_i = 0; sizes2_i < sizeof sizes2_ / sizeof sizes2_[0]; sizes2_i++) {
    size_t m = sizes2_[sizes2_i];
    unsigned char *q = realloc(p, m);
    CHECK(q != NULL);
    if (!q)
      break;
    size_t keep = m < n ? m : n;
    size_t bad = 0;
    for (size_t i = 0; i < keep; i++)
      bad += q[i] != (unsigned char)i;
    CHECK_EQ(bad, 0);
    for (size_t i = 0; i < m; i++)
      q[i] = (unsigned char)i;
    p = q;
    n = m;
  }
  errno = 0;
  CHECK(realloc(hide(p), opaque(SIZE_MAX - 4096)) == NULL && errno == ENOMEM);
  CHECK(p[0] == 0 && p[11] == 11); /* a failed realloc keeps the old object */
  errno = 0;
  CHECK(reallocarray(hide(p), opaque(SIZE_MAX / 4), 8) == NULL && errno == ENOMEM);
  p = reallocarray(p, 4, 8);
  CHECK(p != NULL && p[11] == 11);
  CHECK(realloc(p, 0) == NULL); /* frees, as glibc */
}

static void check_aligned(void)
{
  for (size_t a = 8; a <= 65536; a *= 2) {
    static const size_t sizes3_[] = {1, 24, 1000, 70000, 700000};
  for (size_t sizes3_i = 0; sizes3_i < sizeof sizes3_ / sizeof sizes3_[0]; sizes3_i++) {
    size_t n = sizes3_[sizes3_i];
      void *p = NULL;
      CHECK_EQ(posix_memalign(&p, a, n), 0);
      CHECK(p != NULL && (uintptr_t)p % a == 0);
      CHECK(malloc_usable_size(p) >= n);
      if (p)
        memset(p, 1, n);
      free(p);
      p = aligned_alloc(a, n);
      CHECK(p != NULL && (uintptr_t)p % a == 0);
      free(p);
      p = memalign(a, n);
      CHECK(p != NULL && (uintptr_t)p % a == 0);
      free(p);
    }
  }
  void *p = NULL;
  CHECK_EQ(posix_memalign(&p, 24, 10), EINVAL);
  CHECK_EQ(posix_memalign(&p, 4, 10), EINVAL); /* not a multiple of sizeof(void *) */
  errno = 0;
  CHECK(aligned_alloc(48, 96) == NULL && errno == EINVAL);
  long page = sysconf(_SC_PAGESIZE);
  void *v = valloc(10);
  CHECK(v != NULL && (uintptr_t)v % (uintptr_t)page == 0);
  free(v);
  v = pvalloc(10);
  CHECK(v != NULL && (uintptr_t)v % (uintptr_t)page == 0 &&
        malloc_usable_size(v) >= (size_t)page);
  free(v);
}

static void check_failing_sizes(void)
{
  static const size_t sizes4_[] = {SIZE_MAX, SIZE_MAX - 15, (size_t)1 << 62, (size_t)1 << 48};
  for (size_t sizes4_i = 0; sizes4_i < sizeof sizes4_ / sizeof sizes4_[0]; sizes4_i++) {
    size_t n = sizes4_[sizes4_i];
    errno = 0;
    sink = malloc(opaque(n));
    CHECK(sink == NULL && errno == ENOMEM);
    void *p = (void *)1;
    CHECK_EQ(posix_memalign(&p, 64, opaque(n)), ENOMEM);
  }
}

/* Objects allocated by one thread and freed by others (remote frees),
 * then the classes reused by their owner. */
#define XN 20000
static void *xobjs[4][XN];

static void *alloc_worker(void *arg)
{
  intptr_t t = (intptr_t)arg;
  for (int i = 0; i < XN; i++) {
    xobjs[t][i] = malloc((size_t)(16 + (i % 64) * 8));
    memset(xobjs[t][i], (int)t, 16);
  }
  return NULL;
}

static void *free_worker(void *arg)
{
  intptr_t t = (intptr_t)arg;
  size_t bad = 0;
  for (int i = 0; i < XN; i++) {
    unsigned char *p = xobjs[(t + 1) % 4][i];
    bad += p[15] != (unsigned char)((t + 1) % 4);
    free(p);
  }
  CHECK_EQ(bad, 0);
  return NULL;
}

static void check_cross_thread(void)
{
  for (int round = 0; round < 3; round++) {
    check_run_threads(4, alloc_worker);
    check_run_threads(4, free_worker);
  }
  /* The pages those frees went to serve new allocations. */
  check_run_threads(4, alloc_worker);
  for (int t = 0; t < 4; t++)
    for (int i = 0; i < XN; i++)
      free(xobjs[t][i]);
  int trimmed = malloc_trim(0); /* once: a second call may find nothing left */
  CHECK(trimmed == 0 || trimmed == 1);
  struct mallinfo2 mi = mallinfo2();
  CHECK(mi.arena > 0);
}

/* A consumer thread frees what the main thread allocated, a batch at a
 * time, while the main thread's older objects of the same class stay:
 * the spans of each freed batch sit on the main thread's full list
 * behind those of the old objects, and must serve the next batches
 * rather than fresh spans (mimalloc-bench's xmalloc-test: the heap grew
 * to 3x the live data when only the full list's first pages were looked
 * at).  A batch fills one span of 64-byte objects. */
#define KEEP_SPANS 256
#define BATCH 1024
static int to_consumer[2], from_consumer[2];

static void *consumer(void *arg)
{
  (void)arg;
  void **batch;
  while (read(to_consumer[0], &batch, sizeof batch) == (ssize_t)sizeof batch && batch) {
    for (int i = 0; i < BATCH; i++)
      free(batch[i]);
    char ack = 1;
    CHECK(write(from_consumer[1], &ack, 1) == 1);
  }
  return NULL;
}

static void check_consumer_reuse(void)
{
  CHECK(pipe(to_consumer) == 0 && pipe(from_consumer) == 0);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, consumer, NULL) == 0);
  static void *keep[KEEP_SPANS * BATCH], *batches[2][BATCH];
  for (size_t i = 0; i < KEEP_SPANS * BATCH; i++)
    keep[i] = malloc(64);
  for (int i = 0; i < BATCH; i++)
    batches[0][i] = malloc(64);
  size_t before = mallinfo2().arena;
  for (int round = 1; round <= 300; round++) {
    /* The next batch first: the previous one's span is full by then. */
    void **next = batches[round % 2], **done = batches[(round + 1) % 2];
    for (int i = 0; i < BATCH; i++)
      next[i] = malloc(64);
    CHECK(write(to_consumer[1], &done, sizeof done) == (ssize_t)sizeof done);
    char ack;
    CHECK(read(from_consumer[0], &ack, 1) == 1);
  }
  size_t grown = mallinfo2().arena - before;
  void **stop = NULL;
  CHECK(write(to_consumer[1], &stop, sizeof stop) == (ssize_t)sizeof stop);
  CHECK(pthread_join(t, NULL) == 0);
  /* Two batches live at a time: a few spans, not one per round. */
  if (grown > 8 * (size_t)65536)
    fprintf(stderr, "heap grew by %zu KiB over 300 batches of 64 KiB\n", grown >> 10);
  CHECK(grown <= 8 * (size_t)65536);
  for (size_t i = 0; i < KEEP_SPANS * BATCH; i++)
    free(keep[i]);
  for (int i = 0; i < BATCH; i++)
    free(batches[0][i]);
  for (int i = 0; i < 4; i++)
    close(i < 2 ? to_consumer[i] : from_consumer[i - 2]);
}

/* ---- Children that must abort ------------------------------------------ */

static int child(const char *what)
{
  if (strcmp(what, "double") == 0) {
    void *p = malloc(40);
    void *q = hide(p);
    free(p);
    free(q);
  } else if (strcmp(what, "double-large") == 0) {
    void *p = malloc((size_t)2 << 20);
    void *q = hide(p);
    free(p);
    free(q);
  } else if (strcmp(what, "foreign") == 0) {
    static char not_malloced[64];
    free(hide(not_malloced + 16));
  } else if (strcmp(what, "interior") == 0) {
    char *p = malloc(100);
    free(hide(p + 16));
  }
  return 0; /* survived: right only with PARGC_MALLOC_BAD_FREE=ignore */
}

static char self[4096];

/* Runs this program as `self child WHAT` with bad_free set (or not):
 * its exit status (128 + signal when killed) and its stderr in buf. */
static int run_child(const char *what, const char *bad_free, char *buf, size_t cap)
{
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "%s%s%s '%s' child %s 2>&1", bad_free ? "PARGC_MALLOC_BAD_FREE=" : "",
           bad_free ? bad_free : "", bad_free ? " " : "", self, what);
  FILE *f = popen(cmd, "r");
  if (!f)
    return -1;
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = 0;
  int st = pclose(f);
  if (WIFSIGNALED(st))
    return 128 + WTERMSIG(st);
  /* sh reports a child killed by a signal as 128 + signal */
  return WEXITSTATUS(st);
}

static void check_bad_frees(void)
{
  static const char *cases[][2] = {
      {"double", "double free"},
      {"double-large", "not an allocated object"},
      {"foreign", "not allocated by pargc-malloc"},
      {"interior", "not the start of an allocated object"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char buf[4096];
    int st = run_child(cases[i][0], NULL, buf, sizeof buf);
    CHECK_EQ(st, 128 + SIGABRT);
    CHECK(strstr(buf, "pargc-malloc: ") != NULL && strstr(buf, cases[i][1]) != NULL);
    if (st != 128 + SIGABRT || !strstr(buf, cases[i][1]))
      fprintf(stderr, "child %s: status %d, output: %s\n", cases[i][0], st, buf);
    st = run_child(cases[i][0], "ignore", buf, sizeof buf);
    CHECK_EQ(st, 0);
  }
}

int main(int argc, char **argv)
{
  if (argc == 3 && strcmp(argv[1], "child") == 0)
    return child(argv[2]);
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    SKIP("cannot find this program's path");
  self[n] = 0;
  check_basic();
  check_calloc();
  check_calloc_lazy();
  check_realloc();
  check_aligned();
  check_failing_sizes();
  check_cross_thread();
  check_consumer_reuse();
  check_bad_frees();
  return CHECK_SUMMARY();
}
