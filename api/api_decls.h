/* api_decls: Boehm GC 8.2's declarations of the thread, root and fork
 * entry points pargc implements in api/api_threads.c.  The same signatures
 * as Boehm's gc.h and gc_pthread_redirects.h (x86-64 / AArch64 Linux,
 * where GC_CALL and GC_CALLBACK are empty), written out here so these files
 * do not depend on the state of include/; every one is exported from a
 * library otherwise built with -fvisibility=hidden.
 */
#ifndef PARGC_API_API_DECLS_H
#define PARGC_API_API_DECLS_H
#ifndef PARGC_BUILDING
#error "api/api_decls.h is internal to pargc"
#endif

#include "alloc/report.h"

#include <pthread.h>
#include <signal.h>


#ifndef PARGC_GC_H
struct GC_stack_base {
  void *mem_base; /* the cold end (highest address) of the stack */
};
typedef void *(*GC_fn_type)(void *client_data);
typedef void *(*GC_stack_base_func)(struct GC_stack_base *sb, void *arg);
#define GC_SUCCESS 0
#define GC_DUPLICATE 1
#define GC_NO_THREADS 2
#define GC_UNIMPLEMENTED 3
#define GC_NOT_FOUND 4
#endif

/* Threads. */
PARGC_EXPORT int GC_register_my_thread(const struct GC_stack_base *sb);
PARGC_EXPORT int GC_unregister_my_thread(void);
PARGC_EXPORT void GC_allow_register_threads(void);
PARGC_EXPORT int GC_thread_is_registered(void);
PARGC_EXPORT int GC_get_stack_base(struct GC_stack_base *sb);
PARGC_EXPORT void *GC_call_with_stack_base(GC_stack_base_func fn, void *arg);
PARGC_EXPORT void *GC_do_blocking(GC_fn_type fn, void *client_data);
PARGC_EXPORT void *GC_call_with_gc_active(GC_fn_type fn, void *client_data);
PARGC_EXPORT void GC_set_stackbottom(void *gc_thread_handle,
                                  const struct GC_stack_base *sb);
PARGC_EXPORT void *GC_get_my_stackbottom(struct GC_stack_base *sb);
PARGC_EXPORT void GC_start_mark_threads(void);

/* pthread redirects (gc_pthread_redirects.h). */
PARGC_EXPORT int GC_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                void *(*start)(void *), void *arg);
PARGC_EXPORT int GC_pthread_join(pthread_t thread, void **retval);
PARGC_EXPORT int GC_pthread_detach(pthread_t thread);
PARGC_EXPORT int GC_pthread_cancel(pthread_t thread);
PARGC_EXPORT void GC_pthread_exit(void *retval) __attribute__((noreturn));
PARGC_EXPORT int GC_pthread_sigmask(int how, const sigset_t *set, sigset_t *oset);
PARGC_EXPORT void *GC_dlopen(const char *path, int mode);

/* Roots. */
PARGC_EXPORT void GC_add_roots(void *low, void *high_plus_1);
PARGC_EXPORT void GC_remove_roots(void *low, void *high_plus_1);
PARGC_EXPORT void GC_clear_roots(void);
PARGC_EXPORT void GC_exclude_static_roots(void *low, void *high_plus_1);
PARGC_EXPORT void GC_clear_exclusion_table(void);

/* Fork. */
PARGC_EXPORT void GC_set_handle_fork(int value);
PARGC_EXPORT void GC_atfork_prepare(void);
PARGC_EXPORT void GC_atfork_parent(void);
PARGC_EXPORT void GC_atfork_child(void);

#endif
