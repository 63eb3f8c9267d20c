/*
 * gc/gc_version.h -- the Boehm GC release whose interface pargc provides.
 *
 * Boehm GC code tests GC_VERSION_MAJOR/MINOR/MICRO to pick features; pargc
 * answers 8.2.2, the Debian 12 libgc-dev release it is checked against.
 * GC_get_version() returns the same triple packed as
 * (major << 16) | (minor << 8) | micro.  pargc's own version is in pargc.h.
 */
#if defined(GC_H) || defined(PARGC_GC_H)
#ifndef GC_VERSION_MAJOR
#define GC_VERSION_MAJOR 8
#define GC_VERSION_MINOR 2
#define GC_VERSION_MICRO 2
#elif GC_VERSION_MAJOR != 8 || GC_VERSION_MINOR != 2 || GC_VERSION_MICRO != 2
#error "gc_version.h: GC_VERSION_* already set to another release"
#endif
#endif
