/* pargc's own threads (GC threads, the concurrent collector, the
 * scavenger) never run the program's signal handlers.
 *
 * A signal sent to the process goes to any thread that does not block
 * it.  pargc's threads blocked nothing, so a process-directed signal
 * could run the program's handler on one of them: Crystal's runtime
 * (-Dpreview_mt) catches SIGCHLD for Process.run, and its handler
 * allocates; on pargc's collector thread, in the middle of stopping the
 * world, that allocation registered the thread and took the registry
 * lock the stop holds ("registry lock taken twice", fatal; 4 runs of 6
 * in concurrent mode).  Boehm GC's marker threads block every signal.
 *
 * Here, with a GC thread and the concurrent collector thread running:
 * the main thread blocks SIGUSR1 and sends it to the process; no thread
 * may take it until the main thread unblocks it, and then the handler
 * runs there.  And every thread of pargc's blocks the usual
 * asynchronous signals (/proc/self/task/N/status, SigBlk). */
#define _GNU_SOURCE
#include "config.h"
#include <gc.h>
#include "check.h"

#include <dirent.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <time.h>

static atomic_int handler_calls;
static atomic_long handler_tid;

static void on_usr1(int sig)
{
  (void)sig;
  atomic_store(&handler_tid, (long)syscall(SYS_gettid));
  atomic_fetch_add(&handler_calls, 1);
}

/* The blocked-signal mask of thread tid, from its status file. */
static unsigned long long blocked_mask(long tid, bool *ok)
{
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/self/task/%ld/status", tid);
  FILE *f = fopen(path, "r");
  unsigned long long m = 0;
  *ok = false;
  if (!f)
    return 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "SigBlk: %llx", &m) == 1) {
      *ok = true;
      break;
    }
  fclose(f);
  return m;
}

int main(void)
{
  setenv("PARGC_MODE", "concurrent", 1);
  setenv("PARGC_CONC_MIN_LIVE", "0", 1);
  GC_INIT();
  /* Collections (cycles) start the GC threads and the collector's. */
  void *volatile keep = NULL;
  for (int i = 0; i < 200000; i++)
    keep = GC_MALLOC(64);
  GC_gcollect();
  (void)keep;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  CHECK(pthread_sigmask(SIG_BLOCK, &usr1, NULL) == 0);
  CHECK(kill(getpid(), SIGUSR1) == 0);
  struct timespec pause = {0, 50 * 1000 * 1000};
  nanosleep(&pause, NULL);
  CHECK_EQ(atomic_load(&handler_calls), 0); /* no other thread took it */
  CHECK(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL) == 0);
  CHECK_EQ(atomic_load(&handler_calls), 1);
  CHECK_EQ(atomic_load(&handler_tid), (long)getpid());

  /* Every other thread is pargc's: each blocks these. */
  const int sigs[] = {SIGCHLD, SIGUSR1, SIGUSR2, SIGINT, SIGTERM, SIGALRM, SIGHUP, SIGPIPE};
  DIR *d = opendir("/proc/self/task");
  CHECK(d != NULL);
  int others = 0;
  for (struct dirent *e; d && (e = readdir(d));) {
    long tid = strtol(e->d_name, NULL, 10);
    if (tid <= 0 || tid == (long)getpid())
      continue;
    bool ok;
    unsigned long long m = blocked_mask(tid, &ok);
    if (!ok)
      continue; /* it ended meanwhile */
    others++;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
      if (!(m >> (sigs[i] - 1) & 1)) {
        fprintf(stderr, "thread %ld does not block signal %d (SigBlk %llx)\n", tid, sigs[i], m);
        CHECK(false);
      }
  }
  if (d)
    closedir(d);
  CHECK(others >= 1); /* at least the concurrent collector's thread */
  return CHECK_SUMMARY();
}
