/* fuzz_raw.c: threads made with the C library's pthread_create, not the
 * GC_pthread_create that <gc.h> redirects to under GC_THREADS.  Such a
 * thread registers itself with GC_register_my_thread (Boehm GC needs
 * that; pargc registers every thread itself and answers GC_DUPLICATE).
 * This file must not include gc.h. */
#include <pthread.h>

int fz_raw_create(pthread_t *thread, void *(*fn)(void *), void *arg);
int fz_raw_join(pthread_t thread);

int fz_raw_create(pthread_t *thread, void *(*fn)(void *), void *arg)
{
  return pthread_create(thread, NULL, fn, arg);
}

int fz_raw_join(pthread_t thread) { return pthread_join(thread, NULL); }
