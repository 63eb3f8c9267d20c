/* New objects the marker reads are backed by the time it reads them.
 *
 * A read of anonymous memory the kernel has not backed yet maps its
 * shared zero page; the next write to that page is a copy-on-write
 * fault, and in a process running on several cores each such fault
 * interrupts every core to flush its TLB.  pargc used to hand out
 * objects of fresh memory with only their first card written: the
 * marker read the rest (zero pages), and the first writes after it --
 * the program's, or the sweep zeroing the slot for its next object --
 * took those faults.  Two threads allocating 1 MB objects ran at 0.4x
 * the rate of one; 16 KiB objects at 0.65x.
 *
 * Here: a scanned object of fresh memory, kept live through a
 * collection, is then written whole; the writes must take no page
 * faults.  Mid-size (16 KiB, several cards), small (an object of 3 KiB
 * that reaches into a card no object of the build starts in) and, once
 * a second thread has allocated, large (1 MiB).  While the program has
 * one thread, no core is interrupted, and a large object's pages stay
 * uncommitted until written: a 16 MiB table filled sparsely must not
 * make the program 16 MiB larger (a VHDL compiler's two tables did). */
#include "config.h"
#include <gc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include "check.h"

static long minor_faults(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

static void *volatile keep[4];

/* Resident set size, from /proc/self/statm. */
static size_t resident_bytes(void)
{
  unsigned long size = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%lu %lu", &size, &resident) != 2)
      resident = 0;
    fclose(f);
  }
  return resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* A second thread that allocates (then the allocator has two). */
static void *other_thread(void *arg)
{
  (void)arg;
  keep[0] = GC_MALLOC(64);
  return NULL;
}

/* Faults taken while writing [p, p + n) after a collection marked it. */
static long faults_writing(char *p, size_t n)
{
  GC_gcollect();
  long before = minor_faults();
  memset(p, 0x5a, n);
  return minor_faults() - before;
}

int main(void)
{
  GC_INIT();
  /* Objects of one class from a fresh span come in address order; of
   * 3000-byte objects the second starts in the first card and ends in
   * the next. */
  char *s1 = GC_MALLOC(3000), *s2 = GC_MALLOC(3000);
  CHECK(s1 != NULL && s2 != NULL);
  keep[0] = s1;
  keep[1] = s2;
  CHECK(s2 > s1);
  CHECK(((uintptr_t)s2 >> 12) != (((uintptr_t)s2 + 2999) >> 12));
  char *mid = GC_MALLOC(16384);
  CHECK(mid != NULL);
  keep[2] = mid;

  /* s2 first: the sweep after a collection links the span's free slots,
   * the ones not built yet too, which writes the card s2 reaches into. */
  CHECK_EQ(faults_writing(s2, 3000), 0);
  CHECK_EQ(faults_writing(mid, 16384), 0);

  /* One thread: a large table read by the marker stays uncommitted. */
  size_t rss0 = resident_bytes();
  char *table = GC_MALLOC((size_t)16 << 20);
  CHECK(table != NULL);
  keep[3] = table;
  GC_gcollect();
  table[4096 * 100] = 1;
  CHECK(resident_bytes() < rss0 + ((size_t)4 << 20));

  /* Two threads: a large object is backed when handed out. */
  pthread_t t;
  CHECK(pthread_create(&t, NULL, other_thread, NULL) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  char *big = GC_MALLOC((size_t)1 << 20);
  CHECK(big != NULL);
  keep[3] = big;
  CHECK_EQ(faults_writing(big, (size_t)1 << 20), 0);

  /* The objects are intact and still allocated. */
  CHECK(big[12345] == 0x5a && mid[16383] == 0x5a && s2[2999] == 0x5a);
  CHECK(GC_base(big) == big && GC_base(mid + 100) == mid);
  return CHECK_SUMMARY();
}
