/*
 * gc/gc_pthread_redirects.h -- the GC_pthread_* wrappers and the macros
 * that route pthread_create & co. to them.
 *
 * gc.h includes this when GC_THREADS (or GC_PTHREADS) is defined, as Boehm
 * GC does.  The wrappers register the new thread with the collector before
 * it runs and unregister it when it ends.  pargc would register a thread on
 * its first allocation anyway; going through the wrappers also covers
 * threads that hold heap pointers without allocating.
 *
 * Define GC_NO_THREAD_REDIRECTS to get the declarations without the
 * #defines (then call GC_pthread_create yourself).
 */
#ifndef GC_PTHREAD_REDIRECTS_H
#define GC_PTHREAD_REDIRECTS_H

#if defined(GC_H) && defined(GC_PTHREADS)

#ifndef GC_PTHREAD_REDIRECTS_ONLY
#include <pthread.h>
#ifndef GC_NO_DLOPEN
#include <dlfcn.h>
#endif
#ifndef GC_NO_PTHREAD_SIGMASK
#include <signal.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The thread id type of GC_suspend_thread and friends (javaxfc.h). */
#ifndef GC_SUSPEND_THREAD_ID
#define GC_SUSPEND_THREAD_ID pthread_t
#endif

#ifndef GC_NO_DLOPEN
/* dlopen with the collector's lock held, so a collection never sees a
 * library half mapped. */
GC_API void *GC_dlopen(const char *path, int mode);
#endif
#ifndef GC_NO_PTHREAD_SIGMASK
#if defined(GC_PTHREAD_SIGMASK_NEEDED) || defined(_BSD_SOURCE) || defined(_GNU_SOURCE) \
    || defined(_DEFAULT_SOURCE) || (_POSIX_C_SOURCE >= 199506L) || (_XOPEN_SOURCE >= 500)
/* pthread_sigmask that never blocks the collector's stop/restart signals. */
GC_API int GC_pthread_sigmask(int how, const sigset_t *set, sigset_t *oset);
#endif
#endif
#ifndef GC_PTHREAD_CREATE_CONST
#define GC_PTHREAD_CREATE_CONST const
#endif
/* pthread_create registering the new thread before start_routine runs. */
GC_API int GC_pthread_create(pthread_t *thread, GC_PTHREAD_CREATE_CONST pthread_attr_t *attr,
                             void *(*start_routine)(void *), void *arg);
/* pthread_join / pthread_detach that also release the thread's record. */
GC_API int GC_pthread_join(pthread_t thread, void **retval);
GC_API int GC_pthread_detach(pthread_t thread);
#ifndef GC_NO_PTHREAD_CANCEL
/* pthread_cancel that keeps the cancelled thread's record consistent. */
GC_API int GC_pthread_cancel(pthread_t thread);
#endif
#if defined(GC_HAVE_PTHREAD_EXIT) && !defined(GC_PTHREAD_EXIT_DECLARED)
#define GC_PTHREAD_EXIT_DECLARED
/* pthread_exit that unregisters the thread first. */
GC_API void GC_pthread_exit(void *retval) GC_PTHREAD_EXIT_ATTRIBUTE;
#endif

#ifdef __cplusplus
}
#endif
#endif /* !GC_PTHREAD_REDIRECTS_ONLY */

#if !defined(GC_NO_THREAD_REDIRECTS) && !defined(GC_USE_LD_WRAP)
#undef pthread_create
#undef pthread_join
#undef pthread_detach
#define pthread_create GC_pthread_create
#define pthread_join GC_pthread_join
#define pthread_detach GC_pthread_detach
#ifndef GC_NO_PTHREAD_SIGMASK
#undef pthread_sigmask
#define pthread_sigmask GC_pthread_sigmask
#endif
#ifndef GC_NO_DLOPEN
#undef dlopen
#define dlopen GC_dlopen
#endif
#ifndef GC_NO_PTHREAD_CANCEL
#undef pthread_cancel
#define pthread_cancel GC_pthread_cancel
#endif
#ifdef GC_HAVE_PTHREAD_EXIT
#undef pthread_exit
#define pthread_exit GC_pthread_exit
#endif
#endif /* redirects */

#endif /* GC_H && GC_PTHREADS */
#endif /* GC_PTHREAD_REDIRECTS_H */
