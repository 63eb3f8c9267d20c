/* threads: the registry of mutator threads and pthread interposition; see
 * threads.h for the contract and threads_internal.h for the locking.
 * Stopping the world, root ranges and fork live in stop.c. */
#include "config.h"
#include "gc/threads_internal.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/report.h"

#include <gc/gc_config_macros.h> /* GC_API: the wrappers below are exported */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

pargc_lock_t pargc_threads_lock_ = PARGC_LOCK_INIT;
struct pargc_thread *pargc_threads_list;
struct pargc_pending_start *pargc_threads_pending;
int pargc_threads_n;
bool pargc_threads_ready;
__thread struct pargc_thread *pargc_threads_self
    __attribute__((tls_model("initial-exec")));

void (*pargc_threads_on_exit)(void);
void (*pargc_threads_on_vanished)(void *lo, void *hi);

int (*pargc_real_pthread_create)(pthread_t *, const pthread_attr_t *,
                                 void *(*)(void *), void *);
static int (*real_pthread_join)(pthread_t, void **);
static int (*real_pthread_detach)(pthread_t);
static void (*real_pthread_exit)(void *) __attribute__((noreturn));

/* The exit key: its destructor unregisters a thread that leaves through
 * pthread_exit, cancellation, or without calling GC_unregister_my_thread. */
static pthread_key_t threads_exit_key;
static pthread_once_t threads_once = PTHREAD_ONCE_INIT;

/* Static TLS of a thread, as offsets from its thread pointer; computed
 * once at init (see threads_compute_tls). */
static ptrdiff_t tls_off_lo, tls_off_hi;

/* A joinable thread that has finished: the value it returned (or gave
 * pthread_exit) may be the only pointer to a heap object until
 * pthread_join hands it over, so it stays a root until then. */
struct finished_thread {
  struct finished_thread *next;
  pthread_t pthread;
  uint64_t serial;       /* tells it from a later thread with its pthread_t */
  void *retval;
  bool client_suspended; /* GC_suspend_thread: only recorded, as in Boehm GC */
};
static struct finished_thread *threads_finished;
/* The last serial number given to a thread (registry lock): a thread's
 * pthread_t is reused by the next thread as soon as it is joined, its
 * serial number never. */
static uint64_t threads_serial_last;

/* Does this thread hold the registry lock?  (It does from stop_world to
 * start_world.)  Lets pthread_create/join/detach work from the stopper, and
 * turns a recursive use into a message instead of a silent deadlock. */
static __thread bool lock_held_here __attribute__((tls_model("initial-exec")));

bool pargc_threads_lock_held(void)
{
  return lock_held_here;
}

void pargc_threads_lock(void)
{
  if (PARGC_UNLIKELY(lock_held_here))
    pargc_fatal("registry lock taken twice by one thread (GC_add_roots, "
                "GC_register_my_thread or a stop while the world is stopped?)");
  if (PARGC_LIKELY(pargc_trylock(&pargc_threads_lock_))) {
    lock_held_here = true;
    return;
  }
  /* Held, perhaps by a stopper that waits for this thread's ack: a
   * registered thread whose program blocked the suspend signal (xz
   * blocks every signal around pthread_create) would wait forever. */
  pargc_stop_lock_as(pargc_threads_self);
}

void pargc_threads_note_locked(void)
{
  lock_held_here = true;
}

void pargc_threads_unlock(void)
{
  lock_held_here = false;
  pargc_unlock(&pargc_threads_lock_);
}

PARGC_NOINLINE char *pargc_threads_current_sp(void)
{
  /* The frame of this non-inlined function lies below the caller's, so
   * [result, base) covers every byte the caller has pushed. */
  return (char *)__builtin_frame_address(0);
}

/* ---- real pthread functions ------------------------------------------ */

static void threads_resolve_once(void)
{
  pargc_real_pthread_create = pargc_os_next_symbol("pthread_create");
  real_pthread_join = pargc_os_next_symbol("pthread_join");
  real_pthread_detach = pargc_os_next_symbol("pthread_detach");
  real_pthread_exit = pargc_os_next_symbol("pthread_exit");
}

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

void pargc_threads_resolve_real(void)
{
  pthread_once(&resolve_once, threads_resolve_once);
}

/* ---- static TLS ------------------------------------------------------- */

struct tls_scan {
  char *tp;
  ptrdiff_t lo, hi;
  bool found;
  size_t sum;       /* fallback: total of the TLS sizes, aligned */
};

static int tls_scan_object(const struct pargc_os_object *o, void *arg)
{
  struct tls_scan *s = arg;
  if (!o->tls_size)
    return 0;
  size_t align = o->tls_align;
  s->sum = (s->sum + o->tls_size + align - 1) & ~(align - 1);
  /* tls_block is this thread's block of the object, or NULL if it has
   * none yet.  A block within 1 MiB of the thread pointer is in the
   * static TLS area (every thread has one at the same offset); one
   * further away was allocated dynamically (dlopen) and is not ours to
   * scan. */
  if (!o->tls_block)
    return 0;
  ptrdiff_t off = o->tls_block - s->tp;
  if (off < -(1 << 20) || off > (1 << 20))
    return 0;
  ptrdiff_t end = off + (ptrdiff_t)o->tls_size;
  if (!s->found || off < s->lo)
    s->lo = off;
  if (!s->found || end > s->hi)
    s->hi = end;
  s->found = true;
  return 0;
}

/* The static TLS blocks of all objects lie at fixed offsets from each
 * thread's thread pointer: below it on x86-64 (TLS variant II), above the
 * TCB on AArch64 (variant I).  We find the offsets from the calling
 * thread's own blocks, so the range is exact whatever the variant. */
static void threads_compute_tls(void)
{
  struct tls_scan s = {.tp = pargc_os_thread_pointer()};
  pargc_os_each_object(tls_scan_object, &s);
  if (s.found) {
    tls_off_lo = s.lo & ~(ptrdiff_t)(sizeof(void *) - 1);
    tls_off_hi = s.hi;
  } else if (s.sum) {
#if defined(__x86_64__) || defined(__i386__)
    tls_off_lo = -(ptrdiff_t)s.sum;
    tls_off_hi = 0;
#endif
  }
}

/* ---- registration ----------------------------------------------------- */

void pargc_threads_describe_self(struct pargc_thread *t, void *stack_base)
{
  t->pthread = pthread_self();
  t->tid = pargc_os_thread_id();
  char *lo = NULL, *hi = NULL;
  if (!pargc_os_thread_stack(&lo, &hi))
    lo = hi = NULL;
  char *here = pargc_threads_current_sp();
  if (stack_base) {
    t->stack_base = stack_base;
    /* A base given by the user on some other stack (a coroutine, say):
     * we know nothing of its low end. */
    t->stack_lo = (lo && here >= lo && here < hi) ? lo : NULL;
  } else if (hi && here >= lo && here < hi) {
    t->stack_base = hi;
    t->stack_lo = lo;
  } else {
    /* No attribute information: the frame of our caller's caller is the
     * best guess at a base (Boehm's GC_call_with_stack_base does as much). */
    t->stack_base = (char *)__builtin_frame_address(0) + 4096;
    t->stack_lo = NULL;
    pargc_warn("cannot find the stack of thread %d; scanning from %p",
               (int)t->tid, (void *)t->stack_base);
  }
  char *tp = pargc_os_thread_pointer();
  t->tls_lo = tp + tls_off_lo;
  t->tls_hi = tp + tls_off_hi;
}

static void threads_exit_destructor(void *value)
{
  (void)value;
  if (pargc_threads_self)
    pargc_threads_unregister_self();
}

/* Add `t` (describing the calling thread) to the list.  Lock held. */
static void threads_link(struct pargc_thread *t)
{
  pargc_assert(pargc_threads_lock_held());
  /* A finished thread whose pthread_t is being reused was joined or
   * detached by other means (pthread_tryjoin_np, ...): forget it. */
  for (struct finished_thread **p = &threads_finished; *p;) {
    struct finished_thread *f = *p;
    if (pthread_equal(f->pthread, t->pthread)) {
      *p = f->next;
      free(f);
    } else {
      p = &f->next;
    }
  }
  t->next = pargc_threads_list;
  pargc_threads_list = t;
  pargc_threads_n++;
  pargc_threads_self = t;
}

struct pargc_thread *pargc_threads_find(pthread_t id)
{
  pargc_assert(pargc_threads_lock_held());
  for (struct pargc_thread *t = pargc_threads_list; t; t = t->next)
    if (!t->gone && pthread_equal(t->pthread, id))
      return t;
  return NULL;
}

bool *pargc_threads_unregistered_flag(pthread_t id)
{
  for (struct pargc_pending_start *ps = pargc_threads_pending; ps; ps = ps->next)
    if (ps->id_known && pthread_equal(ps->pthread, id))
      return &ps->client_suspended;
  for (struct finished_thread *f = threads_finished; f; f = f->next)
    if (pthread_equal(f->pthread, id))
      return &f->client_suspended;
  return NULL;
}

/* Parent and child each drop their reference to a pending start once
 * done with it (see struct pargc_pending_start). */
static void pending_release(struct pargc_pending_start *ps)
{
  if (__atomic_sub_fetch(&ps->refs, 1, __ATOMIC_ACQ_REL) == 0)
    free(ps);
}

static bool threads_register(void *stack_base, bool automatic,
                             struct pargc_pending_start *pending)
{
  if (pargc_threads_self) {
    /* A thread pargc registered by itself (its pthread_create trampoline)
     * that now registers explicitly, as a Boehm GC program does for a
     * thread it made without the redirects: the first explicit call
     * succeeds, as it would with Boehm GC; later ones are duplicates. */
    if (!automatic && !pending && pargc_threads_self->auto_registered) {
      pargc_threads_self->auto_registered = false;
      return true;
    }
    return false;
  }
  struct pargc_thread *t = calloc(1, sizeof *t);
  if (!t)
    pargc_fatal("out of memory registering a thread");
  pargc_threads_describe_self(t, stack_base);
  t->auto_registered = automatic;
  t->is_main = pargc_os_is_main_thread();
  pargc_threads_lock();
  t->serial = pending ? pending->serial : ++threads_serial_last;
  threads_link(t);
  if (pending) {
    for (struct pargc_pending_start **p = &pargc_threads_pending; *p;
         p = &(*p)->next) {
      if (*p == pending) {
        *p = pending->next;
        break;
      }
    }
    pending->linked = false;
    t->suspend_count = pending->client_suspended; /* 1: suspended */
  }
  pargc_threads_unlock();
  pthread_setspecific(threads_exit_key, t);
  pargc_stop_unblock_signals();
  return true;
}

static void threads_init_once(void)
{
  pargc_options_init(NULL);
  pargc_threads_resolve_real();
  if (pthread_key_create(&threads_exit_key, threads_exit_destructor))
    pargc_fatal("pthread_key_create failed");
  threads_compute_tls();
  pargc_stop_init();
  pargc_threads_ready = true;
  threads_register(NULL, false, NULL);
}

void pargc_threads_init(void)
{
  pthread_once(&threads_once, threads_init_once);
}

/* No constructor registers the main thread at load time: Boehm reads its
 * environment at GC_init, and a program may setenv before that.  GC_init,
 * the first pthread_create and the GC_* thread functions call
 * pargc_threads_init, whichever comes first. */

bool pargc_threads_register_self(void *stack_base)
{
  pargc_threads_init();
  return threads_register(stack_base, false, NULL);
}

void pargc_threads_unregister_self(void)
{
  struct pargc_thread *t = pargc_threads_self;
  if (!t)
    return;
  /* The allocator hands the thread's pages over while the thread can
   * still be stopped and scanned. */
  if (pargc_threads_on_exit)
    pargc_threads_on_exit();
  pargc_stop_lock_as(t);
  for (struct pargc_thread **p = &pargc_threads_list; *p; p = &(*p)->next) {
    if (*p == t) {
      *p = t->next;
      pargc_threads_n--;
      break;
    }
  }
  pargc_threads_self = NULL;
  pargc_threads_unlock();
  pthread_setspecific(threads_exit_key, NULL);
  free(t);
}

bool pargc_threads_is_registered_self(void)
{
  return pargc_threads_self != NULL;
}

int pargc_threads_count(void)
{
  return __atomic_load_n(&pargc_threads_n, __ATOMIC_RELAXED);
}

char *volatile *pargc_threads_main_base;

void pargc_threads_set_stack_base(struct pargc_thread *t, void *base)
{
  /* Held already by a collection's callback (the world stopped). */
  bool held = lock_held_here;
  if (!held)
    pargc_threads_lock();
  if (!t)
    t = pargc_threads_self;
  if (t) {
    t->stack_base = base;
    t->base_given = true;
    if (t->stack_lo && (char *)base <= t->stack_lo)
      t->stack_lo = NULL;
    if (t->is_main && pargc_threads_main_base)
      *pargc_threads_main_base = base;
  }
  if (!held)
    pargc_threads_unlock();
}

/* Each finished-but-unjoined thread's return value; world stopped. */
void pargc_threads_each_finished(pargc_range_fn fn, void *arg)
{
  pargc_assert(pargc_threads_world_stopped());
  for (struct finished_thread *f = threads_finished; f; f = f->next)
    fn(&f->retval, &f->retval + 1, arg);
}

void pargc_threads_after_fork_child(void)
{
  /* Only the forking thread exists in the child.  The other records
   * describe threads of the parent; freeing them is safe because glibc
   * reinitialises malloc's locks before fork handlers run in the child. */
  pargc_lock_init(&pargc_threads_lock_);
  lock_held_here = false;
  struct pargc_thread *me = pargc_threads_self;
  for (struct pargc_thread *t = pargc_threads_list, *next; t; t = next) {
    next = t->next;
    if (t == me)
      continue;
    if (pargc_threads_on_vanished) {
      if (t->stack_lo)
        pargc_threads_on_vanished(t->stack_lo, t->stack_base);
      if (t->tls_lo < t->tls_hi)
        pargc_threads_on_vanished(t->tls_lo, t->tls_hi);
    }
    free(t);
  }
  for (struct pargc_pending_start *p = pargc_threads_pending, *next; p;
       p = next) {
    next = p->next;
    free(p);
  }
  pargc_threads_pending = NULL;
  for (struct finished_thread *f = threads_finished, *next; f; f = next) {
    next = f->next;
    free(f);
  }
  threads_finished = NULL;
  pargc_threads_list = me;
  pargc_threads_n = me ? 1 : 0;
  if (me) {
    me->next = NULL;
    me->tid = pargc_os_thread_id();
    me->signalled = false;
    me->gone = false;
  }
}

/* ---- pthread interposition ------------------------------------------- */

/* Keep `retval` as a root until the thread is joined (see
 * finished_thread).  Called by the exiting thread, still registered. */
static void threads_remember_result(void *retval)
{
  /* Kept for a NULL result too: GC_suspend_thread may name the thread
   * until it is joined. */
  if (!pargc_os_thread_is_joinable())
    return;
  struct finished_thread *f = malloc(sizeof *f);
  if (!f)
    return;
  f->pthread = pthread_self();
  f->serial = pargc_threads_self ? pargc_threads_self->serial : 0;
  f->retval = retval;
  f->client_suspended = false;
  pargc_threads_lock();
  f->next = threads_finished;
  threads_finished = f;
  pargc_threads_unlock();
}

/* The serial number of thread `t` -- pending, registered or finished (0
 * if none of them: not made by pthread_create here).  Taken before
 * joining or detaching `t`: once that returns, the pthread_t may
 * already name a new thread, whose own finished entry
 * threads_forget_result must leave alone. */
static uint64_t threads_serial_of(pthread_t t)
{
  if (lock_held_here)
    return 0;
  uint64_t serial = 0;
  pargc_threads_lock();
  struct pargc_thread *r = pargc_threads_find(t);
  if (r)
    serial = r->serial;
  for (struct pargc_pending_start *ps = pargc_threads_pending; ps && !serial; ps = ps->next)
    if (ps->id_known && pthread_equal(ps->pthread, t))
      serial = ps->serial;
  for (struct finished_thread *f = threads_finished; f && !serial; f = f->next)
    if (pthread_equal(f->pthread, t))
      serial = f->serial;
  pargc_threads_unlock();
  return serial;
}

/* Drop the finished entry of `t` (serial number `serial`, 0 if not
 * known) once it was joined or detached. */
static void threads_forget_result(pthread_t t, uint64_t serial)
{
  /* Joined by the stopper while the world is stopped: GC threads may be
   * walking the list, so leave the entry; threads_link drops it when the
   * pthread_t is reused. */
  if (lock_held_here)
    return;
  pargc_threads_lock();
  for (struct finished_thread **p = &threads_finished; *p; p = &(*p)->next) {
    struct finished_thread *f = *p;
    if (pthread_equal(f->pthread, t) && (!serial || f->serial == serial)) {
      *p = f->next;
      pargc_threads_unlock();
      free(f);
      return;
    }
  }
  pargc_threads_unlock();
}

/* First code of every thread made by pthread_create: register, run the
 * user's routine, unregister.  pthread_exit and cancellation skip the
 * last step; the exit key's destructor does it then. */
static void *threads_trampoline(void *p)
{
  struct pargc_pending_start *ps = p;
  void *(*start)(void *) = ps->start;
  void *volatile arg = ps->arg; /* on our stack before `ps` stops being a root */
  threads_register(NULL, true, ps);
  pending_release(ps);
  pargc_threads_wait_while_suspended(); /* GC_suspend_thread came first */
  void *result = start(arg);
  threads_remember_result(result);
  pargc_threads_unregister_self();
  return result;
}

static int threads_create(pthread_t *thread, const pthread_attr_t *attr,
                          void *(*start)(void *), void *arg);

int pargc_threads_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                         void *arg)
{
  pargc_threads_init();
  /* The caller stays stoppable throughout: malloc, the registry lock and
   * glibc's stack-cache lock in pthread_create may each be held by a
   * thread a stopper has stopped, and a program may call us with every
   * signal blocked (xz does, so that its workers start with that mask;
   * they unblock the stop signals as they register, whatever they
   * inherit). */
  sigset_t old;
  bool restore = pargc_threads_allow_stops(&old);
  int e = threads_create(thread, attr, start, arg);
  if (restore)
    pargc_threads_sigmask(SIG_SETMASK, &old, NULL);
  return e;
}

static int threads_create(pthread_t *thread, const pthread_attr_t *attr,
                          void *(*start)(void *), void *arg)
{
  struct pargc_pending_start *ps = malloc(sizeof *ps);
  if (!ps)
    return EAGAIN;
  ps->start = start;
  ps->arg = arg;
  ps->id_known = false;
  ps->linked = true;
  ps->client_suspended = false;
  ps->refs = 2;
  /* Called by the stopper while the world is stopped (unwise: glibc may
   * need a lock a stopped thread holds), it must not deadlock on our own
   * lock; the thread registers once the world restarts. */
  bool held = lock_held_here;
  if (!held)
    pargc_threads_lock();
  ps->serial = ++threads_serial_last;
  ps->next = pargc_threads_pending;
  pargc_threads_pending = ps;
  if (!held)
    pargc_threads_unlock();
  int e = pargc_real_pthread_create(thread, attr, threads_trampoline, ps);
  if (e == 0) {
    /* The child may not have registered yet: let GC_suspend_thread find
     * it by the id the caller is about to get. */
    if (!held)
      pargc_threads_lock();
    if (ps->linked) {
      ps->pthread = *thread;
      ps->id_known = true;
    }
    if (!held)
      pargc_threads_unlock();
    pending_release(ps);
  } else {
    if (!held)
      pargc_threads_lock();
    for (struct pargc_pending_start **q = &pargc_threads_pending; *q;
         q = &(*q)->next) {
      if (*q == ps) {
        *q = ps->next;
        break;
      }
    }
    if (!held)
      pargc_threads_unlock();
    free(ps);
  }
  return e;
}

struct join_call {
  pthread_t thread;
  void **retval;
  int e;
};

static void *join_call(void *arg)
{
  struct join_call *c = arg;
  c->e = real_pthread_join(c->thread, c->retval);
  return NULL;
}

int pargc_threads_join(pthread_t thread, void **retval)
{
  pargc_threads_resolve_real();
  /* Waiting for a thread touches no heap object, so the wait is a
   * blocking section (GC_do_blocking): collections neither signal the
   * joiner nor wait for its ack.  A main thread that waits for its
   * workers otherwise costs every collection a signal round trip and a
   * wake-up -- for one allocating worker, half the pause on a tiny heap.
   * The value it returns stays a root meanwhile (threads_finished).  The
   * stopper holds the registry lock and joins directly. */
  struct join_call c = {thread, retval, 0};
  uint64_t serial = threads_serial_of(thread);
  if (lock_held_here)
    join_call(&c);
  else
    pargc_threads_do_blocking(join_call, &c);
  int e = c.e;
  if (e == 0)
    threads_forget_result(thread, serial);
  return e;
}

int pargc_threads_detach(pthread_t thread)
{
  pargc_threads_resolve_real();
  uint64_t serial = threads_serial_of(thread);
  int e = real_pthread_detach(thread);
  if (e == 0)
    threads_forget_result(thread, serial);
  return e;
}

void pargc_threads_exit(void *retval)
{
  pargc_threads_resolve_real();
  if (pargc_threads_self)
    threads_remember_result(retval);
  /* The exit key's destructor unregisters the thread. */
  real_pthread_exit(retval);
}

/* The interposed functions: what a program that calls pthread_create
 * itself gets, where libpargc comes before libc in its symbol order. */
GC_API int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                void *(*start)(void *), void *arg)
{
  return pargc_threads_create(thread, attr, start, arg);
}

GC_API int pthread_join(pthread_t thread, void **retval)
{
  return pargc_threads_join(thread, retval);
}

GC_API int pthread_detach(pthread_t thread)
{
  return pargc_threads_detach(thread);
}

GC_API void pthread_exit(void *retval)
{
  pargc_threads_exit(retval);
}

/* ---- signal masks ------------------------------------------------------ */

int pargc_threads_sigmask(int how, const sigset_t *set, sigset_t *old)
{
  /* A thread that blocked the suspend signal could not be stopped: a
   * collection would wait for it forever (a server's main thread that
   * blocks every signal for a sigwait thread, then computes).  It stays
   * open; the restart signal may be blocked (the suspend handler's
   * sigsuspend opens it).  The system call itself: async-signal-safe,
   * and nothing to resolve before the first call (which may come from a
   * signal handler, or before the collector is initialised). */
  return pargc_os_sigmask(how, set, old, pargc_stop_suspend_signal());
}

/* The interposed mask functions: a program that blocks every signal in a
 * thread (or before starting threads, which inherit its mask) still
 * leaves the suspend signal open.  Boehm GC does this only for programs
 * built with GC_THREADS (GC_pthread_sigmask, below). */
GC_API int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
  return pargc_threads_sigmask(how, set, old);
}

GC_API int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
  return pargc_os_errno_result(pargc_threads_sigmask(how, set, old));
}

int pargc_threads_spawn_internal(pthread_t *out, void *(*fn)(void *), void *arg)
{
  pargc_threads_resolve_real();
  /* The new thread inherits a mask with every signal blocked but the
   * faults: a signal sent to the process (SIGCHLD, SIGINT, ...) then goes
   * to one of the program's threads, whose handlers were written to run
   * there -- not to a GC thread that may hold the collector's locks, where
   * a handler that allocates took them again (Crystal's SIGCHLD handler
   * on the concurrent collector's thread, stopping the world).  Boehm
   * GC's marker threads block them too.
   *
   * The suspend and restart signals stay open.  The caller may be a
   * registered thread, and pthread_create waits for glibc's stack-cache
   * lock, which a thread stopped inside its own pthread_create or
   * pthread_join may hold: with the suspend signal blocked, the caller
   * could neither take the lock nor answer the stop, and the stopper
   * would wait forever.  The new thread inherits them open too, which is
   * harmless: they are sent only to registered threads (tgkill), and the
   * handler ignores a thread that is not one. */
  sigset_t all, old;
  sigfillset(&all);
  static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT};
  for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
    sigdelset(&all, faults[i]);
  sigdelset(&all, pargc_stop_suspend_signal());
  sigdelset(&all, pargc_stop_restart_signal());
  pargc_os_sigmask(SIG_BLOCK, &all, &old, 0);
  int rc = pargc_real_pthread_create(out, NULL, fn, arg);
  pargc_os_sigmask(SIG_SETMASK, &old, NULL, 0);
  return rc;
}

struct pargc_thread *pargc_threads_self_handle(void)
{
  return pargc_threads_self;
}

void *pargc_threads_self_stack_base(void)
{
  struct pargc_thread *t = pargc_threads_self;
  char *lo;
  return t ? pargc_thread_stack_bounds(t, &lo) : NULL;
}
