/*
 * gc/gc_config_macros.h -- compiler and platform macros the other public
 * headers rely on: how API functions are declared (GC_API, GC_CALL), the
 * attributes they carry, and which thread package GC_THREADS selects.
 *
 * pargc targets GNU/Linux with GCC or Clang; the Windows, Darwin and
 * embedded branches of Boehm GC's version of this file are left out.
 * Included by gc.h; there is no need to include it directly.
 */
#ifndef PARGC_GC_CONFIG_MACROS_H
#define PARGC_GC_CONFIG_MACROS_H

/* True when the compiler is GCC (or claims to be) at least major.minor. */
#if defined(__GNUC__)
#define GC_GNUC_PREREQ(major, minor) \
  ((__GNUC__ << 16) + __GNUC_MINOR__ >= ((major) << 16) + (minor))
#else
#define GC_GNUC_PREREQ(major, minor) 0
#endif

/* Threads.  Boehm GC asks client code to define GC_THREADS before
 * including gc.h when it creates threads; that turns on the pthread
 * redirects (gc_pthread_redirects.h).  pargc registers threads on its own,
 * so the redirects are a convenience rather than a requirement.
 * GC_PTHREADS and GC_LINUX_THREADS are accepted as older spellings. */
#if (defined(GC_PTHREADS) || defined(GC_LINUX_THREADS)) && !defined(GC_THREADS)
#define GC_THREADS 1
#endif
#if defined(GC_THREADS)
#if !defined(GC_LINUX_THREADS) && defined(__linux__)
#define GC_LINUX_THREADS
#endif
#ifndef GC_PTHREADS
#define GC_PTHREADS
#endif
/* GC_pthread_exit exists and is redirected to (glibc has pthread_exit). */
#define GC_HAVE_PTHREAD_EXIT
#endif

/* GC_API marks every public function and variable, and is the library's
 * one export marker: it is built with -fvisibility=hidden, and each file
 * that defines an entry point includes the public header declaring it,
 * so the declaration's GC_API exports the definition (the compiler also
 * checks the two agree).  The libc functions pargc wraps, which no
 * public header declares, carry GC_API at their definitions. */
#if defined(__GNUC__)
#define GC_API extern __attribute__((visibility("default")))
#else
#define GC_API extern
#endif
/* Calling-convention hooks; empty on every platform pargc supports. */
#define GC_CALL
#define GC_CALLBACK GC_CALL

/* Function attributes.  They never change the ABI, only what the compiler
 * may assume and warn about.  Inside pargc, whose entry points see these
 * declarations too, nonnull is left out: a definition that checks for a
 * null argument anyway must keep its check. */
#if defined(__GNUC__)
#define GC_ATTR_MALLOC __attribute__((__malloc__))
#define GC_ATTR_ALLOC_SIZE(n) __attribute__((__alloc_size__(n)))
#define GC_ATTR_CALLOC_SIZE(n, s) __attribute__((__alloc_size__(n, s)))
#if defined(PARGC_BUILDING)
#define GC_ATTR_NONNULL(n)
#else
#define GC_ATTR_NONNULL(n) __attribute__((__nonnull__(n)))
#endif
#define GC_ATTR_CONST __attribute__((__const__))
#define GC_PTHREAD_EXIT_ATTRIBUTE __attribute__((__noreturn__))
#else
#define GC_ATTR_MALLOC
#define GC_ATTR_ALLOC_SIZE(n)
#define GC_ATTR_CALLOC_SIZE(n, s)
#define GC_ATTR_NONNULL(n)
#define GC_ATTR_CONST
#define GC_PTHREAD_EXIT_ATTRIBUTE
#endif
/* Variables that Boehm GC keeps only for old code carry a deprecation
 * warning; inside pargc, which defines them, the warning is off. */
#if defined(__GNUC__) && !defined(PARGC_BUILDING) && !defined(GC_BUILD)
#define GC_ATTR_DEPRECATED __attribute__((__deprecated__))
#else
#define GC_ATTR_DEPRECATED
#endif

/* Debug allocation records where an object was allocated.  With glibc's
 * backtrace() available the call stack can be saved, so, as in Boehm GC on
 * this platform, GC_EXTRAS passes only file and line (no return address)
 * and GC_ADD_CALLER stays undefined unless the program defines it. */
#define GC_HAVE_BUILTIN_BACKTRACE
#define GC_CAN_SAVE_CALL_STACKS
#if defined(GC_ADD_CALLER) && !defined(GC_RETURN_ADDR)
#define GC_RETURN_ADDR ((GC_word)__builtin_return_address(0))
#endif

/* C++ helpers used by gc_cpp.h and gc_allocator.h. */
#ifdef __cplusplus
#ifndef GC_NOEXCEPT
#if __cplusplus >= 201103L
#define GC_NOEXCEPT noexcept
#else
#define GC_NOEXCEPT throw()
#endif
#endif
#ifndef GC_ATTR_EXPLICIT
/* As Boehm GC: not with Clang, which rejects some explicit conversions
 * the containers need. */
#if __cplusplus >= 201103L && !defined(__clang__)
#define GC_ATTR_EXPLICIT explicit
#else
#define GC_ATTR_EXPLICIT
#endif
#endif
#endif

#endif /* PARGC_GC_CONFIG_MACROS_H */
