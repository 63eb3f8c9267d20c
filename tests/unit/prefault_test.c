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
 * faults.  Large (1 MiB), mid-size (16 KiB, several cards) and small
 * (an object of 3 KiB that reaches into a card no object of the build
 * starts in).  Objects the marker does not read (GC_MALLOC_ATOMIC) are
 * left for the program to touch. */
#include "config.h"
#include <gc.h>
#include <string.h>
#include <sys/resource.h>
#include "check.h"

static long minor_faults(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

static void *volatile keep[4];

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
  char *big = GC_MALLOC((size_t)1 << 20);
  char *mid = GC_MALLOC(16384);
  CHECK(big != NULL && mid != NULL);
  keep[2] = big;
  keep[3] = mid;

  /* s2 first: the sweep after a collection links the span's free slots,
   * the ones not built yet too, which writes the card s2 reaches into. */
  CHECK_EQ(faults_writing(s2, 3000), 0);
  CHECK_EQ(faults_writing(mid, 16384), 0);
  CHECK_EQ(faults_writing(big, (size_t)1 << 20), 0);
  /* The objects are intact and still allocated. */
  CHECK(big[12345] == 0x5a && mid[16383] == 0x5a && s2[2999] == 0x5a);
  CHECK(GC_base(big) == big && GC_base(mid + 100) == mid);
  return CHECK_SUMMARY();
}
