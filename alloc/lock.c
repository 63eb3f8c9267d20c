/* lock: the slow paths of the collector's lock; see lock.h. */
#include "config.h"
#include "alloc/lock.h"
#include "alloc/os.h"

__thread char pargc_lock_tls __attribute__((tls_model("initial-exec")));

/* Spin briefly first: the locks are held for short stretches. */
#define LOCK_SPINS 100

void pargc_lock_wait(pargc_lock_t *l)
{
  for (int i = 0; i < LOCK_SPINS; i++) {
    pargc_os_cpu_relax();
    int free = 0;
    if (__atomic_load_n(&l->word, __ATOMIC_RELAXED) == 0 &&
        __atomic_compare_exchange_n(&l->word, &free, 1, false, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
      return;
  }
  /* 2 from here on: whoever holds it will wake us. */
  while (__atomic_exchange_n(&l->word, 2, __ATOMIC_ACQUIRE) != 0)
    pargc_os_wait_while(&l->word, 2);
}

void pargc_lock_wake(pargc_lock_t *l)
{
  pargc_os_wake_all(&l->word);
}
