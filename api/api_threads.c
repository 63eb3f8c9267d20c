/* api_threads: Boehm's GC_* entry points for threads, roots and fork --
 * thin calls into gc/threads, gc/stop and gc/roots. */
#include "config.h"
#include "api/init.h"
#include "gc/collect.h"
#include "gc/tracer.h"
#include "gc/roots.h"
#include "gc/threads.h"
#include "alloc/os.h"

/* GC_THREADS: gc.h declares the thread calls and the GC_pthread_*
 * wrappers only with it; GC_NO_THREAD_REDIRECTS: the wrappers below call
 * the real pthread_create & co., so the names must not be redirected. */
#define GC_THREADS 1
#define GC_NO_THREAD_REDIRECTS 1
#include <gc/gc.h>
#include <dlfcn.h>

/* ---- threads ---------------------------------------------------------- */

int GC_register_my_thread(const struct GC_stack_base *sb)
{
  return pargc_threads_register_self(sb ? sb->mem_base : NULL) ? GC_SUCCESS
                                                               : GC_DUPLICATE;
}

int GC_unregister_my_thread(void)
{
  pargc_threads_unregister_self();
  return GC_SUCCESS;
}

void GC_allow_register_threads(void)
{
  pargc_threads_init();
}

int GC_thread_is_registered(void)
{
  return pargc_threads_is_registered_self();
}

int GC_get_stack_base(struct GC_stack_base *sb)
{
  char *lo, *hi;
  if (!pargc_os_thread_stack(&lo, &hi))
    return GC_UNIMPLEMENTED;
  sb->mem_base = hi;
  return GC_SUCCESS;
}

void *GC_call_with_stack_base(GC_stack_base_func fn, void *arg)
{
  /* This frame's address: everything fn pushes lies below it. */
  struct GC_stack_base sb = {__builtin_frame_address(0)};
  void *r = fn(&sb, arg);
  __asm__ volatile("" : : : "memory"); /* no tail call: keep the frame */
  return r;
}

void *GC_do_blocking(GC_fn_type fn, void *client_data)
{
  return pargc_threads_do_blocking(fn, client_data);
}

void *GC_call_with_gc_active(GC_fn_type fn, void *client_data)
{
  return pargc_threads_call_with_gc_active(fn, client_data);
}

void GC_set_stackbottom(void *gc_thread_handle, const struct GC_stack_base *sb)
{
  pargc_threads_set_stack_base(gc_thread_handle, sb->mem_base);
}

void *GC_get_my_stackbottom(struct GC_stack_base *sb)
{
  sb->mem_base = pargc_threads_self_stack_base();
  return pargc_threads_self_handle();
}

/* Start the GC threads now, if they are not running (after fork, the
 * child has none until its first collection otherwise).  With the
 * collector's lock held: the tracer's thread pool is the collector's. */
void GC_start_mark_threads(void)
{
  pargc_init();
  pargc_collect_lock_idle();
  pargc_tracer_prepare();
  pargc_unlock(&pargc_collect_lock);
}

/* ---- pthread redirects ------------------------------------------------ */

/* Programs built with -DGC_THREADS call these.  pargc interposes the
 * plain pthread functions too, but where libc comes before libgc.so.1 in
 * the program's symbol order the plain names reach libc's: the GC_ names
 * go to pargc's own (gc/threads.h). */
int GC_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                      void *(*start)(void *), void *arg)
{
  return pargc_threads_create(thread, attr, start, arg);
}

int GC_pthread_join(pthread_t thread, void **retval)
{
  return pargc_threads_join(thread, retval);
}

int GC_pthread_detach(pthread_t thread)
{
  return pargc_threads_detach(thread);
}

int GC_pthread_cancel(pthread_t thread)
{
  return pthread_cancel(thread);
}

void GC_pthread_exit(void *retval)
{
  pargc_threads_exit(retval);
}

int GC_pthread_sigmask(int how, const sigset_t *set, sigset_t *oset)
{
  /* A thread that blocks the suspend signal could never be stopped.  No
   * pargc_threads_init here: before it no signal is chosen, and the
   * registration of a thread opens it. */
  return pargc_threads_sigmask(how, set, oset);
}

void *GC_dlopen(const char *path, int mode)
{
  return dlopen(path, mode);
}

/* ---- roots ------------------------------------------------------------ */

void GC_add_roots(void *low, void *high_plus_1)
{
  pargc_roots_add(low, high_plus_1);
}

void GC_remove_roots(void *low, void *high_plus_1)
{
  pargc_roots_remove(low, high_plus_1);
}

void GC_clear_roots(void)
{
  pargc_roots_clear();
}

void GC_exclude_static_roots(void *low, void *high_plus_1)
{
  pargc_roots_exclude(low, high_plus_1);
}

void GC_clear_exclusion_table(void)
{
  pargc_roots_clear_exclusions();
}

/* ---- fork ------------------------------------------------------------- */

void GC_set_handle_fork(int value)
{
  pargc_threads_set_handle_fork(value);
}

/* No-ops while pargc's own handlers are installed (see gc/stop.c). */
void GC_atfork_prepare(void)
{
  pargc_init();
  if (!pargc_threads_fork_handled())
    pargc_collect_fork_prepare();
}

void GC_atfork_parent(void)
{
  if (!pargc_threads_fork_handled())
    pargc_collect_fork_parent();
}

void GC_atfork_child(void)
{
  if (!pargc_threads_fork_handled())
    pargc_collect_fork_child();
}
