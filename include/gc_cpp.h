/* pargc: <gc_cpp.h> at the top level, as Boehm GC installs it for older
 * code; the declarations are in gc/gc_cpp.h. */
#include "gc/gc_cpp.h"
