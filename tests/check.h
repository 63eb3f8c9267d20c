/* check.h: the tiny test harness every pargc test uses.
 *
 *   CHECK(cond)            record a failure (file, line, text) and go on
 *   CHECK_EQ(a, b)         same, printing both values as integers
 *   CHECK_SUMMARY()        print "N passed, M failed" and return the exit
 *                          status for main (0 when nothing failed)
 *   SKIP(why)              print the reason and exit 77 (automake: skipped)
 *   check_run_threads(n, fn)  run fn((void *)i) for i = 0..n-1 on n new
 *                          threads and wait for them all
 *   check_capture(fn, buf, cap)  run fn in a child process, its stdout and
 *                          stderr into buf; returns its exit status, or
 *                          128 + the signal that killed it (for tests of
 *                          what the collector prints or aborts on: call
 *                          it before the parent initialises the collector)
 *   check_in_child(name, fn)  CHECK that fn, run by check_capture, exits
 *                          0; else print its status and output
 *   check_hang_alarm(s, msg)  after s seconds, print msg (a line) and
 *                          exit 1: a hang becomes a failure that says what
 *                          it likely was; check_hang_alarm(0, NULL) cancels
 *   check_wipe_stack()     zero the stack below the caller's frame, where
 *                          dead frames left pointers a collection would
 *                          find in the frames it builds there
 *   check_make_context(ctx, stack, size, link, fn)  set ctx up to run
 *                          fn on [stack, stack + size) (a coroutine for
 *                          swapcontext), then link (NULL: fn never returns)
 *
 * Counters are atomic so worker threads may CHECK too.
 */
#ifndef PARGC_TESTS_CHECK_H
#define PARGC_TESTS_CHECK_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static long check_passed_count, check_failed_count;

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (cond) {                                                              \
      __atomic_fetch_add(&check_passed_count, 1, __ATOMIC_RELAXED);          \
    } else {                                                                 \
      __atomic_fetch_add(&check_failed_count, 1, __ATOMIC_RELAXED);          \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                        \
  } while (0)

#define CHECK_EQ(a, b)                                                       \
  do {                                                                       \
    long long check_a_ = (long long)(a), check_b_ = (long long)(b);          \
    if (check_a_ == check_b_) {                                              \
      __atomic_fetch_add(&check_passed_count, 1, __ATOMIC_RELAXED);          \
    } else {                                                                 \
      __atomic_fetch_add(&check_failed_count, 1, __ATOMIC_RELAXED);          \
      fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n",   \
              __FILE__, __LINE__, #a, #b, check_a_, check_b_);               \
    }                                                                        \
  } while (0)

#define CHECK_SUMMARY()                                                      \
  (printf("%ld passed, %ld failed\n", check_passed_count, check_failed_count), \
   check_failed_count ? 1 : (check_passed_count ? 0 : 1))

#define SKIP(why)                                                            \
  do {                                                                       \
    printf("SKIP: %s\n", why);                                               \
    exit(77);                                                                \
  } while (0)

/* Zero the general registers, so that a pointer the caller holds in
 * memory only (a volatile local) is not also in a register when a
 * collection looks at this thread.  Inline: a function would restore
 * the callee-saved ones on return.  Nothing on other architectures. */
#if defined(__x86_64__)
#define CHECK_CLEAR_REGISTERS()                                              \
  __asm__ volatile("xor %%eax, %%eax\n\txor %%ebx, %%ebx\n\txor %%ecx, %%ecx\n\t"   \
                   "xor %%edx, %%edx\n\txor %%esi, %%esi\n\txor %%edi, %%edi\n\t"   \
                   "xor %%r8d, %%r8d\n\txor %%r9d, %%r9d\n\txor %%r10d, %%r10d\n\t" \
                   "xor %%r11d, %%r11d\n\txor %%r12d, %%r12d\n\txor %%r13d, %%r13d\n\t" \
                   "xor %%r14d, %%r14d\n\txor %%r15d, %%r15d"                      \
                   ::: "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", \
                       "r11", "r12", "r13", "r14", "r15")
#else
#define CHECK_CLEAR_REGISTERS() ((void)0)
#endif

static __attribute__((noinline, unused)) void check_wipe_stack(void)
{
  volatile char buf[32768];
  memset((char *)buf, 0, sizeof buf);
  __asm__ __volatile__("" : : "r"(buf) : "memory");
}

static __attribute__((unused)) int check_capture(void (*fn)(void), char *buf, size_t cap)
{
  int fds[2];
  if (pipe(fds) != 0)
    return -1;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    fn();
    fflush(stdout);
    fflush(stderr);
    _exit(0);
  }
  close(fds[1]);
  size_t len = 0;
  ssize_t got;
  while (len + 1 < cap && (got = read(fds[0], buf + len, cap - 1 - len)) > 0)
    len += (size_t)got;
  buf[len] = 0;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const char *check_hang_msg;

static void check_on_hang(int sig)
{
  (void)sig;
  const char *m = check_hang_msg ? check_hang_msg : "hung\n";
  ssize_t w = write(2, m, strlen(m));
  (void)w;
  _exit(1);
}

static __attribute__((unused)) void check_hang_alarm(unsigned seconds, const char *msg)
{
  check_hang_msg = msg;
  if (seconds)
    signal(SIGALRM, check_on_hang);
  alarm(seconds);
}

static __attribute__((unused)) void check_in_child(const char *name, void (*fn)(void))
{
  char out[4096];
  int rc = check_capture(fn, out, sizeof out);
  if (rc != 0)
    printf("%s: status %d%s\n%s", name, rc, rc == 128 + SIGALRM ? " (hung)" : "", out);
  CHECK_EQ(rc, 0);
}

static inline void check_make_context(ucontext_t *ctx, char *stack, size_t size,
                                      ucontext_t *link, void (*fn)(void))
{
  getcontext(ctx);
  ctx->uc_stack.ss_sp = stack;
  ctx->uc_stack.ss_size = size;
  ctx->uc_link = link;
  makecontext(ctx, fn, 0);
}

#define CHECK_MAX_THREADS 64

static inline void check_run_threads(int n, void *(*fn)(void *))
{
  pthread_t t[CHECK_MAX_THREADS];
  CHECK(n <= CHECK_MAX_THREADS);
  if (n > CHECK_MAX_THREADS)
    n = CHECK_MAX_THREADS;
  int started = 0;
  for (int i = 0; i < n; i++) {
    int rc = pthread_create(&t[started], NULL, fn, (void *)(uintptr_t)i);
    CHECK_EQ(rc, 0);
    if (rc == 0)
      started++;
  }
  for (int i = 0; i < started; i++)
    pthread_join(t[i], NULL);
}

#endif
