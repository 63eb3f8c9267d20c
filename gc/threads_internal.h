/* threads_internal: what gc/threads.c (registry, interposition) and
 * gc/stop.c (signals, stop/start, root ranges, fork) share.  Nothing
 * outside those two files and api/api_threads.c, gc/roots.c includes it.
 *
 * Locking.  One lock (alloc/lock.h), the registry lock, guards the thread list, the list
 * of pending thread starts and the user root tables of gc/roots.c.
 * pargc_threads_stop_world() takes it and pargc_threads_start_world()
 * releases it, so for the whole time the world is stopped:
 *   - no thread can register, unregister, or change its blocking state;
 *   - a thread that tries to blocks inside pargc_lock.  If it is
 *     registered it was signalled like every other registered thread, so
 *     it is stopped there too and its stack is scanned; if it is not yet
 *     registered it has run no mutator code (see `pending` for the one
 *     heap pointer it may carry: its start argument);
 *   - readers (the stopper, and GC threads working for it) walk the lists
 *     without taking any lock.
 * The stopper must not call malloc/free, stdio or anything else that takes
 * a lock a stopped thread may hold, between stop and start.
 */
#ifndef PARGC_GC_THREADS_INTERNAL_H
#define PARGC_GC_THREADS_INTERNAL_H
#ifndef PARGC_BUILDING
#error "gc/threads_internal.h is internal to pargc"
#endif

#include "gc/threads.h"
#include "alloc/lock.h"

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <ucontext.h>

/* One registered mutator thread.
 *
 * Invariants (registry lock held to change any field but the ones the
 * suspend handler writes):
 *   - stack_lo < stack_base; the live stack is [sp, stack_base) for any sp
 *     the thread can have while running on its own stack;
 *   - tls_lo <= tls_hi; [tls_lo, tls_hi) is the thread's static TLS;
 *   - while `blocked`, the thread runs no code that touches the heap and
 *     its live stack is [blocked_sp, stack_base), the registers it had on
 *     entry saved in a jmp_buf above blocked_sp;
 *   - while the world is stopped and the thread was signalled and acked
 *     (acked_epoch == the stop's epoch), stop_sp and regs hold its stack
 *     pointer (red zone included) and its registers, and stop_alt_hi
 *     says whether stop_sp is on its alternate signal stack;
 *   - while client_parked, the same three fields hold what they would
 *     after a stop: the thread is suspended by GC_suspend_thread and runs
 *     nothing, and a stop neither signals nor restarts it;
 *   - client_parked implies an odd suspend_count, and only a thread that
 *     is not `blocked` parks (a blocked one waits when it leaves its
 *     blocking section, still blocked). */
struct pargc_thread {
  struct pargc_thread *next;
  pthread_t pthread;
  uint64_t serial;           /* unique per thread, ever (see threads.c) */
  pid_t tid;                 /* kernel id, for tgkill */
  char *stack_base;          /* highest address (cold end) of the stack */
  char *stack_lo;            /* lowest mapped address; NULL if unknown */
  char *tls_lo, *tls_hi;     /* static TLS block(s) of this thread */
  /* Written by the suspend handler, read by the stopper after the ack. */
  char *stop_sp;
  char *stop_alt_hi;         /* top of the alternate signal stack stop_sp is
                                on; NULL: on the thread's own stack */
  mcontext_t regs;           /* interrupted registers, copied from the ucontext */
  _Atomic unsigned long acked_epoch;
  /* Set by the stopper for this stop only. */
  bool signalled;
  bool gone;                 /* tgkill said ESRCH: exited unregistered */
  /* GC_do_blocking. */
  bool blocked;
  char *blocked_sp;
  /* Made by pargc's pthread_create trampoline (vs. GC_register_my_thread). */
  bool auto_registered;
  /* The process's main thread, whose base the program may keep in a
   * variable of its own (pargc_threads_main_base). */
  bool is_main;
  /* The program has set this thread's base (GC_set_stackbottom): it
   * runs fibers, and a stop may catch it between setting a base and
   * switching to that stack. */
  bool base_given;
  /* GC_suspend_thread (stop.c).  suspend_count: odd from
   * GC_suspend_thread to GC_resume_thread, each of which adds one, under
   * the registry lock; the suspended thread waits for it to change (a
   * futex word), so a resume followed at once by a new suspension still
   * lets it out of the handler to take the new signal.  client_parked:
   * set by the thread once it has saved its registers and stack pointer
   * and waits; cleared by GC_resume_thread (lock held). */
  int suspend_count;
  bool client_parked;
};

/* A thread made by pargc's pthread_create that has not registered yet.
 * Its start argument may be the only pointer to a heap object (the parent
 * often drops it right after pthread_create), so it is a root until the
 * child has it in its own registers and stack. */
struct pargc_pending_start {
  struct pargc_pending_start *next;
  void *(*start)(void *);
  void *arg;
  /* GC_suspend_thread may name the child before it has registered: its
   * pthread_t is filled in (id_known) once pthread_create returns, if the
   * child is still on the list (linked), and the child takes
   * client_suspended over when it registers.  Registry lock.  Parent and
   * child each hold one of `refs`; the last to drop it frees the entry. */
  pthread_t pthread;
  uint64_t serial; /* the child's struct pargc_thread.serial */
  bool id_known, linked, client_suspended;
  int refs;
};

extern pargc_lock_t pargc_threads_lock_;
extern struct pargc_thread *pargc_threads_list;
extern struct pargc_pending_start *pargc_threads_pending;
extern int pargc_threads_n;

/* The calling thread's record, or NULL (initial-exec TLS: readable from a
 * signal handler without a call into the dynamic loader). */
extern __thread struct pargc_thread *pargc_threads_self
    __attribute__((tls_model("initial-exec")));

/* The cold end of t's stack and the lowest address known below it (NULL:
 * none).  For the main thread the program's variable wins when set
 * (pargc_threads_main_base): read at each collection, as Boehm GC reads
 * GC_stackbottom.  The low end is t's own stack's while the base is
 * above it. */
static inline char *pargc_thread_stack_bounds(const struct pargc_thread *t, char **lo)
{
  char *hi = t->stack_base, *const volatile *var = pargc_threads_main_base;
  if (t->is_main && var && *var)
    hi = *var;
  *lo = t->stack_lo && hi > t->stack_lo ? t->stack_lo : NULL;
  return hi;
}

void pargc_threads_lock(void);
void pargc_threads_unlock(void);
/* After a successful pargc_trylock of the registry lock. */
void pargc_threads_note_locked(void);

/* stop.c: install the handlers (once) and the fork handlers. */
void pargc_stop_init(void);
/* stop.c: take the registry lock as registered thread `me`, which may
 * have the suspend signal blocked (an exiting thread does). */
void pargc_stop_lock_as(struct pargc_thread *me);
/* stop.c: unblock the two signals in the calling thread. */
void pargc_stop_unblock_signals(void);
/* stop.c: the signal numbers in use. */
int pargc_stop_suspend_signal(void);
int pargc_stop_restart_signal(void);
/* threads.c: reset the registry in a fork child to the calling thread. */
void pargc_threads_after_fork_child(void);
/* threads.c: fill `t` for the calling thread (stack, TLS, ids). */
void pargc_threads_describe_self(struct pargc_thread *t, void *stack_base);
/* threads.c, registry lock held: the registered thread `id` (NULL if
 * none), and, for GC_suspend_thread & co., the suspension flag of a thread
 * that is not registered but known -- a child of pthread_create not yet
 * registered, or a finished thread not yet joined (NULL if neither). */
struct pargc_thread *pargc_threads_find(pthread_t id);
bool *pargc_threads_unregistered_flag(pthread_t id);
/* stop.c: wait while GC_suspend_thread has the calling (registered)
 * thread suspended, in a blocking section. */
void pargc_threads_wait_while_suspended(void);
/* The current stack pointer of the caller (approximately: the frame of a
 * non-inlined helper, so everything the caller has pushed lies above). */
char *pargc_threads_current_sp(void);

/* The real pthread functions (pargc interposes the public names). */
extern int (*pargc_real_pthread_create)(pthread_t *, const pthread_attr_t *,
                                        void *(*)(void *), void *);
void pargc_threads_resolve_real(void);

/* Set between pargc_threads_init and a fork child's reset. */
extern bool pargc_threads_ready;

#endif
