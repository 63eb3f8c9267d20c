/* threads: the registry of mutator threads, and stopping the world.
 *
 * Every thread that may hold pointers into the GC heap is registered:
 * the main thread at GC_init, threads made by pthread_create (pargc
 * interposes pthread_create, so plain pthread_create, std::thread and
 * other libraries' pools are covered, not only GC_pthread_create), and
 * threads that call GC_register_my_thread.  A registered thread's roots
 * are its stack from the current stack pointer to its stack base, its
 * registers (saved on its stack when it is stopped), and its static TLS
 * block.
 *
 * Stop-the-world uses a signal (SIGPWR by default; PARGC_SIG_SUSPEND):
 * each thread saves its registers, publishes its stack pointer and waits
 * in sigsuspend until restarted.  Threads that start or exit during a stop
 * wait for it to end; system calls interrupted by the signals are restarted
 * (SA_RESTART).  After fork the child holds a working collector with one
 * registered thread (Boehm's GC_atfork_* semantics).
 *
 * Invariant: between pargc_threads_stop_world() and
 * pargc_threads_start_world() no registered thread other than the caller
 * runs mutator code, and pargc_threads_each_root_range() sees every one.
 */
#ifndef PARGC_GC_THREADS_H
#define PARGC_GC_THREADS_H
#ifndef PARGC_BUILDING
#error "gc/threads.h is internal to pargc"
#endif

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* Set up the registry, register the calling (main) thread and install the
 * signal handlers.  Called once from GC_init. */
void pargc_threads_init(void);

/* Where the program keeps the main thread's stack base, if it does (the
 * API layer points it at Boehm's GC_stackbottom), or NULL.  A program
 * that runs fibers on the main thread writes the running fiber's base
 * there at each switch (Crystal's runtime does): every collection reads
 * it, and pargc_threads_set_stack_base on the main thread writes it. */
extern char *volatile *pargc_threads_main_base;

/* Register / unregister the calling thread.  `stack_base` is the highest
 * address of its stack (NULL: ask pthread_getattr_np).  Registering twice
 * is harmless (returns false the second time). */
bool pargc_threads_register_self(void *stack_base);
void pargc_threads_unregister_self(void);
bool pargc_threads_is_registered_self(void);

/* Stop every registered thread except the caller; returns when all have
 * saved their registers.  The caller must hold the collector lock
 * (pargc_collect_lock), and holds the registry lock until
 * pargc_threads_start_world.  Not reentrant.  Between the two it must not
 * call malloc, stdio, pthread_create (malloc, glibc's stack cache lock),
 * GC_add_roots & co., or anything else that takes a lock a stopped thread
 * may hold: start the GC threads beforehand.  pthread_join and
 * pthread_detach are safe, as are the two enumerations. */
void pargc_threads_stop_world(void);
void pargc_threads_start_world(void);
/* Is the world stopped (by any thread)?  For assertions: the GC threads
 * tracing for the stopper ask it, the stopper has
 * pargc_world_stopped_by_me (alloc/report.h). */
bool pargc_threads_world_stopped(void);
/* Counts stops and starts: odd while the world is stopped, and a new
 * value at each stop (to tell one stop from the next). */
unsigned long pargc_threads_stop_epoch(void);

/* Call fn(lo, hi, arg) for every root range of every registered thread:
 * stack (sp..base), registers (a copy in the thread's record) and static
 * TLS; plus the start argument of threads being created and the return
 * value of finished, unjoined threads.  Only valid while the world is
 * stopped.  Any thread may call it, several at once (GC threads sharing
 * the work): a registered caller's own stack is taken from its current
 * frame; the stopper's, when another thread asks, from where it called
 * pargc_threads_stop_world, with the registers it had then. */
typedef void (*pargc_range_fn)(void *lo, void *hi, void *arg);
/* Stacks and registers go to stack_fn, the rest to fn: a word there that
 * points into an object's middle keeps the object even with interior
 * pointers off, as in Boehm GC -- compiled code keeps such pointers all
 * the time (a loop's cursor into an array). */
void pargc_threads_each_root_range(pargc_range_fn fn, pargc_range_fn stack_fn, void *arg);
/* GC_set_sp_corrector: when set, pargc_threads_each_root_range passes it
 * each thread's stack pointer (the low end of the stack it scans) and the
 * thread's pthread_t, and scans from wherever it leaves the pointer (for
 * programs that run coroutines on the thread's stack).  Written under the
 * collector's lock, read with the world stopped. */
extern void (*pargc_threads_sp_corrector)(void **sp, void *pthread_id);

/* The collector calls this on entry, from a frame that stays live for the
 * whole collection and holds the caller's registers (setjmp): the calling
 * thread's stack is then scanned from `sp` up, not from wherever
 * pargc_threads_each_root_range happens to be called.  The frames below
 * are the collector's own scratch space, reused between the mark and the
 * passes after it (PARGC_VERIFY), so they are never roots.  NULL goes back
 * to the current frame. */
void pargc_threads_set_self_scan_start(void *sp);

/* Number of registered threads (for LPS's clamp of k, and statistics). */
int pargc_threads_count(void);

/* Let the calling thread be stopped while it waits for the collector:
 * unblock the suspend and restart signals if it is registered and had
 * them blocked (a program that blocks every signal around fork, as
 * Crystal's runtime does, then waits in pargc's fork handler for a
 * collection that waits for it to stop).  True when the mask changed:
 * the caller restores *old once it holds what it waited for. */
bool pargc_threads_allow_stops(sigset_t *old);

/* pargc's pthread_create, pthread_join, pthread_detach and pthread_exit
 * (threads.c interposes the four), called directly.  GC_pthread_create
 * and its kin call these: through the symbols they reached libc's
 * functions in a program whose symbol order has libc before libgc.so.1
 * -- ECL and Guile, whose own libraries bring libgc in -- so their
 * threads started unregistered, unscanned until their first allocation,
 * and a thread's result was no root between its exit and its join. */
int pargc_threads_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                         void *arg);
int pargc_threads_join(pthread_t thread, void **retval);
int pargc_threads_detach(pthread_t thread);
void pargc_threads_exit(void *retval) __attribute__((noreturn));
/* pthread_sigmask, except that the suspend signal is never blocked once
 * the collector has chosen it (and glibc's internal signals never are);
 * returns an errno value.  libpargc's pthread_sigmask and sigprocmask. */
int pargc_threads_sigmask(int how, const sigset_t *set, sigset_t *old);

/* Start a thread that is NOT registered as a mutator (the GC threads),
 * using the real pthread_create even though pargc interposes it. */
int pargc_threads_spawn_internal(pthread_t *out, void *(*fn)(void *), void *arg);

/* GC_do_blocking / GC_call_with_gc_active: while in fn, a registered
 * thread is not stopped; only its stack above the blocking call is
 * scanned.  Entering and leaving wait while the world is stopped. */
void *pargc_threads_do_blocking(void *(*fn)(void *), void *arg);
void *pargc_threads_call_with_gc_active(void *(*fn)(void *), void *arg);

/* GC_set_stackbottom: `thread` is a handle from
 * pargc_threads_self_handle() (NULL: the calling thread).  Callable
 * while the world is stopped, from the collection's own callbacks
 * (GC_set_push_other_roots), where Boehm GC's programs set the bases of
 * their threads' running fibers: thread stacks are scanned after those
 * callbacks. */
struct pargc_thread;
struct pargc_thread *pargc_threads_self_handle(void);
void pargc_threads_set_stack_base(struct pargc_thread *thread, void *base);
void *pargc_threads_self_stack_base(void);

/* Fork (Boehm's GC_atfork_*; see gc/stop.c for the contract).
 * set_handle_fork records GC_set_handle_fork's value before
 * initialisation (later calls change nothing); fork_handled says whether
 * pargc's pthread_atfork handlers are in place -- if not, the program
 * calls GC_atfork_* itself.  atfork registers a set of handlers under
 * that policy (gc/collect.c registers the collector's).  prepare takes
 * the registry lock (a stop in progress ends first); child leaves one
 * registered thread. */
void pargc_threads_set_handle_fork(int value);
bool pargc_threads_fork_handled(void);
void pargc_threads_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void));
void pargc_threads_fork_prepare(void);
void pargc_threads_fork_parent(void);
void pargc_threads_fork_child(void);

/* Boehm's javaxfc.h thread suspension.  pargc_threads_suspend stops the
 * registered thread `id` until pargc_threads_resume(id); collections scan
 * it as stopped and do not restart it.  The caller holds the collector's
 * lock and the allocator's (pargc_alloc_lock_all), so that the thread is
 * never suspended holding one of them; `release` drops them and is called
 * exactly once, as soon as the thread is suspended (or sooner if it is
 * slow to answer: it may wait for one of them with the suspend signal
 * blocked, on its way out).  As in Boehm GC 8.2: a thread in a blocking
 * section (GC_do_blocking, pthread_join) is only marked, and stops when it
 * leaves the section; the calling thread waits, in a blocking section,
 * until another thread resumes it; a finished thread not yet joined and a
 * new thread not yet registered are marked (the latter stops as it
 * registers).  Suspending twice and resuming a thread that is not
 * suspended change nothing: suspensions do not nest. */
void pargc_threads_suspend(pthread_t id, void (*release)(void));
void pargc_threads_resume(pthread_t id);
bool pargc_threads_is_suspended(pthread_t id);

/* Boehm's GC_set_on_thread_event: called by the stopper with the thread
 * registry lock held, after the suspend signal went to a thread (event
 * PARGC_THREAD_EV_SUSPENDED) and after the restart signal did
 * (..._UNSUSPENDED), with the thread's pthread_t.  NULL: none. */
enum { PARGC_THREAD_EV_SUSPENDED = 10, PARGC_THREAD_EV_UNSUSPENDED = 11 };
extern void (*pargc_threads_event_fn)(int event, void *thread);

/* The signal that stops a thread (PARGC_SIG_SUSPEND; valid after init). */
int pargc_threads_suspend_signal(void);

/* The registry lock, which also guards the user root tables of roots.c.
 * Held from stop_world to start_world. */
void pargc_threads_lock(void);
void pargc_threads_unlock(void);
bool pargc_threads_lock_held(void); /* by the calling thread */

/* Callbacks into the allocator when a registered thread exits (to hand
 * its pages over) -- set by the collector at init. */
extern void (*pargc_threads_on_exit)(void);
/* Called in a fork child, once for each range of memory (stack, static
 * TLS) of every registered thread that did not survive the fork -- set
 * by the finalization module at init.  The C library gives those stacks
 * to the next threads the child creates, so whatever pargc would write
 * there (a disappearing link being cleared) must be forgotten. */
extern void (*pargc_threads_on_vanished)(void *lo, void *hi);

#endif
