/* pargc: the Boehm GC compatible header.  Programs include <gc.h> (or
 * <gc/gc.h>); both lead to the same declarations. */
#include "gc/gc.h"
