/*
 * gc/javaxfc.h -- calls a Java runtime needs beyond gc.h: running all
 * finalizers at exit, and suspending single threads.
 */
#ifndef GC_JAVAXFC_H
#define GC_JAVAXFC_H

#ifndef GC_H
#include "gc.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Run the finalizers of every finalizable object, reachable or not
 * (Java's runFinalizersOnExit).  Only safe when no thread will touch
 * those objects again. */
GC_API void GC_CALL GC_finalize_all(void);

#ifdef GC_THREADS
/* The thread id these take: pthread_t when the pthread redirects are in
 * (GC_THREADS), an opaque pointer otherwise. */
#ifndef GC_SUSPEND_THREAD_ID
#define GC_SUSPEND_THREAD_ID void *
#endif
/* Stop a registered thread until GC_resume_thread; collections still
 * scan it and leave it stopped.  A thread in GC_do_blocking stops when it
 * leaves it; the calling thread waits until another one resumes it.  No
 * count: one GC_resume_thread undoes any number of suspensions. */
GC_API void GC_CALL GC_suspend_thread(GC_SUSPEND_THREAD_ID thread);
GC_API void GC_CALL GC_resume_thread(GC_SUSPEND_THREAD_ID thread);
/* Nonzero if the thread is suspended by GC_suspend_thread. */
GC_API int GC_CALL GC_is_thread_suspended(GC_SUSPEND_THREAD_ID thread);
#endif

#ifdef __cplusplus
}
#endif
#endif /* GC_JAVAXFC_H */
