/* abi_probe.c: print the ABI-relevant facts of whichever gc.h is on the
 * include path -- type sizes, struct layouts, enum and macro values, and
 * what the allocation macros expand to -- one "name value" line each.
 *
 * abi_test.sh compiles this twice, against pargc's include/ and against
 * Debian's /usr/include/gc, in the four variants (plain, GC_THREADS,
 * GC_DEBUG, both), and diffs the outputs: any difference means a program
 * compiled against one header set would misbehave with the other's
 * library.  Nothing here calls the collector, so no library is linked. */
#define _GNU_SOURCE 1
#include <gc/gc.h>
#include <gc/gc_mark.h>
#include <gc/gc_typed.h>
#include <gc/gc_inline.h>
#include <gc/gc_gcj.h>
#include <gc/gc_disclaim.h>
#include <gc/gc_backptr.h>
#include <gc/javaxfc.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define VAL(x) printf("%s %lld\n", #x, (long long)(x))
#define SIZE(t) printf("sizeof(%s) %zu\n", #t, sizeof(t))
#define OFF(t, f) printf("offsetof(%s, %s) %zu\n", #t, #f, offsetof(t, f))
/* Print what a macro expands to, whitespace removed (the two header sets
 * may space things differently). */
#define STR_(...) #__VA_ARGS__
#define EXPANSION(name, ...) print_expansion(name, STR_(__VA_ARGS__))
static void print_expansion(const char *name, const char *text) {
  printf("%s ", name);
  for (; *text; text++)
    if (*text != ' ' && *text != '\t' && *text != '\n') putchar(*text);
  putchar('\n');
}

int main(void) {
  /* Types. */
  SIZE(GC_word);
  SIZE(GC_signed_word);
  SIZE(GC_hidden_pointer);
  SIZE(GC_descr);
  SIZE(struct GC_stack_base);
  SIZE(struct GC_timeval_s);
  OFF(struct GC_timeval_s, tv_nsec);
  SIZE(struct GC_finalizer_closure);
  OFF(struct GC_finalizer_closure, cd);
  SIZE(struct GC_ms_entry);
  SIZE(GC_EventType);
  SIZE(GC_ToggleRefStatus);
  SIZE(GC_ref_kind);
  /* struct GC_prof_stats_s, field by field. */
  SIZE(struct GC_prof_stats_s);
  OFF(struct GC_prof_stats_s, heapsize_full);
  OFF(struct GC_prof_stats_s, free_bytes_full);
  OFF(struct GC_prof_stats_s, unmapped_bytes);
  OFF(struct GC_prof_stats_s, bytes_allocd_since_gc);
  OFF(struct GC_prof_stats_s, allocd_bytes_before_gc);
  OFF(struct GC_prof_stats_s, non_gc_bytes);
  OFF(struct GC_prof_stats_s, gc_no);
  OFF(struct GC_prof_stats_s, markers_m1);
  OFF(struct GC_prof_stats_s, bytes_reclaimed_since_gc);
  OFF(struct GC_prof_stats_s, reclaimed_bytes_before_gc);
  OFF(struct GC_prof_stats_s, expl_freed_bytes_since_gc);
  OFF(struct GC_prof_stats_s, obtained_from_os_bytes);

  /* Enumerations. */
  VAL(GC_EVENT_START); VAL(GC_EVENT_MARK_START); VAL(GC_EVENT_MARK_END);
  VAL(GC_EVENT_RECLAIM_START); VAL(GC_EVENT_RECLAIM_END); VAL(GC_EVENT_END);
  VAL(GC_EVENT_PRE_STOP_WORLD); VAL(GC_EVENT_POST_STOP_WORLD);
  VAL(GC_EVENT_PRE_START_WORLD); VAL(GC_EVENT_POST_START_WORLD);
  VAL(GC_EVENT_THREAD_SUSPENDED); VAL(GC_EVENT_THREAD_UNSUSPENDED);
  VAL(GC_TOGGLE_REF_DROP); VAL(GC_TOGGLE_REF_STRONG); VAL(GC_TOGGLE_REF_WEAK);
  VAL(GC_UNREFERENCED); VAL(GC_NO_SPACE); VAL(GC_REFD_FROM_ROOT);
  VAL(GC_REFD_FROM_REG); VAL(GC_REFD_FROM_HEAP); VAL(GC_FINALIZER_REFD);

  /* Macro constants. */
  VAL(GC_VERSION_MAJOR); VAL(GC_VERSION_MINOR); VAL(GC_VERSION_MICRO);
  VAL(GC_SUCCESS); VAL(GC_DUPLICATE); VAL(GC_NO_THREADS); VAL(GC_UNIMPLEMENTED);
  VAL(GC_NOT_FOUND); VAL(GC_NO_MEMORY); VAL(GC_TIME_UNLIMITED);
  VAL(GC_PROTECTS_NONE); VAL(GC_PROTECTS_POINTER_HEAP); VAL(GC_PROTECTS_PTRFREE_HEAP);
  VAL(GC_PROTECTS_STATIC_DATA); VAL(GC_PROTECTS_STACK);
  VAL(GC_PROC_BYTES); VAL(GC_LOG_MAX_MARK_PROCS); VAL(GC_MAX_MARK_PROCS);
  VAL(GC_RESERVED_MARK_PROCS); VAL(GC_GCJ_RESERVED_MARK_PROC_INDEX);
  VAL(GC_DS_TAG_BITS); VAL(GC_DS_TAGS); VAL(GC_DS_LENGTH); VAL(GC_DS_BITMAP);
  VAL(GC_DS_PROC); VAL(GC_DS_PER_OBJECT); VAL(GC_INDIR_PER_OBJ_BIAS);
  VAL(GC_MAKE_PROC(5, 3)); VAL(GC_MAKE_PROC(63, 0x12345));
  VAL(GC_TYPE_DESCR_LEN);
  VAL(GC_GRANULE_BYTES); VAL(GC_GRANULE_WORDS); VAL(GC_TINY_FREELISTS);
  VAL(GC_RAW_BYTES_FROM_INDEX(7)); VAL(GC_WORDS_TO_GRANULES(7));
  VAL(GC_WORDS_TO_WHOLE_GRANULES(7)); VAL(GC_I_PTRFREE); VAL(GC_I_NORMAL);
  VAL(GC_WORDSZ); VAL(GC_HIDE_POINTER(0x12345678));
  VAL((GC_word)GC_REVEAL_POINTER(GC_HIDE_POINTER(0x1000)));
  {
    GC_word bm[2] = {0, 0};
    GC_set_bit(bm, 3);
    GC_set_bit(bm, 70);
    VAL(bm[0]); VAL(bm[1]); VAL(GC_get_bit(bm, 70)); VAL(GC_get_bit(bm, 4));
  }
  {
    struct probe_s { void *a; long b; void *c; char d[40]; };
    VAL(GC_WORD_OFFSET(struct probe_s, c)); VAL(GC_WORD_LEN(struct probe_s));
    VAL(GC_BITMAP_SIZE(struct probe_s));
  }

  /* Data symbols: their sizes must agree with the library's. */
  SIZE(GC_gc_no); SIZE(GC_oom_fn); SIZE(GC_on_heap_resize); SIZE(GC_find_leak);
  SIZE(GC_all_interior_pointers); SIZE(GC_finalize_on_demand);
  SIZE(GC_java_finalization); SIZE(GC_finalizer_notifier); SIZE(GC_dont_gc);
  SIZE(GC_dont_expand); SIZE(GC_use_entire_heap); SIZE(GC_full_freq);
  SIZE(GC_non_gc_bytes); SIZE(GC_no_dls); SIZE(GC_free_space_divisor);
  SIZE(GC_max_retries); SIZE(GC_stackbottom); SIZE(GC_dont_precollect);
  SIZE(GC_time_limit); SIZE(GC_same_obj_print_proc);
  SIZE(GC_is_valid_displacement_print_proc); SIZE(GC_is_visible_print_proc);
  SIZE(GC_least_plausible_heap_addr); SIZE(GC_greatest_plausible_heap_addr);
  SIZE(GC_debug_header_size); SIZE(GC_gcj_kind); SIZE(GC_gcj_debug_kind);
#ifdef GC_THREADS
  SIZE(GC_parallel);
#endif

  /* What the client-facing macros call, in this variant. */
  EXPANSION("GC_MALLOC", GC_MALLOC(n));
  EXPANSION("GC_MALLOC_ATOMIC", GC_MALLOC_ATOMIC(n));
  EXPANSION("GC_MALLOC_UNCOLLECTABLE", GC_MALLOC_UNCOLLECTABLE(n));
  EXPANSION("GC_MALLOC_ATOMIC_UNCOLLECTABLE", GC_MALLOC_ATOMIC_UNCOLLECTABLE(n));
  EXPANSION("GC_MALLOC_IGNORE_OFF_PAGE", GC_MALLOC_IGNORE_OFF_PAGE(n));
  EXPANSION("GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE", GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(n));
  EXPANSION("GC_REALLOC", GC_REALLOC(p, n));
  EXPANSION("GC_FREE", GC_FREE(p));
  EXPANSION("GC_STRDUP", GC_STRDUP(s));
  EXPANSION("GC_STRNDUP", GC_STRNDUP(s, n));
  EXPANSION("GC_NEW", GC_NEW(T));
  EXPANSION("GC_REGISTER_FINALIZER", GC_REGISTER_FINALIZER(p, f, d, of, od));
  EXPANSION("GC_REGISTER_FINALIZER_IGNORE_SELF", GC_REGISTER_FINALIZER_IGNORE_SELF(p, f, d, of, od));
  EXPANSION("GC_REGISTER_FINALIZER_NO_ORDER", GC_REGISTER_FINALIZER_NO_ORDER(p, f, d, of, od));
  EXPANSION("GC_REGISTER_FINALIZER_UNREACHABLE", GC_REGISTER_FINALIZER_UNREACHABLE(p, f, d, of, od));
  EXPANSION("GC_GENERAL_REGISTER_DISAPPEARING_LINK", GC_GENERAL_REGISTER_DISAPPEARING_LINK(l, o));
  EXPANSION("GC_REGISTER_LONG_LINK", GC_REGISTER_LONG_LINK(l, o));
  EXPANSION("GC_REGISTER_DISPLACEMENT", GC_REGISTER_DISPLACEMENT(n));
  EXPANSION("GC_END_STUBBORN_CHANGE", GC_END_STUBBORN_CHANGE(p));
  EXPANSION("GC_PTR_STORE_AND_DIRTY", GC_PTR_STORE_AND_DIRTY(p, q));
  EXPANSION("GC_PTR_STORE", GC_PTR_STORE(p, q));
  EXPANSION("GC_PTR_ADD", GC_PTR_ADD(x, n));
  EXPANSION("GC_MALLOC_EXPLICITLY_TYPED", GC_MALLOC_EXPLICITLY_TYPED(n, d));
  EXPANSION("GC_CALLOC_EXPLICITLY_TYPED", GC_CALLOC_EXPLICITLY_TYPED(m, n, d));
  EXPANSION("GC_GCJ_MALLOC", GC_GCJ_MALLOC(n, v));
  EXPANSION("GC_GENERIC_OR_SPECIAL_MALLOC", GC_GENERIC_OR_SPECIAL_MALLOC(n, k));
  EXPANSION("GC_EXTRAS", GC_EXTRAS);
  EXPANSION("pthread_create", pthread_create);
  EXPANSION("pthread_join", pthread_join);
  EXPANSION("pthread_detach", pthread_detach);
  EXPANSION("pthread_cancel", pthread_cancel);
  EXPANSION("pthread_exit", pthread_exit);
  EXPANSION("pthread_sigmask", pthread_sigmask);
  EXPANSION("dlopen", dlopen);
#ifdef GC_THREADS
  EXPANSION("GC_SUSPEND_THREAD_ID", GC_SUSPEND_THREAD_ID);
#endif
#ifdef GC_PTHREADS
  printf("GC_PTHREADS defined\n");
#endif
#ifdef GC_HAVE_PTHREAD_EXIT
  printf("GC_HAVE_PTHREAD_EXIT defined\n");
#endif
  return 0;
}
