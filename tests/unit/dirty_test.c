/* Unit test of gc/dirty: the page-protection barrier and the system
 * calls that write into protected pages.
 *
 * Tracking is started by hand (pargc_dirty_start), as the concurrent
 * collector's first stop does; the test is single-threaded, so no world
 * needs stopping.  Checked: a store into a protected span faults once,
 * is handled, and dirties its cards; read(), pread(), readv(), recv(),
 * recvfrom() and recvmsg() into protected heap buffers succeed and
 * deliver the data; pre-cleaning protects pages again; the final pass
 * reports every dirty page (pages stay protected until the release that
 * follows it); pointer-free
 * objects are never protected; manual dirty bits; a SIGSEGV handler the
 * program installs later still gets the faults that are not pargc's. */
#include "config.h"
#include <gc.h>
#include "check.h"

#include "gc/dirty.h"
#include "alloc/pagemap.h"
#include "alloc/thread.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static size_t page_of(const void *p)
{
  return ((uintptr_t)p - pargc_region.base) >> PARGC_PAGE_SHIFT;
}

static size_t reported;
static size_t reported_page;
static void count_page(size_t page, unsigned cards)
{
  (void)cards;
  reported++;
  reported_page = page;
}

static sigjmp_buf own_jmp;
static volatile int own_handler_calls;
static void own_segv(int sig)
{
  (void)sig;
  own_handler_calls++;
  siglongjmp(own_jmp, 1);
}

static void fill(char *p, size_t n, int seed)
{
  for (size_t i = 0; i < n; i++)
    p[i] = (char)(seed + i * 7);
}

int main(void)
{
  setenv("PARGC_BARRIER", "mprotect", 1);
  GC_INIT();
  CHECK_EQ(pargc_dirty_barrier(), PARGC_BARRIER_MPROTECT);
  CHECK(pargc_dirty_can_preclean());

  /* A scanned span (protected) and a pointer-free one (never). */
  char *buf = GC_MALLOC(200000); /* large: a run of its own */
  char *small = GC_MALLOC(256);
  char *atomic_buf = GC_MALLOC_ATOMIC(200000);
  CHECK(buf && small && atomic_buf);

  /* 1. A store faults once and dirties its page. */
  pargc_dirty_start();
  uint64_t f0 = pargc_dirty_faults();
  buf[10] = 1;
  buf[20] = 2; /* same page: no second fault */
  CHECK_EQ(pargc_dirty_faults() - f0, 1);
  CHECK(pargc_dirty_take_page(page_of(buf)) != 0);
  atomic_buf[10] = 1;
  CHECK_EQ(pargc_dirty_faults() - f0, 1); /* pointer-free: not protected */

  /* 2. System calls into protected heap buffers. */
  int fds[2];
  CHECK(pipe(fds) == 0);
  char msg[70000];
  fill(msg, sizeof msg, 3);
  pargc_dirty_start();
  CHECK(write(fds[1], msg, 5000) == 5000);
  CHECK(read(fds[0], buf + 70000, 5000) == 5000); /* a page not written yet */
  CHECK(memcmp(buf + 70000, msg, 5000) == 0);
  CHECK(pargc_dirty_take_page(page_of(buf + 70000)) != 0);

  pargc_dirty_start();
  CHECK(write(fds[1], msg, 100) == 100);
  CHECK(read(fds[0], small, 100) == 100); /* small object: stack bounce */
  CHECK(memcmp(small, msg, 100) == 0);

  pargc_dirty_start();
  struct iovec iov[2] = {{buf + 1000, 300}, {atomic_buf + 5, 200}};
  CHECK(write(fds[1], msg, 500) == 500);
  CHECK(readv(fds[0], iov, 2) == 500);
  CHECK(memcmp(buf + 1000, msg, 300) == 0 && memcmp(atomic_buf + 5, msg + 300, 200) == 0);
  close(fds[0]);
  close(fds[1]);

  char path[] = "/tmp/pargc_dirty_testXXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK(write(fd, msg, sizeof msg) == (ssize_t)sizeof msg);
  pargc_dirty_start();
  CHECK(pread(fd, buf + 3, 65536, 7) == 65536); /* spans two heap pages */
  CHECK(memcmp(buf + 3, msg + 7, 65536) == 0);
  close(fd);
  unlink(path);

  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  pargc_dirty_start();
  CHECK(send(sv[0], msg, 1234, 0) == 1234);
  CHECK(recv(sv[1], buf + 140000, 1234, 0) == 1234);
  CHECK(memcmp(buf + 140000, msg, 1234) == 0);
  pargc_dirty_start();
  CHECK(send(sv[0], msg + 1, 999, 0) == 999);
  CHECK(recvfrom(sv[1], buf + 150000, 999, 0, NULL, NULL) == 999);
  CHECK(memcmp(buf + 150000, msg + 1, 999) == 0);
  pargc_dirty_start();
  CHECK(send(sv[0], msg + 2, 777, 0) == 777);
  struct iovec one = {buf + 160000, 777};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &one;
  mh.msg_iovlen = 1;
  CHECK(recvmsg(sv[1], &mh, 0) == 777);
  CHECK(memcmp(buf + 160000, msg + 2, 777) == 0);
  CHECK(mh.msg_iov == &one); /* the caller's msghdr is restored */
  close(sv[0]);
  close(sv[1]);

  /* 3. Pre-cleaning takes the dirty pages and protects them again. */
  pargc_dirty_start();
  buf[0] = 5;
  size_t faults = pargc_dirty_faults();
  reported = 0;
  CHECK(pargc_dirty_preclean(count_page) >= 1);
  CHECK(reported >= 1);
  buf[1] = 6;
  CHECK_EQ(pargc_dirty_faults() - faults, 1); /* protected again */

  /* 4. The final pass reports what is dirty.  Pages stay protected
   * after it (the world is still stopped then): the first write to each
   * faults once and is handled ... */
  reported = 0;
  CHECK(pargc_dirty_finish(count_page) >= 1);
  CHECK_EQ(reported_page, page_of(buf));
  faults = pargc_dirty_faults();
  buf[2] = 7;      /* page 0: writable since the store after pre-cleaning */
  buf[190000] = 8; /* page 2: protected at the last start */
  CHECK_EQ(pargc_dirty_faults() - faults, 1);
  buf[3] = 7;
  buf[190001] = 8;
  CHECK_EQ(pargc_dirty_faults() - faults, 1);
  CHECK(buf[2] == 7 && buf[190000] == 8);
  /* ... until the release after the final stop: then no page faults. */
  pargc_dirty_start();
  pargc_dirty_finish(count_page);
  pargc_dirty_release();
  faults = pargc_dirty_faults();
  for (size_t off = 0; off < 200000; off += 4096)
    buf[off] = 1;
  small[0] = 1;
  CHECK_EQ(pargc_dirty_faults() - faults, 0);

  /* 5. Manual dirty bits: nothing while no concurrent mark runs; the
   * whole object with GC_end_stubborn_change, one card for a store. */
  (void)pargc_dirty_take_page(page_of(buf));
  GC_end_stubborn_change(buf);
  CHECK_EQ(pargc_dirty_take_page(page_of(buf)), 0);
  atomic_store(&pargc_alloc_black, 1);
  GC_end_stubborn_change(buf + 5);
  CHECK_EQ(pargc_dirty_take_page(page_of(buf)), 0xffff);
  CHECK(pargc_dirty_take_page(page_of(buf + 196000)) != 0); /* last page of the object */
  void *q = small;
  GC_ptr_store_and_dirty(buf + 4096 * 3 + 8, q);
  CHECK_EQ(pargc_dirty_take_page(page_of(buf)), 1u << 3);
  CHECK(*(void **)(buf + 4096 * 3 + 8) == q);
  atomic_store(&pargc_alloc_black, 0);

  /* 6. A SIGSEGV handler installed after pargc's: pargc re-installs its
   * own at the next start and chains the faults that are not its own. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = own_segv;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
  char *guard = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(guard != MAP_FAILED);
  pargc_dirty_start();
  buf[3] = 9; /* pargc's fault */
  if (!sigsetjmp(own_jmp, 1))
    guard[0] = 1; /* the program's own */
  CHECK_EQ(own_handler_calls, 1);
  pargc_dirty_finish(count_page);

  return CHECK_SUMMARY();
}
