/*
 * gc/gc_allocator.h -- C++ standard-library allocators backed by the
 * collector, for containers such as std::vector<T, gc_allocator<T> >.
 *
 *   gc_allocator<T>           collectable memory.  The container's storage
 *                             is reclaimed once unreachable, and pointers
 *                             stored in it keep their targets alive.
 *                             Element types registered as pointer-free
 *                             (GC_DECLARE_PTRFREE; the arithmetic types
 *                             are) get atomic memory that is not scanned.
 *   gc_allocator_ignore_off_page<T>
 *                             the same for large buffers only referenced
 *                             near their start (pargc: same as above).
 *   traceable_allocator<T>    uncollectable but scanned memory: for
 *                             containers that live in ordinary (malloc or
 *                             static) memory yet hold pointers to GC
 *                             objects.  Freed by the container as usual.
 *
 * A container using gc_allocator must itself be reachable by the
 * collector (on the stack, in static data, or in a GC object).
 * Allocation failure throws std::bad_alloc (or aborts when exceptions are
 * off or GC_NEW_ABORTS_ON_OOM is defined).
 */
#ifndef GC_ALLOCATOR_H
#define GC_ALLOCATOR_H

#include "gc.h"
#include <new> /* std::bad_alloc, placement new */

#if defined(GC_NEW_ABORTS_ON_OOM) || defined(_LIBCPP_NO_EXCEPTIONS) || !defined(__cpp_exceptions)
#define GC_ALLOCATOR_THROW_OR_ABORT() GC_abort_on_oom()
#else
#define GC_ALLOCATOR_THROW_OR_ABORT() throw std::bad_alloc()
#endif

/* Type traits telling whether objects of a type can contain pointers. */
struct GC_true_type {};
struct GC_false_type {};
/* By default a type may hold pointers ... */
template <class GC_tp>
struct GC_type_traits {
  GC_false_type GC_is_ptr_free;
};
/* ... unless declared pointer-free with this macro (at namespace scope). */
#define GC_DECLARE_PTRFREE(T) \
  template <> struct GC_type_traits<T> { GC_true_type GC_is_ptr_free; }
GC_DECLARE_PTRFREE(char);
GC_DECLARE_PTRFREE(signed char);
GC_DECLARE_PTRFREE(unsigned char);
GC_DECLARE_PTRFREE(signed short);
GC_DECLARE_PTRFREE(unsigned short);
GC_DECLARE_PTRFREE(signed int);
GC_DECLARE_PTRFREE(unsigned int);
GC_DECLARE_PTRFREE(signed long);
GC_DECLARE_PTRFREE(unsigned long);
GC_DECLARE_PTRFREE(float);
GC_DECLARE_PTRFREE(double);
GC_DECLARE_PTRFREE(long double);

/* Allocate n bytes for a type that may hold pointers (scanned) ... */
template <class GC_Tp>
inline void *GC_selective_alloc(size_t n, GC_Tp, bool ignore_off_page) {
  void *obj = ignore_off_page ? GC_MALLOC_IGNORE_OFF_PAGE(n) : GC_MALLOC(n);
  if (obj == 0) GC_ALLOCATOR_THROW_OR_ABORT();
  return obj;
}
/* ... or for a pointer-free type (atomic, not scanned). */
template <>
inline void *GC_selective_alloc<GC_true_type>(size_t n, GC_true_type, bool ignore_off_page) {
  void *obj = ignore_off_page ? GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(n) : GC_MALLOC_ATOMIC(n);
  if (obj == 0) GC_ALLOCATOR_THROW_OR_ABORT();
  return obj;
}

/* The members every allocator below shares: the classic (C++98) allocator
 * typedefs, converting constructors, and construct/destroy. */
#define PARGC_ALLOCATOR_COMMON(ALLOC)                                        \
 public:                                                                     \
  typedef size_t size_type;                                                  \
  typedef ptrdiff_t difference_type;                                         \
  typedef GC_Tp *pointer;                                                    \
  typedef const GC_Tp *const_pointer;                                        \
  typedef GC_Tp &reference;                                                  \
  typedef const GC_Tp &const_reference;                                      \
  typedef GC_Tp value_type;                                                  \
  template <class GC_Tp1> struct rebind {                                    \
    typedef ALLOC<GC_Tp1> other;                                             \
  };                                                                         \
  ALLOC() GC_NOEXCEPT {}                                                     \
  ALLOC(const ALLOC &) GC_NOEXCEPT {}                                        \
  template <class GC_Tp1> GC_ATTR_EXPLICIT ALLOC(const ALLOC<GC_Tp1> &) GC_NOEXCEPT {} \
  ~ALLOC() GC_NOEXCEPT {}                                                    \
  pointer address(reference x) const { return &x; }                          \
  const_pointer address(const_reference x) const { return &x; }              \
  void deallocate(pointer p, size_type) GC_NOEXCEPT { GC_FREE(p); }          \
  size_type max_size() const GC_NOEXCEPT { return size_t(-1) / sizeof(GC_Tp); } \
  void construct(pointer p, const GC_Tp &val) { new (p) GC_Tp(val); }        \
  void destroy(pointer p) { p->~GC_Tp(); }

/* void specialisations and (in)equality: all instances are equal. */
#define PARGC_ALLOCATOR_VOID_AND_EQ(ALLOC)                                   \
  template <> class ALLOC<void> {                                            \
    typedef size_t size_type;                                                \
    typedef ptrdiff_t difference_type;                                       \
    typedef void *pointer;                                                   \
    typedef const void *const_pointer;                                       \
    typedef void value_type;                                                 \
    template <class GC_Tp1> struct rebind {                                  \
      typedef ALLOC<GC_Tp1> other;                                           \
    };                                                                       \
  };                                                                         \
  template <class GC_T1, class GC_T2>                                        \
  inline bool operator==(const ALLOC<GC_T1> &, const ALLOC<GC_T2> &) GC_NOEXCEPT { \
    return true;                                                             \
  }                                                                          \
  template <class GC_T1, class GC_T2>                                        \
  inline bool operator!=(const ALLOC<GC_T1> &, const ALLOC<GC_T2> &) GC_NOEXCEPT { \
    return false;                                                            \
  }

/* Collectable storage; pointer-free element types are not scanned. */
template <class GC_Tp>
class gc_allocator {
  PARGC_ALLOCATOR_COMMON(gc_allocator)
  GC_Tp *allocate(size_type n, const void * = 0) {
    GC_type_traits<GC_Tp> traits;
    return static_cast<GC_Tp *>(GC_selective_alloc(n * sizeof(GC_Tp), traits.GC_is_ptr_free, false));
  }
};
PARGC_ALLOCATOR_VOID_AND_EQ(gc_allocator)

/* Collectable storage for large buffers referenced near their start. */
template <class GC_Tp>
class gc_allocator_ignore_off_page {
  PARGC_ALLOCATOR_COMMON(gc_allocator_ignore_off_page)
  GC_Tp *allocate(size_type n, const void * = 0) {
    GC_type_traits<GC_Tp> traits;
    return static_cast<GC_Tp *>(GC_selective_alloc(n * sizeof(GC_Tp), traits.GC_is_ptr_free, true));
  }
};
PARGC_ALLOCATOR_VOID_AND_EQ(gc_allocator_ignore_off_page)

/* Uncollectable, scanned storage: roots for GC objects held in it. */
template <class GC_Tp>
class traceable_allocator {
  PARGC_ALLOCATOR_COMMON(traceable_allocator)
  GC_Tp *allocate(size_type n, const void * = 0) {
    void *obj = GC_MALLOC_UNCOLLECTABLE(n * sizeof(GC_Tp));
    if (obj == 0) GC_ALLOCATOR_THROW_OR_ABORT();
    return static_cast<GC_Tp *>(obj);
  }
};
PARGC_ALLOCATOR_VOID_AND_EQ(traceable_allocator)

#undef PARGC_ALLOCATOR_COMMON
#undef PARGC_ALLOCATOR_VOID_AND_EQ

#endif /* GC_ALLOCATOR_H */
