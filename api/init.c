/* init: the library's initialisation order and wiring; see init.h.
 *
 * The layers' arrows run one way -- alloc/ <- gc/ <- api/ -- and this
 * module, at the top, is where they meet: it calls down into the core
 * and into the API layer's installers, and sets the allocator's init
 * hook.  Nothing below calls up into it except through that hook. */
#include "config.h"
#include "api/compat.h"
#include "api/init.h"
#include "gc/collect.h"
#include "gc/stats.h"
#include "alloc/hooks.h"

#include <pargc.h>

#include <pthread.h>
#include <stdatomic.h>

_Atomic int pargc_init_ready;

static void init_once(void)
{
  pargc_collect_setup();
  /* The Boehm GC compatibility layer: finalization and weak links first
   * (their after-mark hooks mark more), then kinds (disclaim), then debug
   * checks and leak reports, which must see the final marks; then
   * Boehm's settings and variables. */
  pargc_finalize_install();
  pargc_kinds_install();
  pargc_debug_install();
  pargc_misc_install();
  pargc_stats_install(pargc_print_stats); /* after misc: GC_PRINT_VERBOSE_STATS sets print_stats */
  pargc_collect_select_mode();
  atomic_store_explicit(&pargc_init_ready, 1, memory_order_release);
}

void pargc_init(void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  if (!atomic_load_explicit(&pargc_init_ready, memory_order_acquire))
    pthread_once(&once, init_once);
}

/* The allocator calls this before its own first initialisation, so that
 * allocating before GC_init sets the collector up too. */
__attribute__((constructor)) static void init_install_hook(void)
{
  pargc_alloc_init_hook = pargc_init;
}
