// abi_probe_cpp.cc: the C++ half of abi_probe.c -- layout of the gc and
// gc_cleanup base classes, GCPlacement values, the allocators, and what
// the operator-new failure check expands to.  abi_test.sh compiles it
// against both header sets and compares the output.
#include <gc/gc_cpp.h>
#include <gc/gc_allocator.h>
#include <cstdio>

struct Derived : public gc_cleanup {
  long payload;
};

#define VAL(x) std::printf("%s %lld\n", #x, (long long)(x))
#define STR_(...) #__VA_ARGS__
#define EXPANSION(name, ...) print_expansion(name, STR_(__VA_ARGS__))
static void print_expansion(const char *name, const char *text) {
  std::printf("%s ", name);
  for (; *text; text++)
    if (*text != ' ' && *text != '\t' && *text != '\n') std::putchar(*text);
  std::putchar('\n');
}

int main() {
  VAL(UseGC);
  VAL(GC);
  VAL(NoGC);
  VAL(PointerFreeGC);
  VAL(sizeof(GCPlacement));
  VAL(sizeof(gc));
  VAL(sizeof(gc_cleanup));
  VAL(sizeof(Derived));
  VAL(sizeof(gc_allocator<int>));
  VAL(sizeof(traceable_allocator<void *>));
  VAL(sizeof(gc_allocator_ignore_off_page<double>));
  VAL(sizeof(GC_type_traits<int>));
  VAL(sizeof(GCCleanUpFunc));
  EXPANSION("GC_OP_NEW_OOM_CHECK", GC_OP_NEW_OOM_CHECK(p));
  EXPANSION("GC_cdecl", GC_cdecl);
#ifdef GC_OPERATOR_NEW_ARRAY
  std::printf("GC_OPERATOR_NEW_ARRAY defined\n");
#endif
#ifdef GC_PLACEMENT_DELETE
  std::printf("GC_PLACEMENT_DELETE defined\n");
#endif
  return 0;
}
