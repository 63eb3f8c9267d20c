/* finalize_test.c: Boehm GC finalization semantics.
 *  - finalizers of unreachable objects run, with their client data, once;
 *  - registering returns the previous finalizer, NULL unregisters;
 *  - ordering: in a chain head -> ... -> tail of finalizable objects the
 *    finalizers run from the head down, each only after its referrer's;
 *  - _ignore_self: an object pointing to itself is still finalized;
 *  - _no_order: objects in a cycle are finalized;
 *  - _unreachable: runs only once nothing, finalizable or not, reaches it;
 *  - GC_finalize_on_demand + the notifier: finalizers wait for
 *    GC_invoke_finalizers. */
#include <gc.h>
#include "compat.h"

#define N 200

static int finalized_count;
static void GC_CALLBACK count_fin(void *obj, void *cd) {
  (void)obj;
  __atomic_fetch_add((int *)cd, 1, __ATOMIC_RELAXED);
}

static COMPAT_NOINLINE void make_garbage(int n) {
  for (int i = 0; i < n; i++) {
    void *p = GC_MALLOC(32);
    GC_REGISTER_FINALIZER(p, count_fin, &finalized_count, 0, 0);
  }
}

/* Registration bookkeeping: old finalizer and data come back. */
static void GC_CALLBACK other_fin(void *obj, void *cd) { (void)obj; (void)cd; }
static COMPAT_NOINLINE void test_registration(void) {
  static int dummy;
  void *p = GC_MALLOC(16);
  GC_finalization_proc ofn = 0;
  void *ocd = 0;
  GC_REGISTER_FINALIZER(p, count_fin, &dummy, &ofn, &ocd);
  CHECK(ofn == 0);
  CHECK(ocd == 0);
  GC_REGISTER_FINALIZER(p, other_fin, &finalized_count, &ofn, &ocd);
  CHECK(ofn == count_fin);
  CHECK(ocd == &dummy);
  GC_REGISTER_FINALIZER(p, 0, 0, &ofn, &ocd); /* unregister */
  CHECK(ofn == other_fin);
  CHECK(ocd == &finalized_count);
  GC_REGISTER_FINALIZER(p, 0, 0, &ofn, &ocd);
  CHECK(ofn == 0);
}

/* Chains: node i points to node i+1; record the order finalizers run. */
#define CHAINS 20
#define CHAIN_LEN 4
struct node {
  struct node *next;
  int chain, index;
};
static int order_violations, chain_finalized;
static int last_index[CHAINS]; /* index finalized last in each chain */
static void GC_CALLBACK chain_fin(void *obj, void *cd) {
  struct node *n = (struct node *)obj;
  (void)cd;
  /* Finalizers run head first: the next one must be index+1. */
  if (n->index != last_index[n->chain] + 1) order_violations++;
  last_index[n->chain] = n->index;
  chain_finalized++;
}
static COMPAT_NOINLINE void make_chains(void) {
  for (int c = 0; c < CHAINS; c++) {
    struct node *next = 0;
    last_index[c] = -1;
    for (int i = CHAIN_LEN - 1; i >= 0; i--) {
      struct node *n = (struct node *)GC_MALLOC(sizeof *n);
      n->next = next;
      n->chain = c;
      n->index = i;
      GC_REGISTER_FINALIZER(n, chain_fin, 0, 0, 0);
      next = n;
    }
  }
}

/* Self-referencing objects with _ignore_self, cycles with _no_order. */
static int self_finalized, cycle_finalized;
static COMPAT_NOINLINE void make_self_and_cycles(int n) {
  for (int i = 0; i < n; i++) {
    void **s = (void **)GC_MALLOC(2 * sizeof(void *));
    s[0] = s;
    GC_REGISTER_FINALIZER_IGNORE_SELF(s, count_fin, &self_finalized, 0, 0);
    void **a = (void **)GC_MALLOC(2 * sizeof(void *));
    void **b = (void **)GC_MALLOC(2 * sizeof(void *));
    a[0] = b;
    b[0] = a;
    GC_REGISTER_FINALIZER_NO_ORDER(a, count_fin, &cycle_finalized, 0, 0);
    GC_REGISTER_FINALIZER_NO_ORDER(b, count_fin, &cycle_finalized, 0, 0);
  }
}

/* _unreachable: a holder (plain finalizer) points to the target; the
 * target's finalizer may run only after the holder is gone too. */
static int unreach_early, unreach_finalized, holders_finalized;
static void GC_CALLBACK holder_fin(void *obj, void *cd) {
  (void)obj;
  (void)cd;
  holders_finalized++;
}
static void GC_CALLBACK unreach_fin(void *obj, void *cd) {
  (void)obj;
  (void)cd;
  unreach_finalized++;
  if (holders_finalized == 0) unreach_early++;
}
static COMPAT_NOINLINE void make_unreachable_pairs(int n) {
  for (int i = 0; i < n; i++) {
    void **holder = (void **)GC_MALLOC(2 * sizeof(void *));
    void *target = GC_MALLOC(32);
    holder[0] = target;
    GC_REGISTER_FINALIZER_UNREACHABLE(target, unreach_fin, 0, 0, 0);
    GC_REGISTER_FINALIZER(holder, holder_fin, 0, 0, 0);
  }
}

/* Finalize on demand: nothing runs until GC_invoke_finalizers. */
static int notified, demand_finalized;
static void GC_CALLBACK notifier(void) { notified++; }

int main(void) {
  GC_INIT();

  test_registration();

  make_garbage(N);
  compat_collect(3);
  CHECK(COMPAT_MOSTLY(finalized_count, N));
  CHECK(finalized_count <= N);

  make_chains();
  compat_collect(CHAIN_LEN + 3);
  CHECK_EQ(order_violations, 0);
  CHECK(COMPAT_MOSTLY(chain_finalized, CHAINS * CHAIN_LEN));

  make_self_and_cycles(N / 2);
  compat_collect(3);
  CHECK(COMPAT_MOSTLY(self_finalized, N / 2));
  CHECK(COMPAT_MOSTLY(cycle_finalized, N));

  make_unreachable_pairs(N / 4);
  compat_collect(4);
  CHECK_EQ(unreach_early, 0);
  CHECK(COMPAT_MOSTLY(holders_finalized, N / 4));
  CHECK(COMPAT_MOSTLY(unreach_finalized, N / 4));

  GC_set_finalize_on_demand(1);
  CHECK_EQ(GC_get_finalize_on_demand(), 1);
  GC_set_finalizer_notifier(notifier);
  CHECK(GC_get_finalizer_notifier() == notifier);
  int before = finalized_count;
  make_garbage(N);
  for (int i = 0; i < 2; i++) {
    compat_wipe_stack();
    GC_gcollect();
  }
  CHECK_EQ(finalized_count, before); /* nothing ran implicitly */
  CHECK(notified > 0);
  CHECK(GC_should_invoke_finalizers());
  demand_finalized = GC_invoke_finalizers();
  CHECK(COMPAT_MOSTLY(demand_finalized, N));
  CHECK_EQ(finalized_count - before, demand_finalized);
  GC_set_finalize_on_demand(0);
  return CHECK_SUMMARY();
}
