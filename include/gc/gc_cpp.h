/*
 * gc/gc_cpp.h -- garbage-collected C++ objects.
 *
 *   class A : public gc { ... };      new A  is collectable (scanned).
 *   class B : public gc_cleanup {...}; new B  is collectable and its
 *                                     destructor runs as a finalizer when
 *                                     it becomes unreachable.
 *   new (UseGC) T / new (GC) T        collectable, for any T.
 *   new (NoGC) T                      uncollectable but scanned: delete it.
 *   new (PointerFreeGC) T             collectable, never scanned.
 *   new (UseGC, fn, data) T           collectable; fn(obj, data) runs as a
 *                                     finalizer (e.g. to call ~T).
 *
 * delete works on any of them (it frees at once).  Arrays: new (UseGC)
 * T[n] etc.; the elements' destructors are not run by the collector.
 *
 * Linking with libpargccpp (as with Boehm GC's libgccpp) also replaces the
 * global operator new/delete so that plain `new` returns uncollectable,
 * scanned memory: memory the program allocates with ordinary new may then
 * hold the only pointers to GC objects.  Without that library, plain new
 * is the C++ runtime's and is not scanned.
 *
 * Define GC_NAMESPACE to get everything inside namespace boehmgc, and
 * GC_NAME_CONFLICT if the enumerator name GC clashes with something.
 */
#ifndef GC_CPP_H
#define GC_CPP_H

#include "gc.h"

#ifdef GC_NAMESPACE
#define GC_NS_QUALIFY(T) boehmgc::T
#else
#define GC_NS_QUALIFY(T) T
#endif

/* Calling convention of cleanup callbacks (empty on supported targets). */
#define GC_cdecl GC_CALLBACK

/* Array forms and placement delete exist on every compiler pargc supports. */
#if !defined(GC_NO_OPERATOR_NEW_ARRAY) && !defined(GC_OPERATOR_NEW_ARRAY)
#define GC_OPERATOR_NEW_ARRAY
#endif
#define GC_PLACEMENT_DELETE

/* What the operators do when allocation fails: abort if exceptions are
 * unavailable or GC_NEW_ABORTS_ON_OOM is defined, throw std::bad_alloc
 * inline if GC_INCLUDE_NEW is defined, otherwise call GC_throw_bad_alloc
 * (in libpargccpp), which throws it. */
#if defined(GC_NEW_ABORTS_ON_OOM) || defined(_LIBCPP_NO_EXCEPTIONS)
#define GC_OP_NEW_OOM_CHECK(obj) \
  do {                           \
    if (!(obj)) GC_abort_on_oom(); \
  } while (0)
#elif defined(GC_INCLUDE_NEW)
#include <new>
#define GC_OP_NEW_OOM_CHECK(obj) \
  if (obj) {                     \
  } else                         \
    throw std::bad_alloc()
#else
/* Throw std::bad_alloc (C++ linkage, defined in libpargccpp). */
GC_API void GC_CALL GC_throw_bad_alloc();
#define GC_OP_NEW_OOM_CHECK(obj) \
  if (obj) {                     \
  } else                         \
    GC_throw_bad_alloc()
#endif

#ifdef GC_NAMESPACE
namespace boehmgc {
#endif

/* Where placement new puts an object.  The values are part of the ABI. */
enum GCPlacement {
  UseGC, /* collectable, scanned */
#ifndef GC_NAME_CONFLICT
  GC = UseGC,
#endif
  NoGC,          /* uncollectable, scanned */
  PointerFreeGC  /* collectable, not scanned */
#ifdef GC_ATOMIC_UNCOLLECTABLE
  ,
  PointerFreeNoGC /* uncollectable, not scanned */
#endif
};

/* Base class of collectable objects: `new A` allocates with GC_MALLOC. */
class gc {
 public:
  inline void *operator new(size_t size);
  inline void *operator new(size_t size, GCPlacement gcp);
  inline void *operator new(size_t size, void *p) GC_NOEXCEPT;
  inline void operator delete(void *obj) GC_NOEXCEPT;
  inline void operator delete(void *, GCPlacement) GC_NOEXCEPT;
  inline void operator delete(void *, void *) GC_NOEXCEPT;
#ifdef GC_OPERATOR_NEW_ARRAY
  inline void *operator new[](size_t size);
  inline void *operator new[](size_t size, GCPlacement gcp);
  inline void *operator new[](size_t size, void *p) GC_NOEXCEPT;
  inline void operator delete[](void *obj) GC_NOEXCEPT;
  inline void operator delete[](void *, GCPlacement) GC_NOEXCEPT;
  inline void operator delete[](void *, void *) GC_NOEXCEPT;
#endif
};

/* Base class of collectable objects whose destructor runs when the
 * collector reclaims them (registered with _ignore_self ordering, so an
 * object may point to itself).  Deleting one explicitly unregisters it. */
class gc_cleanup : virtual public gc {
 public:
  inline gc_cleanup();
  inline virtual ~gc_cleanup();

 private:
  inline static void GC_cdecl cleanup(void *obj, void *clientData);
};

/* A finalizer for new (UseGC, fn, data) T. */
extern "C" {
typedef void(GC_CALLBACK *GCCleanUpFunc)(void *obj, void *clientData);
}

#ifdef GC_NAMESPACE
}
#endif

/* new (gcp) T, new (gcp, cleanup, clientData) T for any T. */
inline void *operator new(size_t size, GC_NS_QUALIFY(GCPlacement) gcp,
                          GC_NS_QUALIFY(GCCleanUpFunc) = 0, void * = 0);
inline void operator delete(void *, GC_NS_QUALIFY(GCPlacement), GC_NS_QUALIFY(GCCleanUpFunc),
                            void *) GC_NOEXCEPT;
#ifdef GC_OPERATOR_NEW_ARRAY
inline void *operator new[](size_t size, GC_NS_QUALIFY(GCPlacement) gcp,
                            GC_NS_QUALIFY(GCCleanUpFunc) = 0, void * = 0);
#endif

/* ---- Definitions ------------------------------------------------------ */

#ifdef GC_NAMESPACE
namespace boehmgc {
#endif

/* One place that maps a placement to an allocation call. */
inline void *pargc_cpp_alloc(size_t size, GCPlacement gcp) {
  void *obj;
  switch (gcp) {
  case UseGC:
    obj = GC_MALLOC(size);
    break;
  case PointerFreeGC:
    obj = GC_MALLOC_ATOMIC(size);
    break;
#ifdef GC_ATOMIC_UNCOLLECTABLE
  case PointerFreeNoGC:
    obj = GC_MALLOC_ATOMIC_UNCOLLECTABLE(size);
    break;
#endif
  case NoGC:
  default:
    obj = GC_MALLOC_UNCOLLECTABLE(size);
  }
  GC_OP_NEW_OOM_CHECK(obj);
  return obj;
}

inline void *gc::operator new(size_t size) { return pargc_cpp_alloc(size, UseGC); }
inline void *gc::operator new(size_t size, GCPlacement gcp) { return pargc_cpp_alloc(size, gcp); }
inline void *gc::operator new(size_t, void *p) GC_NOEXCEPT { return p; }
inline void gc::operator delete(void *obj) GC_NOEXCEPT { GC_FREE(obj); }
inline void gc::operator delete(void *, void *) GC_NOEXCEPT {}
inline void gc::operator delete(void *p, GCPlacement) GC_NOEXCEPT { GC_FREE(p); }
#ifdef GC_OPERATOR_NEW_ARRAY
inline void *gc::operator new[](size_t size) { return pargc_cpp_alloc(size, UseGC); }
inline void *gc::operator new[](size_t size, GCPlacement gcp) { return pargc_cpp_alloc(size, gcp); }
inline void *gc::operator new[](size_t, void *p) GC_NOEXCEPT { return p; }
inline void gc::operator delete[](void *obj) GC_NOEXCEPT { GC_FREE(obj); }
inline void gc::operator delete[](void *, void *) GC_NOEXCEPT {}
inline void gc::operator delete[](void *p, GCPlacement) GC_NOEXCEPT { GC_FREE(p); }
#endif

/* Explicit destruction: drop the finalizer so the destructor runs once. */
inline gc_cleanup::~gc_cleanup() {
  void *base = GC_base(this);
  if (base != 0) GC_register_finalizer_ignore_self(base, 0, 0, 0, 0);
}

/* The finalizer: clientData is the offset of the gc_cleanup subobject
 * from the start of the allocation (nonzero with multiple inheritance). */
inline void GC_CALLBACK gc_cleanup::cleanup(void *obj, void *displ) {
  ((gc_cleanup *)((char *)obj + (ptrdiff_t)displ))->~gc_cleanup();
}

/* Register the destructor as finalizer, chaining to one already there
 * (e.g. from new (UseGC, fn, data)): keep the old one if present. */
inline gc_cleanup::gc_cleanup() {
  void *self = (void *)this;
  void *base = GC_base(self);
  if (base == 0) return; /* not in the GC heap (stack, static, NoGC...) */
  GC_finalization_proc old_proc = 0;
  void *old_data = 0;
  GC_register_finalizer_ignore_self(base, (GC_finalization_proc)cleanup,
                                    (void *)((char *)self - (char *)base), &old_proc, &old_data);
  if (old_proc != 0) GC_register_finalizer_ignore_self(base, old_proc, old_data, 0, 0);
}

#ifdef GC_NAMESPACE
}
#endif

inline void *operator new(size_t size, GC_NS_QUALIFY(GCPlacement) gcp,
                          GC_NS_QUALIFY(GCCleanUpFunc) cleanup, void *clientData) {
  void *obj = GC_NS_QUALIFY(pargc_cpp_alloc)(size, gcp);
  if (gcp == GC_NS_QUALIFY(UseGC) && cleanup != 0)
    GC_REGISTER_FINALIZER_IGNORE_SELF(obj, cleanup, clientData, 0, 0);
  return obj;
}
inline void operator delete(void *p, GC_NS_QUALIFY(GCPlacement), GC_NS_QUALIFY(GCCleanUpFunc),
                            void *) GC_NOEXCEPT {
  GC_FREE(p);
}
#ifdef GC_OPERATOR_NEW_ARRAY
inline void *operator new[](size_t size, GC_NS_QUALIFY(GCPlacement) gcp,
                            GC_NS_QUALIFY(GCCleanUpFunc) cleanup, void *clientData) {
  return ::operator new(size, gcp, cleanup, clientData);
}
#endif

#endif /* GC_CPP_H */
