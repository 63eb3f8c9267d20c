/* collect: PARGC_MALLOC_MODE=collect; see collect.h. */
#define _GNU_SOURCE
#include "config.h"
#include "malloc/collect.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/pagemap.h"
#include "alloc/report.h"
#include "alloc/thread.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

bool pargc_malloc_collect_on;

/* The collector's entry points, from libpargc (Boehm GC's API). */
static struct {
  void (*init)(void);
  void *(*malloc)(size_t);
  void *(*memalign)(size_t, size_t);
  void *(*base)(void *);
  size_t (*size)(const void *);
  void (*push_all)(void *, void *);
  void (*set_push_other_roots)(void (*)(void));
  void (*(*get_push_other_roots)(void))(void);
  int (*pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
  int (*pthread_join)(pthread_t, void **);
  int (*pthread_detach)(pthread_t);
  int (*sigmask_fn)(int, const sigset_t *, sigset_t *);
  void (*pthread_exit)(void *);
} gc;

/* Text ranges whose allocations stay explicit, in free mode's heap: libc
 * and the dynamic linker (they keep pointers where no collector looks),
 * and libpargc itself (it expects malloc'd memory never to be collected
 * under it, and allocates while registering a thread). */
#define COLLECT_MAX_TEXT 16
struct collect_text {
  uintptr_t lo, hi;
  bool internal;
};
static struct collect_text collect_texts[COLLECT_MAX_TEXT];
static int collect_ntexts;
static const char *collect_gc_path;

/* Is `name` (a loaded object's path) libc, the dynamic linker, or the
 * collector?  1 uncollectable, 2 internal, 0 neither. */
static int collect_classify(const char *name)
{
  const char *b = strrchr(name, '/');
  b = b ? b + 1 : name;
  if (strncmp(b, "libc.so", 7) == 0 || strncmp(b, "ld-linux", 8) == 0 ||
      strncmp(b, "ld64.so", 7) == 0 || strncmp(b, "ld.so", 5) == 0 ||
      strncmp(b, "libpthread.so", 13) == 0)
    return 1;
  if (collect_gc_path && strcmp(name, collect_gc_path) == 0)
    return 2;
  return 0;
}

static int collect_find_text(const struct pargc_os_object *o, void *arg)
{
  (void)arg;
  int c = collect_classify(o->name);
  if (!c)
    return 0;
  for (int i = 0; i < o->nseg && collect_ntexts < COLLECT_MAX_TEXT; i++) {
    if (!o->seg[i].executable)
      continue;
    struct collect_text *t = &collect_texts[collect_ntexts++];
    t->lo = o->seg[i].lo;
    t->hi = o->seg[i].hi;
    t->internal = c == 2;
  }
  return 0;
}

int pargc_malloc_collect_class(const void *caller)
{
  uintptr_t a = (uintptr_t)caller;
  for (int i = 0; i < collect_ntexts; i++)
    if (a - collect_texts[i].lo < collect_texts[i].hi - collect_texts[i].lo)
      return collect_texts[i].internal ? 2 : 1;
  return 0;
}

static void *collect_sym(void *h, const char *name, bool *ok)
{
  void *p = dlsym(h, name);
  if (!p)
    *ok = false;
  return p;
}

/* libpargc: the one beside this library (same directory), else the
 * loader's search path. */
static void *collect_open(void)
{
  static char path[4096];
  Dl_info di;
  if (dladdr((void *)pargc_malloc_collect_start, &di) && di.dli_fname) {
    const char *slash = strrchr(di.dli_fname, '/');
    size_t dir = slash ? (size_t)(slash - di.dli_fname) + 1 : 0;
    if (dir + sizeof "libpargc.so.0" <= sizeof path) {
      memcpy(path, di.dli_fname, dir);
      memcpy(path + dir, "libpargc.so.0", sizeof "libpargc.so.0");
      void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
      if (h)
        return h;
    }
  }
  return dlopen("libpargc.so.0", RTLD_NOW | RTLD_LOCAL);
}

/* Free mode's heap -- libc's, the loader's and the collector's own
 * objects, and what was allocated before the switch -- is scanned as a
 * root at every collection (the world stopped): they may point at the
 * program's objects (environ's strings, a stdio buffer set by setvbuf).
 * Its free objects are scanned too: they only keep garbage longer. */
static void (*collect_next_push)(void);

static void collect_push_heap(void)
{
  uintptr_t lo = pargc_region.base;
  uintptr_t hi = lo + (atomic_load(&pargc_region.top) << PARGC_PAGE_SHIFT);
  if (hi > lo)
    gc.push_all((void *)lo, (void *)hi);
  if (collect_next_push)
    collect_next_push();
}

/* Concurrent mode (GC_ENABLE_INCREMENTAL, PARGC_MODE=concurrent) needs a
 * barrier that sees the program's writes without its help.  The mprotect
 * barrier write-protects scanned objects while a cycle marks, and a
 * system call writing into one fails with EFAULT instead of faulting:
 * libpargc wraps read() and its kin for that, but it is loaded here with
 * RTLD_LOCAL, so the program's calls never reach the wrappers -- and
 * programs read into malloc'd buffers all the time (sqlite3 reported a
 * disk I/O error, xz wrote a corrupt stream).  The manual barrier needs
 * calls the program does not make.  So in this mode concurrent marking
 * runs with the kernel's soft-dirty bits where they work, and otherwise
 * not at all: collections stay stop-parallel, with a warning.  The
 * collector reads its settings from the environment at GC_init, so it
 * is handed, for that call only, the program's environment with one
 * setting in front (the first of a name wins); the program's own is left
 * as it is.  NULL when nothing needs to change. */
static char **collect_gc_environment(void)
{
  bool conc = !pargc_opt.disable_incremental &&
              (!strcmp(pargc_opt.mode, "concurrent") || pargc_opt.enable_incremental);
  if (!conc)
    return NULL;
  bool soft = pargc_os_soft_dirty_works();
  if (soft && !strcmp(pargc_opt.barrier, "soft-dirty"))
    return NULL;
  /* Asked for soft-dirty where it does not work, the collector would
   * fall back to mprotect: the same as not asking. */
  const char *setting;
  if (soft) {
    setting = "PARGC_BARRIER=soft-dirty";
  } else {
    setting = "GC_DISABLE_INCREMENTAL=1";
    pargc_warn("PARGC_MALLOC_MODE=collect: concurrent mode needs the kernel's soft-dirty "
               "bits, which do not work here (write-protected objects would make the "
               "program's system calls fail); collecting stop-parallel");
  }
  size_t n = 0;
  while (environ && environ[n])
    n++;
  char **env = pargc_malloc_boot((n + 2) * sizeof *env, sizeof *env);
  if (!env)
    return NULL;
  env[0] = (char *)setting;
  for (size_t i = 0; i < n; i++)
    env[i + 1] = environ[i];
  env[n + 1] = NULL;
  return env;
}

bool pargc_malloc_collect_start(void)
{
  void *h = collect_open();
  if (!h) {
    pargc_warn("PARGC_MALLOC_MODE=collect: cannot load libpargc.so.0 (%s); free is honoured",
               dlerror());
    return false;
  }
  bool ok = true;
  gc.init = (void (*)(void))collect_sym(h, "GC_init", &ok);
  gc.malloc = (void *(*)(size_t))collect_sym(h, "GC_malloc", &ok);
  gc.memalign = (void *(*)(size_t, size_t))collect_sym(h, "GC_memalign", &ok);
  gc.base = (void *(*)(void *))collect_sym(h, "GC_base", &ok);
  gc.size = (size_t (*)(const void *))collect_sym(h, "GC_size", &ok);
  gc.push_all = (void (*)(void *, void *))collect_sym(h, "GC_push_all", &ok);
  gc.set_push_other_roots = (void (*)(void (*)(void)))collect_sym(h, "GC_set_push_other_roots", &ok);
  gc.get_push_other_roots =
      (void (*(*)(void))(void))collect_sym(h, "GC_get_push_other_roots", &ok);
  gc.pthread_create = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))
      collect_sym(h, "pthread_create", &ok);
  gc.pthread_join = (int (*)(pthread_t, void **))collect_sym(h, "pthread_join", &ok);
  gc.pthread_detach = (int (*)(pthread_t))collect_sym(h, "pthread_detach", &ok);
  gc.pthread_exit = (void (*)(void *))collect_sym(h, "pthread_exit", &ok);
  gc.sigmask_fn = (int (*)(int, const sigset_t *, sigset_t *))collect_sym(h, "GC_pthread_sigmask", &ok);
  if (!ok) {
    pargc_warn("PARGC_MALLOC_MODE=collect: libpargc.so.0 lacks an entry point; free is honoured");
    return false;
  }
  Dl_info di;
  if (dladdr((void *)gc.malloc, &di))
    collect_gc_path = di.dli_fname;
  pargc_os_each_object(collect_find_text, NULL);
  pargc_malloc_collect_on = true;
  pargc_malloc_busy++;
  char **env = collect_gc_environment(), **program_env = environ;
  if (env)
    environ = env;
  gc.init();
  if (env)
    environ = program_env;
  collect_next_push = gc.get_push_other_roots();
  gc.set_push_other_roots(collect_push_heap);
  pargc_malloc_busy--;
  return true;
}

void *pargc_malloc_collect_alloc(size_t n, size_t align)
{
  void *p;
  /* Larger than any heap pargc can reserve (PARGC_HEAP_RESERVE's
   * bound): fail here, without the collector's out-of-memory warning. */
  if (n > ((size_t)1 << 46)) {
    errno = ENOMEM;
    return NULL;
  }
  if (align > 16)
    p = gc.memalign(align, n);
  else
    p = gc.malloc(n);
  if (!p)
    errno = ENOMEM;
  return p;
}

bool pargc_malloc_collect_owns(const void *p, size_t *usable)
{
  void *b = gc.base((void *)p);
  if (!b)
    return false;
  size_t sz = gc.size(b);
  size_t off = (size_t)((const char *)p - (const char *)b);
  /* The last byte is the one Boehm's allocation adds for past-the-end
   * pointers. */
  *usable = sz > off + 1 ? sz - off - 1 : 0;
  return true;
}

void pargc_malloc_collect_free(void *p)
{
  /* The collector frees the object once unreachable: free is a hint
   * taken no further, the program may still hold pointers to it. */
  (void)p;
}

/* ---- Threads -----------------------------------------------------------

 * Exported: with the collector on, every thread starts through
 * libpargc's pthread_create, which registers it (stack scanned, stopped
 * for collections); otherwise the C library's, unchanged. */

static void *collect_next(const char *name)
{
  return pargc_os_next_symbol(name);
}

#define COLLECT_API __attribute__((visibility("default")))

COLLECT_API int pthread_create(pthread_t *t, const pthread_attr_t *attr,
                               void *(*fn)(void *), void *arg)
{
  if (pargc_malloc_collect_on)
    return gc.pthread_create(t, attr, fn, arg);
  static int (*next)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
  if (!next)
    next = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))
        collect_next("pthread_create");
  return next(t, attr, fn, arg);
}

COLLECT_API int pthread_join(pthread_t t, void **ret)
{
  if (pargc_malloc_collect_on)
    return gc.pthread_join(t, ret);
  static int (*next)(pthread_t, void **);
  if (!next)
    next = (int (*)(pthread_t, void **))collect_next("pthread_join");
  return next(t, ret);
}

COLLECT_API int pthread_detach(pthread_t t)
{
  if (pargc_malloc_collect_on)
    return gc.pthread_detach(t);
  static int (*next)(pthread_t);
  if (!next)
    next = (int (*)(pthread_t))collect_next("pthread_detach");
  return next(t);
}

/* The mask functions: in collect mode the collector's, which never block
 * its suspend signal (a thread that blocked it could not be stopped); in
 * free mode glibc's behaviour, made with the system call (no lookup, so
 * safe in a signal handler from the first call). */
static int collect_sigmask(int how, const sigset_t *set, sigset_t *old)
{
  if (pargc_malloc_collect_on)
    return gc.sigmask_fn(how, set, old);
  return pargc_os_sigmask(how, set, old, 0);
}

COLLECT_API int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
  return collect_sigmask(how, set, old);
}

COLLECT_API int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
  return pargc_os_errno_result(collect_sigmask(how, set, old));
}

COLLECT_API void pthread_exit(void *ret)
{
  if (pargc_malloc_collect_on)
    gc.pthread_exit(ret);
  static void (*next)(void *);
  if (!next)
    next = (void (*)(void *))collect_next("pthread_exit");
  next(ret);
  __builtin_unreachable();
}
