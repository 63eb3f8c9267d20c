/* stop: stopping and restarting the world with signals, the root ranges
 * of stopped threads, and fork.  See threads.h for the contract and
 * threads_internal.h for the locking.
 *
 * The protocol.  `stop_epoch` counts stops and starts: odd while the world
 * is stopped.  The stopper (holding the registry lock) makes the epoch odd,
 * sends the suspend signal to every registered thread but itself and the
 * ones in GC_do_blocking, and waits on `stop_ack_sem` until each has
 * published acked_epoch == epoch.  The suspend handler copies the
 * interrupted registers from its ucontext into the thread's record, notes
 * its stack pointer, acks, and sleeps in sigsuspend with every signal but
 * the restart signal blocked, until the epoch changes.  The restart signal's
 * handler does nothing; it only ends the sigsuspend.
 *
 * Why no wake-up is lost: the restart signal is blocked while the suspend
 * handler runs (sa_mask), and sigsuspend unblocks it atomically, so a
 * restart sent between the handler's epoch check and its sigsuspend stays
 * pending and ends the sigsuspend at once.  A stop that follows a start so
 * closely that a thread is still in the handler is harmless too: the
 * suspend signal is blocked in its own handler, so the new one stays
 * pending; the handler sees the epoch move on, returns, and runs again
 * for the new stop.  The starter therefore does not wait for threads to
 * leave the handler.
 *
 * Both handlers are installed with SA_RESTART, so read(), write(), wait()
 * and the like resume after a stop; calls that Linux never restarts
 * (nanosleep, poll, epoll_wait, sem_timedwait, ...) return EINTR, as they
 * do for any signal, and correct programs retry them.
 *
 * Threads that vanish.  A registered thread unregisters itself (possibly
 * from the exit key's destructor) under the registry lock, so while the
 * stopper holds it every registered thread is alive.  Still, a thread may
 * die without unregistering (a foreign thread that registered and was
 * killed by a library that bypasses pthread's exit path), and pthread_kill
 * on a dead pthread_t is undefined; so signals go through tgkill with the
 * kernel thread id, which answers ESRCH for a dead thread, and the stopper
 * re-checks threads that have not answered every 100 ms.  A dead one is
 * marked `gone`, skipped, and freed at the next start.
 */
#include "config.h"
#include "gc/threads_internal.h"
#include "alloc/hooks.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/report.h"
#include "alloc/thread.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int sig_suspend, sig_restart;
static sem_t stop_ack_sem;
static _Atomic unsigned long stop_epoch;
static pid_t stop_pid;
static sigset_t stop_wait_mask; /* all blocked but the restart signal */
/* Boehm's GC_set_handle_fork value (see the fork section below). */
static int stop_handle_fork = 1;
static bool stop_fork_handled; /* pargc's pthread_atfork handlers are in place */
/* The registered thread that stopped the world, NULL if a GC thread did. */
static struct pargc_thread *stop_owner;

int pargc_stop_suspend_signal(void) { return sig_suspend; }
int pargc_threads_suspend_signal(void) { return sig_suspend; }
int pargc_stop_restart_signal(void) { return sig_restart; }

static int stop_tgkill(pid_t tid, int sig)
{
  return pargc_os_thread_signal(stop_pid, tid, sig);
}

void (*pargc_threads_event_fn)(int event, void *thread);

static void stop_thread_event(int event, const struct pargc_thread *t)
{
  void (*fn)(int, void *) = pargc_threads_event_fn;
  if (fn)
    fn(event, (void *)t->pthread);
}

/* ---- the handlers ----------------------------------------------------- */

/* The interrupted stack pointer, from the kernel's saved context. */
static char *context_sp(const ucontext_t *uc)
{
#if defined(__x86_64__)
  return (char *)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
  return (char *)uc->uc_mcontext.sp;
#else
  (void)uc;
  return NULL;
#endif
}

/* Leaf functions on x86-64 may keep data in the 128 bytes below %rsp. */
#if defined(__x86_64__)
#define STOP_RED_ZONE 128
#else
#define STOP_RED_ZONE 0
#endif

/* Where the calling thread's stack pointer `sp` is off its own stack
 * because it runs a signal handler on its alternate signal stack
 * (sigaltstack, SA_ONSTACK): that stack's top, else NULL.  The system
 * call is made only when sp is off the known stack. */
static char *self_alt_stack_top(const struct pargc_thread *me, const char *sp)
{
  char *lo, *hi = pargc_thread_stack_bounds(me, &lo);
  if (sp < hi && (!lo || sp >= lo))
    return NULL;
  return pargc_os_alt_stack_top();
}

/* GC_suspend_thread's count (struct pargc_thread): odd while suspended. */
static int suspend_count(const struct pargc_thread *t)
{
  return __atomic_load_n(&t->suspend_count, __ATOMIC_ACQUIRE);
}

/* Wait while the thread's suspend_count is still `count`: async-signal-
 * safe, and not a cancellation point. */
static void suspend_wait_change(struct pargc_thread *me, int count)
{
  while (suspend_count(me) == count)
    pargc_os_wait_while(&me->suspend_count, count);
}

/* Wait until the thread is not suspended. */
static void suspend_wait_resumed(struct pargc_thread *me)
{
  for (int c; (c = suspend_count(me)) & 1;)
    suspend_wait_change(me, c);
}

static void suspend_wake(struct pargc_thread *t)
{
  pargc_os_wake_all(&t->suspend_count);
}

/* In the suspend handler: leave the interrupted registers and stack
 * pointer in the thread's record, where the root enumeration reads them. */
static void handler_save_context(struct pargc_thread *me, const ucontext_t *uc)
{
  me->regs = uc->uc_mcontext;
  /* On the thread's own stack the handler's frame lies below the
   * interrupted code's, and [here, base) holds the red zone and the whole
   * signal frame.  On an alternate signal stack only the interrupted sp
   * tells where the thread's stack ends. */
  char *here = pargc_threads_current_sp();
  char *sp = context_sp(uc);
  if (sp)
    sp -= STOP_RED_ZONE;
  /* Without a known low end, trust `here` only when it lies just below
   * sp, where the kernel puts a signal frame (a few KiB). */
  char *lo, *hi = pargc_thread_stack_bounds(me, &lo);
  bool here_on_stack =
      here < hi && (lo ? here >= lo : (!sp || (here <= sp && (size_t)(sp - here) < (256u << 10))));
  if (here_on_stack && (!sp || here < sp))
    sp = here;
  if (!sp)
    sp = here;
  me->stop_sp = sp;
  me->stop_alt_hi = self_alt_stack_top(me, sp);
}

/* A stop: ack, and sleep until the epoch moves on. */
static void handler_stop(struct pargc_thread *me, const ucontext_t *uc,
                         unsigned long epoch)
{
  handler_save_context(me, uc);
  __atomic_store_n(&me->acked_epoch, epoch, __ATOMIC_RELEASE);
  sem_post(&stop_ack_sem);
  /* Not glibc's sigsuspend: that one is a cancellation point, and a
   * pending pthread_cancel would unwind the thread out of this handler
   * with every signal still blocked. */
  while (__atomic_load_n(&stop_epoch, __ATOMIC_ACQUIRE) == epoch)
    pargc_os_sigsuspend(&stop_wait_mask);
}

/* GC_suspend_thread: park until GC_resume_thread changes the count.
 * Stops that begin meanwhile find client_parked set and scan the thread
 * as it is here; they send it nothing, so the wait is on the count alone:
 * for a change, not for an even value, so that a resume followed at once
 * by a new suspension still lets the thread out to take the new signal
 * (pending: the handler blocks it). */
static void handler_park(struct pargc_thread *me, const ucontext_t *uc, int count)
{
  handler_save_context(me, uc);
  __atomic_store_n(&me->client_parked, true, __ATOMIC_RELEASE);
  sem_post(&stop_ack_sem);
  suspend_wait_change(me, count);
}

static bool stop_chain(int which, int sig, siginfo_t *info, void *ctx);

static void stop_suspend_handler(int sig, siginfo_t *info, void *ctx)
{
  if (stop_chain(0, sig, info, ctx))
    return;
  /* Inside a mark section (alloc/pagemap.h): stopping here could leave
   * the section's write for after the bitmap it read was reused.  Note
   * the signal; the section's end takes it (stop_take_put_off). */
  if (pargc_mark_section_depth) {
    pargc_mark_section_stop = 1;
    return;
  }
  int saved_errno = errno;
  struct pargc_thread *me = pargc_threads_self;
  unsigned long epoch = __atomic_load_n(&stop_epoch, __ATOMIC_ACQUIRE);
  int count = me ? suspend_count(me) : 0;
  /* A stop and a suspension never overlap: both are sent with the
   * registry lock held, and each sender waits for its answer before
   * releasing it.  Anything else is a stray signal, or a second one for
   * the same stop: nothing to do. */
  if (me && (epoch & 1) &&
      __atomic_load_n(&me->acked_epoch, __ATOMIC_RELAXED) != epoch)
    handler_stop(me, ctx, epoch);
  else if (me && (count & 1) && !__atomic_load_n(&me->client_parked, __ATOMIC_RELAXED))
    handler_park(me, ctx, count);
  errno = saved_errno;
}

/* A stop signal put off by a mark section: send it again, to this
 * thread, now that the section has ended (pargc_mark_section_stop_hook).
 * The handler then stops or parks the thread as it would have; had the
 * stop or the suspension been answered meanwhile (a resent signal), it
 * finds nothing to do. */
static void stop_take_put_off(void)
{
  int saved_errno = errno;
  stop_tgkill(pargc_os_thread_id(), sig_suspend);
  errno = saved_errno;
}

static void stop_restart_handler(int sig, siginfo_t *info, void *ctx)
{
  /* Its delivery ends the sigsuspend above; nothing else to do. */
  stop_chain(1, sig, info, ctx);
}

/* ---- the program's own handlers of the two signals --------------------
 *
 * A program may install a handler of its own for one of the two signals
 * after pargc did: xz catches SIGXCPU (the default restart signal) to
 * clean up before it dies of a CPU time limit.  The next restart then
 * ran xz's handler, which took it for that limit and killed the process.
 * So every stop first checks that pargc's handlers are still installed
 * (stop_keep_handlers); one that was replaced is put back (a line says so
 * once under GC_PRINT_STATS), and the program's handler is kept here and
 * called for the signals pargc did not send itself: pargc sends them with
 * tgkill, so they arrive as SI_TKILL from this process, where a CPU limit
 * arrives from the kernel and a kill(1) from another process.  A
 * replacement made while the world is stopped is found at the next
 * stop. */
static struct sigaction stop_own_sa[2];        /* 0: suspend, 1: restart */
static struct sigaction stop_program_sa[2];    /* the handler to chain to */
static _Atomic bool stop_program_set[2];

/* Call the program's handler for a signal pargc did not send.  True if
 * the signal was the program's (the caller then does nothing more). */
static bool stop_chain(int which, int sig, siginfo_t *info, void *ctx)
{
  if (!atomic_load_explicit(&stop_program_set[which], memory_order_acquire) ||
      (info && info->si_code == SI_TKILL && info->si_pid == stop_pid))
    return false;
  const struct sigaction *sa = &stop_program_sa[which];
  if (sa->sa_flags & SA_SIGINFO) {
    if (sa->sa_sigaction)
      sa->sa_sigaction(sig, info, ctx);
  } else if (sa->sa_handler != SIG_IGN && sa->sa_handler != SIG_DFL) {
    sa->sa_handler(sig);
  }
  /* SIG_IGN, and SIG_DFL set after pargc's handler: ignored, as pargc's
   * handler ignored any signal it did not send before. */
  return true;
}

static bool stop_same_handler(const struct sigaction *a, const struct sigaction *b)
{
  return (a->sa_flags & SA_SIGINFO) == (b->sa_flags & SA_SIGINFO) &&
         ((a->sa_flags & SA_SIGINFO) ? a->sa_sigaction == b->sa_sigaction
                                     : a->sa_handler == b->sa_handler);
}

/* Put pargc's handlers back where the program replaced them.  Called with
 * the registry lock held, before any signal of a stop or a suspension is
 * sent. */
static void stop_keep_handlers(void)
{
  const int sigs[2] = {sig_suspend, sig_restart};
  static const char *const use[2] = {"stop", "restart"};
  static const char *const setting[2] = {"PARGC_SIG_SUSPEND", "PARGC_SIG_RESTART"};
  for (int w = 0; w < 2; w++) {
    struct sigaction cur;
    if (sigaction(sigs[w], NULL, &cur) || stop_same_handler(&cur, &stop_own_sa[w]))
      continue;
    bool first = !atomic_load_explicit(&stop_program_set[w], memory_order_relaxed);
    /* Published before pargc's handler is back: a foreign signal that
     * arrives from then on reaches the program's handler. */
    stop_program_sa[w] = cur;
    atomic_store_explicit(&stop_program_set[w], true, memory_order_release);
    if (sigaction(sigs[w], &stop_own_sa[w], NULL))
      pargc_fatal("cannot reinstall the handler of signal %d", sigs[w]);
    if (first && pargc_opt.print_stats)
      pargc_warn("the program installed a handler for signal %d, which pargc "
                 "uses to %s threads: pargc's is back, and the program's runs "
                 "for the signals pargc does not send (%s moves pargc's)",
                 sigs[w], use[w], setting[w]);
  }
}

/* ---- init ------------------------------------------------------------- */

static void stop_fork_prepare(void);
static void stop_fork_parent(void);
static void stop_fork_child(void);

static bool signal_usable(int s)
{
  return s > 0 && s < NSIG && s != SIGKILL && s != SIGSTOP &&
         s != SIGSEGV && s != SIGBUS && s != SIGILL && s != SIGFPE &&
         s != SIGCHLD && s != SIGINT && s != SIGABRT;
}

/* Install the handler of the suspend or the restart signal (`name`); one
 * the program had there is replaced, with a warning naming the setting
 * that moves pargc elsewhere. */
static void stop_install_handler(int sig, const struct sigaction *sa, const char *name,
                                 const char *verb, const char *setting)
{
  struct sigaction old;
  if (sigaction(sig, sa, &old))
    pargc_fatal("cannot install the %s handler for signal %d", name, sig);
  if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)
    pargc_warn("signal %d had a handler; pargc uses it to %s threads "
               "(set %s to move it)", sig, verb, setting);
}

void pargc_stop_init(void)
{
  sig_suspend = (int)pargc_opt.sig_suspend;
  sig_restart = (int)pargc_opt.sig_restart;
  if (!signal_usable(sig_suspend)) {
    pargc_warn("PARGC_SIG_SUSPEND=%d is not usable; using %d", sig_suspend,
               SIGPWR);
    sig_suspend = SIGPWR;
  }
  if (!signal_usable(sig_restart) || sig_restart == sig_suspend) {
    pargc_warn("PARGC_SIG_RESTART=%d is not usable; using %d", sig_restart,
               sig_suspend == SIGXCPU ? SIGPWR : SIGXCPU);
    sig_restart = sig_suspend == SIGXCPU ? SIGPWR : SIGXCPU;
  }
  stop_pid = getpid();
  if (sem_init(&stop_ack_sem, 0, 0))
    pargc_fatal("sem_init failed");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  /* While a thread is suspended, every asynchronous signal waits: a user
   * handler must not run mutator code in a stopped thread.  Faults stay
   * deliverable so that a bug shows up as a crash, not a hang. */
  sigfillset(&sa.sa_mask);
  sigdelset(&sa.sa_mask, SIGSEGV);
  sigdelset(&sa.sa_mask, SIGBUS);
  sigdelset(&sa.sa_mask, SIGILL);
  sigdelset(&sa.sa_mask, SIGFPE);
  sigdelset(&sa.sa_mask, SIGTRAP);
  sigdelset(&sa.sa_mask, SIGABRT);
  /* sigfillset leaves out glibc's internal signals 32 (cancellation) and
   * 33 (setxid), and sigaddset refuses them.  A thread stopped inside a
   * cancellable call (read, say) runs with asynchronous cancellation on;
   * a pthread_cancel arriving then would unwind it straight out of this
   * handler, every signal still blocked, while the stopper believes it
   * stopped.  So they are set in the kernel mask directly; a setuid from
   * another thread simply waits for the restart. */
  sa.sa_mask.__val[0] |= (1UL << (32 - 1)) | (1UL << (33 - 1));
  stop_wait_mask = sa.sa_mask;
  sigdelset(&stop_wait_mask, sig_restart);
  sa.sa_flags = SA_RESTART | SA_SIGINFO;
  sa.sa_sigaction = stop_suspend_handler;
  pargc_mark_section_stop_hook = stop_take_put_off;
  stop_own_sa[0] = sa;
  stop_install_handler(sig_suspend, &sa, "suspend", "stop", "PARGC_SIG_SUSPEND");
  sa.sa_sigaction = stop_restart_handler;
  stop_own_sa[1] = sa;
  stop_install_handler(sig_restart, &sa, "restart", "restart", "PARGC_SIG_RESTART");
  stop_fork_handled = stop_handle_fork != 0;
  pargc_threads_atfork(stop_fork_prepare, stop_fork_parent, stop_fork_child);
}

/* Unblock the suspend and restart signals in the calling thread; *old
 * (if given) gets its mask before.  False if the call failed. */
static bool unblock_stop_signals(sigset_t *old)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig_suspend);
  sigaddset(&set, sig_restart);
  return pargc_os_sigmask(SIG_UNBLOCK, &set, old, 0) == 0;
}

void pargc_stop_unblock_signals(void)
{
  /* A thread inherits its creator's mask; a program that blocks all
   * signals before starting workers would otherwise hang the first stop. */
  unblock_stop_signals(NULL);
}

bool pargc_threads_allow_stops(sigset_t *old)
{
  if (!pargc_threads_self || !unblock_stop_signals(old))
    return false;
  return sigismember(old, sig_suspend) == 1 || sigismember(old, sig_restart) == 1;
}

/* ---- stop / start ----------------------------------------------------- */

/* How long the stopper busy-waits for acks before it sleeps. */
#define STOP_ACK_SPIN_NS 50000

/* The CLOCK_MONOTONIC time `ns` (under a second) from now: a deadline
 * for sem_clockwait. */
static struct timespec stop_deadline(long ns)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_nsec += ns;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  return ts;
}

static bool stop_all_acked(unsigned long epoch)
{
  for (struct pargc_thread *t = pargc_threads_list; t; t = t->next) {
    if (t->signalled &&
        __atomic_load_n(&t->acked_epoch, __ATOMIC_ACQUIRE) != epoch)
      return false;
  }
  return true;
}

/* A thread that has not acked after 100 ms: is it still there? */
static void stop_check_stragglers(unsigned long epoch, int rounds)
{
  for (struct pargc_thread *t = pargc_threads_list; t; t = t->next) {
    if (!t->signalled ||
        __atomic_load_n(&t->acked_epoch, __ATOMIC_ACQUIRE) == epoch)
      continue;
    if (stop_tgkill(t->tid, 0) != 0 && errno == ESRCH) {
      t->signalled = false;
      t->gone = true;
    } else if (rounds == 100) {
      /* 10 s: the signal is blocked, or the thread is stuck in a way no
       * signal reaches (vfork child, ptrace stop).  Say so once; keep
       * waiting, since scanning a running thread would be unsound.
       * pargc_warn writes with one write(2) call (no stdio lock). */
      pargc_warn("thread %d has not answered the suspend signal %d for 10 s "
                 "(is it blocked in that thread?)",
                 (int)t->tid, sig_suspend);
    }
  }
}

void pargc_threads_stop_world(void)
{
  pargc_threads_init();
  pargc_assert(!pargc_world_stopped_by_me); /* not reentrant */
  pargc_threads_lock();
  stop_keep_handlers();
  pargc_world_stopped_by_me = true; /* until pargc_threads_start_world */
  while (sem_trywait(&stop_ack_sem) == 0)
    ; /* late acks of threads declared gone */
  unsigned long epoch = __atomic_add_fetch(&stop_epoch, 1, __ATOMIC_ACQ_REL);
  pargc_assert((epoch & 1) == 1);
  struct pargc_thread *me = pargc_threads_self;
  stop_owner = me;
  if (me) {
    /* GC threads may walk the roots for us while we wait for them: leave
     * our registers and stack pointer where they can find them, as a
     * stopped thread would.  Our callers' frames lie above stop_sp; the
     * values still in callee-saved registers are in regs. */
    ucontext_t uc;
    getcontext(&uc);
    me->regs = uc.uc_mcontext;
    me->stop_sp = pargc_threads_current_sp();
    me->stop_alt_hi = self_alt_stack_top(me, me->stop_sp);
  }
  int sent = 0;
  for (struct pargc_thread *t = pargc_threads_list; t; t = t->next) {
    t->signalled = false;
    /* A thread GC_suspend_thread parked is stopped already, its context
     * saved; it stays parked after the restart. */
    if (t == me || t->blocked || t->gone ||
        __atomic_load_n(&t->client_parked, __ATOMIC_ACQUIRE))
      continue;
    __atomic_store_n(&t->signalled, true, __ATOMIC_RELEASE);
    if (stop_tgkill(t->tid, sig_suspend) == 0) {
      sent++;
      stop_thread_event(PARGC_THREAD_EV_SUSPENDED, t);
    } else if (errno == ESRCH) {
      t->signalled = false;
      t->gone = true;
    } else {
      pargc_fatal("tgkill(%d, %d) failed: errno %d", (int)t->tid, sig_suspend,
                  errno);
    }
  }
  /* The signalled threads were mostly running on other cores and ack
   * within microseconds: spin for their acks a while before sleeping on
   * the semaphore, since waking this thread from it (a futex wake, a
   * reschedule) took tens of microseconds on a virtual machine -- a
   * tenth of the wall time of a 2-thread program collecting a tiny heap
   * 2000 times a second.  Posts the spin made unnecessary are drained at
   * the next stop (above); a late one only costs that stop a loop turn,
   * since the loop below ends on the acks themselves. */
  uint64_t spin_end = pargc_os_now_ns() + STOP_ACK_SPIN_NS;
  while (sent > 0 && !stop_all_acked(epoch) && pargc_os_now_ns() < spin_end)
    pargc_os_cpu_relax();
  if (stop_all_acked(epoch))
    sent = 0;
  /* One post per ack; after `sent` of them every ack is in, unless a
   * thread died.  The timeout only serves to notice that. */
  int rounds = 0;
  while (sent > 0 || !stop_all_acked(epoch)) {
    struct timespec ts = stop_deadline(100 * 1000 * 1000);
    if (sem_clockwait(&stop_ack_sem, CLOCK_MONOTONIC, &ts) == 0) {
      if (sent > 0)
        sent--;
      continue;
    }
    if (errno == EINTR)
      continue;
    if (stop_all_acked(epoch))
      break;
    stop_check_stragglers(epoch, ++rounds);
  }
  pargc_report_defer(); /* until pargc_threads_start_world */
}

bool pargc_threads_world_stopped(void)
{
  return __atomic_load_n(&stop_epoch, __ATOMIC_ACQUIRE) & 1;
}

unsigned long pargc_threads_stop_epoch(void)
{
  return __atomic_load_n(&stop_epoch, __ATOMIC_ACQUIRE);
}

void pargc_threads_start_world(void)
{
  /* Only the stopper restarts, still holding the registry lock. */
  pargc_assert(pargc_world_stopped_by_me && pargc_threads_lock_held());
  stop_owner = NULL;
  unsigned long epoch = __atomic_add_fetch(&stop_epoch, 1, __ATOMIC_ACQ_REL);
  pargc_assert((epoch & 1) == 0);
  (void)epoch;
  struct pargc_thread *dead = NULL;
  for (struct pargc_thread **p = &pargc_threads_list; *p;) {
    struct pargc_thread *t = *p;
    if (t->signalled) {
      t->signalled = false;
      /* ESRCH: it died meanwhile; fine */
      if (stop_tgkill(t->tid, sig_restart) == 0)
        stop_thread_event(PARGC_THREAD_EV_UNSUSPENDED, t);
    }
    if (t->gone) {
      *p = t->next;
      pargc_threads_n--;
      t->next = dead;
      dead = t;
    } else {
      p = &t->next;
    }
  }
  pargc_world_stopped_by_me = false;
  pargc_threads_unlock();
  while (dead) {
    struct pargc_thread *next = dead->next;
    free(dead);
    dead = next;
  }
  pargc_report_resume();
}

/* ---- taking the lock with signals blocked ------------------------------ */

/* A thread may reach the exit key's destructor with the suspend signal
 * blocked: the program blocked it, or a cancellation unwound the thread
 * out of the suspend handler (whose mask blocks everything) in the window
 * before the kernel applied that mask.  Such a thread cannot receive the
 * suspend signal.  If it waited in
 * pargc_lock while a stopper held the registry lock, the stopper
 * would wait for its ack forever.  Such a thread takes the lock with
 * trylock instead and, when it finds itself signalled for a stop, does
 * the handler's work itself: saves its registers on its stack, publishes
 * its stack pointer, acks, and waits for the epoch to change (polling:
 * no restart signal can reach it).  Rare, and never on a fast path. */
static PARGC_NOINLINE void stop_self(struct pargc_thread *me, bool park, unsigned long epoch,
                                     int count)
{
  __builtin_unwind_init();
  jmp_buf regs;
  setjmp(regs);
  memset(&me->regs, 0, sizeof me->regs);
  me->stop_sp = pargc_threads_current_sp();
  me->stop_alt_hi = self_alt_stack_top(me, me->stop_sp);
  if (park) {
    /* GC_suspend_thread's caller holds the registry lock and waits for
     * client_parked; the thread waits until it is resumed. */
    __atomic_store_n(&me->client_parked, true, __ATOMIC_RELEASE);
    sem_post(&stop_ack_sem);
    suspend_wait_change(me, count);
  } else {
    __atomic_store_n(&me->acked_epoch, epoch, __ATOMIC_RELEASE);
    sem_post(&stop_ack_sem);
    while (__atomic_load_n(&stop_epoch, __ATOMIC_ACQUIRE) == epoch)
      pargc_os_sleep_ns(50 * 1000); /* not a cancellation point */
  }
  __asm__ volatile("" : : "r"(&regs) : "memory");
}

void pargc_stop_lock_as(struct pargc_thread *me)
{
  sigset_t cur;
  pargc_os_sigmask(SIG_BLOCK, NULL, &cur, 0);
  if (!me || !sigismember(&cur, sig_suspend)) {
    pargc_lock(&pargc_threads_lock_); /* the signal reaches us while we wait */
    pargc_threads_note_locked();
    return;
  }
  while (!pargc_trylock(&pargc_threads_lock_)) {
    unsigned long e = __atomic_load_n(&stop_epoch, __ATOMIC_ACQUIRE);
    int count = suspend_count(me);
    if ((e & 1) && __atomic_load_n(&me->signalled, __ATOMIC_ACQUIRE) &&
        __atomic_load_n(&me->acked_epoch, __ATOMIC_ACQUIRE) != e)
      stop_self(me, false, e, 0);
    else if ((count & 1) && !__atomic_load_n(&me->client_parked, __ATOMIC_RELAXED) &&
             !me->blocked)
      stop_self(me, true, 0, count); /* a suspender waits for us */
    else
      sched_yield();
  }
  pargc_threads_note_locked();
}

/* ---- root ranges ------------------------------------------------------ */

void pargc_threads_each_finished(pargc_range_fn fn, void *arg);

/* Round down to a word: scanned ranges start on one. */
static char *word_floor(char *p)
{
  return (char *)((uintptr_t)p & ~(uintptr_t)(sizeof(void *) - 1));
}

/* The most of a stack pargc does not know that it scans: the frames of
 * a coroutine, not a whole arena it was carved from. */
#define STOP_UNKNOWN_STACK_MAX ((size_t)64 << 20)

/* The program keeps t's stack base itself, for the fibers it runs: the
 * main thread with GC_stackbottom written, or any thread given
 * GC_set_stackbottom. */
static bool base_kept_by_program(const struct pargc_thread *t)
{
  char *const volatile *var = pargc_threads_main_base;
  return t->base_given || (t->is_main && var && *var && *var != t->stack_base);
}

/* The top of the stack that holds sp, which is not t's known one: the
 * end of the heap object (a coroutine stack the program allocated from
 * the collector) or of the memory mapping that holds it; NULL if it is
 * neither or too far. */
static char *unknown_stack_top(char *sp)
{
  char *top;
  struct pargc_page *pg;
  if ((uintptr_t)sp - pargc_region.base < pargc_region.reserve) {
    int32_t i = pargc_pagemap_object((uintptr_t)sp, &pg);
    top = i < 0 ? NULL : (char *)pargc_page_object_addr(pg, (uint32_t)i) + pg->size;
  } else {
    top = pargc_os_mapping_top(sp);
  }
  return top && (size_t)(top - sp) <= STOP_UNKNOWN_STACK_MAX ? top : NULL;
}

static void report_stack(pargc_range_fn fn, void *arg,
                         const struct pargc_thread *t, char *sp)
{
  char *lo, *hi = pargc_thread_stack_bounds(t, &lo);
  if (!sp)
    return;
  if (sp >= hi || (lo && sp < lo)) {
    /* Running on a stack we do not know (a coroutine; an alternate
     * signal stack is handled by report_alt_stack), or stopped between
     * a fiber switch's two steps (Crystal writes the new fiber's base
     * into GC_stackbottom, then switches): scanning up to the base
     * would cross unmapped memory.  Its frames lie from sp up to the
     * end of the stack's memory; its registers are scanned anyway. */
    char *top = unknown_stack_top(sp);
    if (top) {
      if (!base_kept_by_program(t))
        pargc_warn_once("thread %d runs on a stack pargc does not know (a coroutine?): scanned "
                        "up to the end of its memory; give the stack's base with "
                        "GC_set_stackbottom",
                        (int)t->tid);
      fn(word_floor(sp), top, arg);
      return;
    }
    pargc_warn_once("thread %d runs on a stack pargc does not know (a coroutine?): only its "
                    "registers are scanned; give the stack's base with GC_set_stackbottom",
                    (int)t->tid);
    return;
  }
  if (base_kept_by_program(t)) {
    /* The same moment with the next fiber's stack above this one:
     * [sp, hi) runs from this stack into that one, over the guard page
     * below it (fault).  Scan only as far as the memory holding sp goes
     * (its frames are below its end); the other fiber is the program's
     * to push. */
    char *top = unknown_stack_top(sp);
    if (top && top < hi)
      hi = top;
  }
  sp = word_floor(sp);
  fn(sp, hi, arg);
}

/* A thread stopped on its alternate signal stack: [sp, alt_hi) holds the
 * handlers' frames, and the kernel's signal frame near its top the
 * registers of the code the signal interrupted, its stack pointer among
 * them.  That word's place in the frame is the kernel's business, so take
 * the lowest word of [sp, alt_hi) that points into the thread's own
 * stack: it is no higher than the interrupted stack pointer, and it is
 * memory the stack has used.  From there (less a red zone) up to the base
 * is the interrupted code's part, scanned as for any stopped thread. */
static void report_alt_stack(pargc_range_fn fn, void *arg, const struct pargc_thread *t,
                             char *sp, char *alt_hi)
{
  sp = word_floor(sp);
  fn(sp, alt_hi, arg);
  char *lo, *hi = pargc_thread_stack_bounds(t, &lo), *low = NULL;
  if (!lo) {
    pargc_warn_once("thread %d was stopped on its alternate signal stack, and the low end "
                    "of its own stack is unknown: that stack is not scanned",
                    (int)t->tid);
    return;
  }
  for (char *const *w = (char *const *)sp; w < (char *const *)alt_hi; w++)
    if (*w >= lo && *w < hi && (!low || *w < low))
      low = *w;
  if (!low)
    return; /* it came onto the alternate stack from another one */
  low = (size_t)(low - lo) > STOP_RED_ZONE ? low - STOP_RED_ZONE : lo;
  report_stack(fn, arg, t, low);
}

/* The stack of a thread stopped at sp, on its own stack or (alt_hi set)
 * its alternate signal stack. */
static void report_stopped_stack(pargc_range_fn fn, void *arg, const struct pargc_thread *t,
                                 char *sp, char *alt_hi)
{
  if (alt_hi && sp && sp < alt_hi)
    report_alt_stack(fn, arg, t, sp, alt_hi);
  else
    report_stack(fn, arg, t, sp);
}

static char *stop_self_scan_start;

void (*pargc_threads_sp_corrector)(void **sp, void *pthread_id);

/* The stack pointer t's stack is scanned from, as the program's corrector
 * (if any) leaves it. */
static char *corrected_sp(const struct pargc_thread *t, char *sp)
{
  void (*corrector)(void **, void *) = pargc_threads_sp_corrector;
  if (corrector && sp) {
    void *p = sp;
    corrector(&p, (void *)t->pthread);
    sp = p;
  }
  return sp;
}

void pargc_threads_set_self_scan_start(void *sp)
{
  stop_self_scan_start = sp;
}

PARGC_NOINLINE void pargc_threads_each_root_range(pargc_range_fn fn, pargc_range_fn stack_fn,
                                                  void *arg)
{
  /* The caller's callee-saved registers: __builtin_unwind_init makes this
   * function save all of them in its frame, and the jmp_buf holds them
   * again; both lie above `sp`, inside the caller's scanned stack. */
  __builtin_unwind_init();
  jmp_buf regs;
  setjmp(regs);
  char *sp = pargc_threads_current_sp();
  struct pargc_thread *me = pargc_threads_self;
  unsigned long epoch = __atomic_load_n(&stop_epoch, __ATOMIC_ACQUIRE);
  for (struct pargc_thread *t = pargc_threads_list; t; t = t->next) {
    if (t->gone)
      continue;
    if (t == me) {
      char *start = stop_self_scan_start ? stop_self_scan_start : sp;
      report_stopped_stack(stack_fn, arg, t, corrected_sp(t, start),
                           self_alt_stack_top(t, start));
    } else if (t == stop_owner) {
      stack_fn(&t->regs, &t->regs + 1, arg);
      report_stopped_stack(stack_fn, arg, t, corrected_sp(t, t->stop_sp), t->stop_alt_hi);
    } else if (__atomic_load_n(&t->client_parked, __ATOMIC_ACQUIRE) ||
               (t->signalled &&
                __atomic_load_n(&t->acked_epoch, __ATOMIC_ACQUIRE) == epoch)) {
      stack_fn(&t->regs, &t->regs + 1, arg);
      report_stopped_stack(stack_fn, arg, t, corrected_sp(t, t->stop_sp), t->stop_alt_hi);
    } else if (t->blocked) {
      report_stack(stack_fn, arg, t, corrected_sp(t, t->blocked_sp));
    } else {
      pargc_fatal("root ranges asked for while thread %d runs "
                  "(is the world stopped?)", (int)t->tid);
    }
    if (t->tls_lo < t->tls_hi)
      fn(t->tls_lo, t->tls_hi, arg);
  }
  for (struct pargc_pending_start *ps = pargc_threads_pending; ps;
       ps = ps->next)
    fn(&ps->arg, &ps->arg + 1, arg);
  pargc_threads_each_finished(fn, arg);
  __asm__ volatile("" : : "r"(&regs) : "memory"); /* keep `regs` live */
}

/* ---- GC_do_blocking ----------------------------------------------------- */

/* What leaving a blocking section restores. */
struct blocking_state {
  struct pargc_thread *me;
  bool was_blocked;
  char *was_sp;
};

/* Registry lock held by the calling thread `me`, which is blocked and
 * about to become active: GC_suspend_thread only marked it (Boehm GC
 * too), so it stops here, still blocked, until it is resumed. */
static void blocking_wait_resumed(struct pargc_thread *me)
{
  while (suspend_count(me) & 1) {
    pargc_threads_unlock();
    suspend_wait_resumed(me);
    pargc_threads_lock();
  }
}

static void blocking_leave(void *arg)
{
  struct blocking_state *b = arg;
  /* Waits here if the world is stopped: the lock is the stopper's. */
  pargc_threads_lock();
  if (!b->was_blocked)
    blocking_wait_resumed(b->me);
  b->me->blocked = b->was_blocked;
  b->me->blocked_sp = b->was_sp;
  pargc_threads_unlock();
  if (!b->was_blocked)
    pargc_tctx_unpark(); /* the page lists are the thread's own again */
}

void *pargc_threads_do_blocking(void *(*fn)(void *), void *arg)
{
  struct pargc_thread *me = pargc_threads_self;
  if (!me)
    return fn(arg);
  __builtin_unwind_init();
  jmp_buf regs;
  setjmp(regs);
  pargc_threads_lock();
  struct blocking_state b = {me, me->blocked, me->blocked_sp};
  if (!b.was_blocked) {
    me->blocked_sp = pargc_threads_current_sp();
    me->blocked = true;
  }
  pargc_threads_unlock();
  if (!b.was_blocked)
    pargc_tctx_park(); /* other threads may adopt its partly free pages */
  void *result;
  /* fn may be cancelled (pthread_join, read, ... are cancellation
   * points): the unwinding leaves the blocking section on its way out,
   * or the thread would run its cleanup handlers neither stopped nor
   * scanned below blocked_sp. */
  pthread_cleanup_push(blocking_leave, &b);
  result = fn(arg);
  pthread_cleanup_pop(1);
  __asm__ volatile("" : : "r"(&regs) : "memory");
  return result;
}

void *pargc_threads_call_with_gc_active(void *(*fn)(void *), void *arg)
{
  struct pargc_thread *me = pargc_threads_self;
  if (!me || !me->blocked)
    return fn(arg);
  /* Active again inside a blocking section: the whole stack is scanned,
   * the blocked part included (conservative, and simple). */
  pargc_threads_lock();
  blocking_wait_resumed(me);
  char *was_sp = me->blocked_sp;
  me->blocked = false;
  pargc_threads_unlock();
  pargc_tctx_unpark();
  void *result = fn(arg);
  pargc_tctx_park();
  __builtin_unwind_init();
  jmp_buf regs;
  setjmp(regs);
  pargc_threads_lock();
  me->blocked = true;
  me->blocked_sp = was_sp < pargc_threads_current_sp() ? was_sp
                                                       : pargc_threads_current_sp();
  pargc_threads_unlock();
  __asm__ volatile("" : : "r"(&regs) : "memory");
  return result;
}

/* ---- GC_suspend_thread ---------------------------------------------------- */

/* Javaxfc.h's suspension reuses the stop's signal and handler: the
 * suspender makes the thread's suspend_count odd and sends the suspend
 * signal; the handler (outside a stop) saves the context as for a stop,
 * sets client_parked, acks on the stop's semaphore and waits for the
 * count to change.  A stop skips a parked thread and scans it from its
 * saved context; the restart leaves it parked.  GC_resume_thread makes
 * the count even, clears client_parked and wakes the thread.  Both are
 * done with the registry lock held, which a stop holds from its first
 * signal to its restart: a suspension never starts or ends during a stop
 * (a resume waits for the restart), and the handler never has both to
 * serve.  Leftover posts on the semaphore are drained by the next stop. */

/* How long the suspender keeps the collector's and allocator's locks
 * while it waits for the thread to park.  A thread that can take the
 * signal takes it before running another instruction of its own; one
 * that has not answered by then has the signal blocked (an exiting
 * thread handing its pages over) and may be waiting for one of those
 * locks. */
#define SUSPEND_HOLD_NS (10 * 1000 * 1000)

/* Registry lock held; t was sent the suspend signal.  Wait for it to
 * park, calling *release (once) after SUSPEND_HOLD_NS; a thread that
 * vanished (exited unregistered) is dropped. */
static void suspend_wait_parked(struct pargc_thread *t, void (**release)(void))
{
  uint64_t start = pargc_os_now_ns();
  int rounds = 0;
  while (!__atomic_load_n(&t->client_parked, __ATOMIC_ACQUIRE)) {
    struct timespec ts = stop_deadline(10 * 1000 * 1000);
    if (sem_clockwait(&stop_ack_sem, CLOCK_MONOTONIC, &ts) == 0 || errno == EINTR)
      continue;
    if (*release && pargc_os_now_ns() - start >= SUSPEND_HOLD_NS) {
      (*release)();
      *release = NULL;
    }
    if (++rounds % 10 != 0)
      continue;
    if (stop_tgkill(t->tid, 0) != 0 && errno == ESRCH) {
      t->gone = true; /* freed by the next stop's restart */
      return;
    }
    if (rounds == 1000)
      pargc_warn("thread %d has not answered GC_suspend_thread's signal %d for 10 s "
                 "(is it blocked in that thread?)", (int)t->tid, sig_suspend);
  }
}

/* Take the registry lock and find `id`: its record if it is registered
 * (*flag NULL), else the suspension flag of a thread not registered yet
 * or finished and not joined (NULL too if there is none). */
static struct pargc_thread *suspend_target(pthread_t id, bool **flag)
{
  pargc_threads_init();
  pargc_threads_lock();
  struct pargc_thread *t = pargc_threads_find(id);
  *flag = t ? NULL : pargc_threads_unregistered_flag(id);
  return t;
}

void pargc_threads_suspend(pthread_t id, void (*release)(void))
{
  bool *flag;
  struct pargc_thread *t = suspend_target(id, &flag);
  bool wait_self = false;
  if (flag) {
    *flag = true; /* a new thread stops as it registers */
  } else if (t && !(suspend_count(t) & 1)) {
    __atomic_store_n(&t->suspend_count, suspend_count(t) + 1, __ATOMIC_RELEASE);
    if (t == pargc_threads_self) {
      wait_self = true;
    } else if (!t->blocked) {
      stop_keep_handlers();
      if (stop_tgkill(t->tid, sig_suspend) == 0)
        suspend_wait_parked(t, &release);
      else
        t->gone = true; /* exited unregistered */
    }
  }
  pargc_threads_unlock();
  if (release)
    release();
  if (wait_self)
    pargc_threads_wait_while_suspended();
}

void pargc_threads_resume(pthread_t id)
{
  bool *flag;
  struct pargc_thread *t = suspend_target(id, &flag);
  if (flag) {
    *flag = false;
  } else if (t && (suspend_count(t) & 1)) {
    /* Not parked any more for the next stop, which signals it as usual,
     * nor for the next suspension; a thread still in the handler takes
     * either signal on its way out. */
    __atomic_store_n(&t->client_parked, false, __ATOMIC_RELAXED);
    __atomic_store_n(&t->suspend_count, suspend_count(t) + 1, __ATOMIC_RELEASE);
    suspend_wake(t);
  }
  pargc_threads_unlock();
}

bool pargc_threads_is_suspended(pthread_t id)
{
  bool *flag;
  struct pargc_thread *t = suspend_target(id, &flag);
  bool suspended = t ? (suspend_count(t) & 1) != 0 : flag && *flag;
  pargc_threads_unlock();
  return suspended;
}

static void *suspend_wait_self(void *me)
{
  suspend_wait_resumed(me);
  return NULL;
}

void pargc_threads_wait_while_suspended(void)
{
  struct pargc_thread *me = pargc_threads_self;
  if (me && (suspend_count(me) & 1))
    pargc_threads_do_blocking(suspend_wait_self, me);
}

/* ---- fork --------------------------------------------------------------- */

/* Boehm GC 8.2's contract.  GC_set_handle_fork, before initialisation:
 * non-zero installs pthread_atfork handlers (the default), and -1 also
 * says the program calls GC_atfork_* itself should that fail; 0 installs
 * none, and the program calls GC_atfork_* around each fork.  GC_atfork_*
 * do nothing while the handlers are in place: a program that calls them
 * anyway (handlers installed by default, calls kept for portability)
 * would otherwise take the registry lock before fork's prepare handlers
 * take the collector lock -- the reverse of a collection's order, a
 * deadlock with any thread collecting meanwhile.  The collector's part
 * of the handlers is in gc/collect.c (pargc_collect_fork_*), which
 * registers them through pargc_threads_atfork too. */
void pargc_threads_set_handle_fork(int value)
{
  if (!pargc_threads_ready)
    stop_handle_fork = value;
}

bool pargc_threads_fork_handled(void) { return stop_fork_handled; }

void pargc_threads_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
  if (!stop_fork_handled || pthread_atfork(prepare, parent, child) == 0)
    return;
  if (stop_handle_fork != -1)
    pargc_fatal("pthread_atfork failed (GC_set_handle_fork(-1) lets the program call "
                "GC_atfork_* instead)");
  stop_fork_handled = false; /* the program calls GC_atfork_* */
}

void pargc_threads_fork_prepare(void)
{
  pargc_threads_lock(); /* waits for a stop in progress to end */
}

void pargc_threads_fork_parent(void)
{
  pargc_threads_unlock();
}

void pargc_threads_fork_child(void)
{
  stop_pid = getpid();
  sem_destroy(&stop_ack_sem);
  sem_init(&stop_ack_sem, 0, 0);
  /* Not stopped: prepare took the lock, so no stop was in progress. */
  __atomic_store_n(&stop_epoch, stop_epoch & ~1UL, __ATOMIC_RELEASE);
  pargc_threads_after_fork_child();
}

/* Handlers registered before a later pthread_atfork failed (turning
 * stop_fork_handled false) stay registered: each checks. */
static void stop_fork_prepare(void)
{
  if (stop_fork_handled)
    pargc_threads_fork_prepare();
}

static void stop_fork_parent(void)
{
  if (stop_fork_handled)
    pargc_threads_fork_parent();
}

static void stop_fork_child(void)
{
  if (stop_fork_handled)
    pargc_threads_fork_child();
}
