// cpp_test.cc: gc_cpp.h and gc_allocator.h with STL containers.
//  - classes derived from gc are collected; gc_cleanup destructors run as
//    finalizers; delete works on them, and counts as an explicit free;
//  - new (GC), new (NoGC), new (PointerFreeGC), new (UseGC, fn, data);
//  - std::vector, std::list, std::map, std::deque with gc_allocator keep
//    GC objects they hold alive, and their storage is collectable;
//  - traceable_allocator makes malloc-side containers roots;
//  - plain `new` (replaced by libgccpp / libpargccpp) is scanned.
#include <gc/gc_cpp.h>
#include <gc/gc_allocator.h>
#include <deque>
#include <list>
#include <map>
#include <string>
#include <vector>
extern "C" {
#include "compat.h"
}

static const int N = 200;

struct Leaf : public gc {
  int value;
  explicit Leaf(int v) : value(v) {}
};

static int destroyed;
struct Cleaned : public gc_cleanup {
  int *counter;
  explicit Cleaned(int *c) : counter(c) {}
  ~Cleaned() { ++*counter; }
};

// Multiple inheritance: the gc_cleanup part is not at offset 0.
struct Other {
  long pad[3];
  virtual ~Other() {}
};
struct Mixed : public Other, public gc_cleanup {
  ~Mixed() { ++destroyed; }
};

static int callback_runs;
static void GC_CALLBACK plain_cleanup(void *obj, void *data) {
  (void)obj;
  ++*static_cast<int *>(data);
}

static COMPAT_NOINLINE void make_cleaned(int *counter) {
  for (int i = 0; i < N; i++) new Cleaned(counter);
  for (int i = 0; i < N; i++) new Mixed;
  for (int i = 0; i < N; i++) new (UseGC, plain_cleanup, &callback_runs) int[4];
}

// Containers: pointers to Leafs held only in gc_allocator storage.
typedef std::vector<Leaf *, gc_allocator<Leaf *> > LeafVec;
typedef std::list<Leaf *, gc_allocator<Leaf *> > LeafList;
typedef std::map<int, Leaf *, std::less<int>, gc_allocator<std::pair<const int, Leaf *> > > LeafMap;
typedef std::deque<Leaf *, gc_allocator<Leaf *> > LeafDeque;
typedef std::vector<int, gc_allocator<int> > IntVec;

static COMPAT_NOINLINE void fill(LeafVec &v, LeafList &l, LeafMap &m, LeafDeque &d) {
  for (int i = 0; i < N; i++) {
    v.push_back(new Leaf(i));
    l.push_back(new Leaf(i));
    m[i] = new Leaf(i);
    d.push_front(new Leaf(i));
  }
}

int main() {
  GC_INIT();

  // Placement kinds.
  Leaf *a = new Leaf(1);
  CHECK(GC_base(a) != 0);
  Leaf *b = new (GC) Leaf(2);
  CHECK(GC_base(b) != 0);
  Leaf *c = new (NoGC) Leaf(3);
  CHECK(GC_base(c) != 0);
  delete c;
  // delete frees explicitly (GC_FREE), counted as Boehm GC's test_cpp
  // checks.
  size_t freed = GC_get_expl_freed_bytes_since_gc();
  delete new Leaf(4);
  CHECK(GC_get_expl_freed_bytes_since_gc() >= freed + sizeof(Leaf));
  double *pf = new (PointerFreeGC) double[100];
  CHECK(GC_base(pf) != 0);
  int *arr = new (UseGC) int[10];
  CHECK(GC_base(arr) != 0);
  Leaf *arr2 = new Leaf[1]{Leaf(5)};
  CHECK(arr2[0].value == 5);

  // Finalization of gc_cleanup objects and cleanup callbacks.
  int counter = 0;
  make_cleaned(&counter);
  compat_collect(4);
  CHECK(COMPAT_MOSTLY(counter, N));
  CHECK(COMPAT_MOSTLY(destroyed, N));
  CHECK(COMPAT_MOSTLY(callback_runs, N));
  // Explicit delete runs the destructor once, not again at collection.
  int once = 0;
  Cleaned *e = new Cleaned(&once);
  delete e;
  compat_collect(2);
  CHECK_EQ(once, 1);

  // STL containers with gc_allocator.
  LeafVec v;
  LeafList l;
  LeafMap m;
  LeafDeque d;
  fill(v, l, m, d);
  compat_collect(2);
  for (int i = 0; i < 50000; i++) new Leaf(-1);  // reuse freed memory
  int ok = 0;
  for (int i = 0; i < N; i++) ok += v[i]->value == i && m[i]->value == i && d[N - 1 - i]->value == i;
  int li = 0;
  for (LeafList::iterator it = l.begin(); it != l.end(); ++it, ++li) ok += (*it)->value == li;
  CHECK_EQ(ok, 2 * N);
  IntVec iv(1000, 7);  // pointer-free element type: atomic storage
  CHECK(GC_base(&iv[0]) != 0);
  CHECK_EQ(iv[999], 7);
  std::basic_string<char, std::char_traits<char>, gc_allocator<char> > s("collectable string storage");
  CHECK(s.size() == 26);

  // traceable_allocator: a container in malloc memory holding GC pointers.
  typedef std::vector<Leaf *, traceable_allocator<Leaf *> > RootVec;
  RootVec *roots = new (NoGC) RootVec;
  for (int i = 0; i < N; i++) roots->push_back(new Leaf(i));
  compat_collect(2);
  for (int i = 0; i < 50000; i++) new Leaf(-1);
  ok = 0;
  for (int i = 0; i < N; i++) ok += (*roots)[i]->value == i;
  CHECK_EQ(ok, N);
  delete roots;

  // Plain new (from libgccpp / libpargccpp) is uncollectable and scanned.
  Leaf **table = new Leaf *[N];
  CHECK(GC_base(table) != 0);
  for (int i = 0; i < N; i++) table[i] = new Leaf(i);
  compat_collect(2);
  for (int i = 0; i < 50000; i++) new Leaf(-1);
  ok = 0;
  for (int i = 0; i < N; i++) ok += table[i]->value == i;
  CHECK_EQ(ok, N);
  delete[] table;
  GC_reachable_here(a);
  GC_reachable_here(b);
  GC_reachable_here(pf);
  GC_reachable_here(arr);
  return CHECK_SUMMARY();
}
