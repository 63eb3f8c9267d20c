/* deque: allocation of a deque's buffer; the operations are inline in
 * deque.h. */
#include "config.h"
#include "gc/deque.h"
#include "alloc/os.h"

bool pargc_deque_init(struct pargc_deque *d, size_t size)
{
  size_t n = 4;
  while (n < size)
    n <<= 1;
  d->buf = pargc_os_alloc_meta(n * sizeof *d->buf);
  if (!d->buf)
    return false;
  d->size = (int64_t)n;
  pargc_assert((n & (n - 1)) == 0); /* slots are indexed by a mask */
  atomic_store(&d->top, 0);
  atomic_store(&d->bottom, 0);
  return true;
}
