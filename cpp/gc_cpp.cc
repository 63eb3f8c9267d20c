/*
 * cpp/gc_cpp.cc -- libpargccpp: the C++ half of Boehm GC compatibility.
 *
 * Boehm GC ships libgccpp beside libgc; C++ programs link it with -lgccpp
 * (pargc: -lpargccpp).  It provides exactly what Debian's libgccpp.so.1
 * (8.2.2) exports:
 *   - GC_throw_bad_alloc(), which gc_cpp.h's operators call when an
 *     allocation fails (keeping <new> and exceptions out of the header);
 *   - replacements for the global operator new, new[], delete and
 *     delete[] (plus the sized deletes of C++14), so that memory from
 *     plain `new` is uncollectable but scanned by the collector: objects
 *     allocated that way may hold the only pointers to collectable ones.
 * Everything else gc_cpp.h offers is inline in the header.
 *
 * The operators are exported (GC_API, the library's one export marker)
 * from a library that otherwise builds hidden; the nothrow and aligned forms are left to the
 * C++ runtime, as in Boehm GC (they then use malloc, which the collector
 * does not scan).
 */
#include <new>
#include "gc/gc.h"

/* gc_cpp.h declares this with GC_API and C++ linkage; define it here
 * (not in the header) so that only one place needs <new>. */
GC_API void GC_CALL GC_throw_bad_alloc();

void GC_CALL GC_throw_bad_alloc() { throw std::bad_alloc(); }

/* Global new: uncollectable, scanned memory; std::bad_alloc on failure.
 * Under GC_DEBUG builds of the library the debug allocator is used, so
 * leaks and smashes of C++ objects are reported with their sites. */
static inline void *cpp_alloc(size_t size) {
#ifdef GC_DEBUG
  void *obj = GC_debug_malloc_uncollectable(size, "operator new", 0);
#else
  void *obj = GC_malloc_uncollectable(size);
#endif
  if (obj == 0) GC_throw_bad_alloc();
  return obj;
}

static inline void cpp_free(void *obj) {
#ifdef GC_DEBUG
  GC_debug_free(obj);
#else
  GC_free(obj);
#endif
}

GC_API void *operator new(size_t size) { return cpp_alloc(size); }
GC_API void *operator new[](size_t size) { return cpp_alloc(size); }
GC_API void operator delete(void *obj) noexcept { cpp_free(obj); }
GC_API void operator delete[](void *obj) noexcept { cpp_free(obj); }
/* Sized deallocation (C++14): the size is not needed. */
GC_API void operator delete(void *obj, size_t) noexcept { cpp_free(obj); }
GC_API void operator delete[](void *obj, size_t) noexcept { cpp_free(obj); }
