/* Unit: the marker's reading of typed objects' descriptors (api/kinds.c)
 * survives descriptor words that are garbage.  The descriptor of a
 * gc_typed.h object lives in the object's last word(s), where a stray
 * store -- or bytes of another object written over it -- can put
 * anything; the fuzzer found both a crash (a word tagged as a long
 * bitmap, read through as one) and a collection that never ended.  Each
 * case runs in a child process, so a crash or a hang (SIGALRM) is a
 * failure here rather than the end of the test.  The cases write the
 * descriptor words where api/kinds.c keeps them: the last word of a typed
 * object; descriptor, element size and count in the last three words of
 * a typed array. */
#include "config.h"
#include <gc.h>
#include <gc/gc_typed.h>
#include "check.h"

#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#define PATTERN ((GC_word)0x5A5A5A5A5A5A5A5Aull)

struct node {
  struct node *next;
  GC_word payload[7];
};

static void *volatile kept[4];

static GC_descr node_descr(void)
{
  GC_word bm[1] = {0};
  GC_set_bit(bm, 0); /* `next` */
  return GC_make_descriptor(bm, sizeof(struct node) / sizeof(GC_word));
}

static GC_descr long_descr(void)
{
  GC_word bm[4] = {0};
  for (int i = 0; i < 200; i += 3)
    GC_set_bit(bm, i);
  return GC_make_descriptor(bm, 200);
}

static GC_word *last_words(void *p)
{
  return (GC_word *)((char *)p + GC_size(p)) - 1;
}

/* A typed object whose descriptor is a long-bitmap tag on a wild
 * address: scanned conservatively, what it points to is kept. */
static void wild_long_bitmap(void)
{
  alarm(20);
  GC_INIT();
  struct node *target = GC_MALLOC(64);
  target->payload[0] = 42;
  struct node *n = GC_malloc_explicitly_typed(sizeof *n, node_descr());
  n->next = target;
  *last_words(n) = (PATTERN & ~(GC_word)3) | 2;
  kept[0] = n;
  target = NULL;
  GC_gcollect();
  GC_gcollect();
  _exit(n->next->payload[0] == 42 ? 0 : 1);
}

/* A genuine long bitmap still works, and a pointer into the middle of
 * one (a garbage word that happens to land there) is not taken for
 * one. */
static void long_bitmap_kept(void)
{
  alarm(20);
  GC_INIT();
  GC_descr d = long_descr();
  struct node *target = GC_MALLOC(64);
  target->payload[0] = 7;
  GC_word *o = GC_malloc_explicitly_typed(200 * sizeof(GC_word), d);
  o[3] = (GC_word)target; /* bit 3 is set in the bitmap */
  GC_word *o2 = GC_malloc_explicitly_typed(200 * sizeof(GC_word), d);
  o2[5] = (GC_word)GC_MALLOC(64);
  ((GC_word *)o2[5])[1] = 9;
  *last_words(o2) = ((d & ~(GC_word)3) + 16) | 2; /* inside the bitmap */
  kept[0] = o;
  kept[1] = o2;
  target = NULL;
  GC_gcollect();
  GC_gcollect();
  _exit(((struct node *)o[3])->payload[0] == 7 && ((GC_word *)o2[5])[1] == 9 ? 0 : 1);
}

/* A typed array whose element size and count multiply past 2^64 to a
 * small number: the scan used to walk n elements of esz bytes far past
 * the object. */
static void array_header_overflow(void)
{
  alarm(20);
  GC_INIT();
  struct node *target = GC_MALLOC(64);
  target->payload[0] = 5;
  struct node *a = GC_calloc_explicitly_typed(4, sizeof *a, node_descr());
  a[2].next = target;
  GC_word *w = last_words(a);
  w[-2] = (GC_word)1 << 32; /* count */
  w[-1] = (GC_word)1 << 32; /* element size */
  kept[0] = a;
  target = NULL;
  GC_gcollect();
  GC_gcollect();
  _exit(a[2].next->payload[0] == 5 ? 0 : 1);
}

int main(void)
{
  check_in_child("wild long bitmap", wild_long_bitmap);
  check_in_child("long bitmap kept", long_bitmap_kept);
  check_in_child("array header overflow", array_header_overflow);
  return CHECK_SUMMARY();
}
