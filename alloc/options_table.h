/* The options table: every setting pargc reads from the environment.
 *
 * One row per option:
 *   X(field, "ENVIRONMENT_VARIABLE", TYPE, "default", min, max, "one-line doc")
 * TYPE is BOOL, INT, SIZE (bytes; accepts K/M/G/T suffixes) or STR.  The
 * default is written as a user would write it and parsed by the same code.
 * min and max bound INT and SIZE values (ignored for BOOL and STR).
 *
 * This table generates the settings struct (options.h), the parser
 * (options.c) and docs/environment.md (`make env-doc`); the unit test
 * tests/unit/options_test.c fails when the document and the table differ.
 * Boehm GC's variables keep Boehm's names and meaning.
 */
#define PARGC_OPTIONS(X)                                                     \
  X(k, "PARGC_K", INT, "2", 1, 4096,                                         \
    "LPS consumption constant: fresh OS pages are taken while the heap stays under k x max(live); beyond that, free pages are stolen from other threads. Clamped to the number of threads (see docs/tuning.md)") \
  X(gc_threads, "PARGC_GC_THREADS", INT, "0", 0, 1024,                       \
    "Number of threads that mark in parallel; 0 means GC_MARKERS, else GC_NPROCS, else the online CPUs") \
  X(gc_markers, "GC_MARKERS", INT, "0", 0, 1024,                             \
    "Boehm GC: number of marker threads (same as PARGC_GC_THREADS when that is unset)") \
  X(gc_nprocs, "GC_NPROCS", INT, "0", 0, 1024,                               \
    "Boehm GC: number of processors to use; sets the GC threads when neither PARGC_GC_THREADS nor GC_MARKERS is set") \
  X(heap_reserve, "PARGC_HEAP_RESERVE", SIZE, "256G", 64 << 20, 1LL << 46,   \
    "Virtual address space reserved for the heap at start-up (never committed up front); the hard upper bound of the heap") \
  X(initial_heap, "GC_INITIAL_HEAP_SIZE", SIZE, "4M", 0, 1LL << 46,          \
    "Boehm GC: heap size before the first collection is considered") \
  X(max_heap, "GC_MAXIMUM_HEAP_SIZE", SIZE, "0", 0, 1LL << 46,               \
    "Boehm GC: largest heap pargc will grow to (0: no limit but PARGC_HEAP_RESERVE); past it allocation calls the out-of-memory handler") \
  X(free_space_divisor, "GC_FREE_SPACE_DIVISOR", INT, "3", 1, 1000000,       \
    "Boehm GC: collect once allocation since the last collection exceeds heap/divisor; larger values collect more often and keep the heap smaller") \
  X(print_stats, "GC_PRINT_STATS", BOOL, "0", 0, 0,                          \
    "Boehm GC: print one line of statistics per collection on stderr") \
  X(dont_gc, "GC_DONT_GC", BOOL, "0", 0, 0,                                  \
    "Boehm GC: never collect (allocation only; the heap grows)") \
  X(stats_file, "PARGC_STATS_FILE", STR, "", 0, 0,                           \
    "Append one JSON line per collection to this file (for plotting)") \
  X(verify, "PARGC_VERIFY", BOOL, "0", 0, 0,                                 \
    "After each parallel mark, re-mark sequentially and abort if anything reachable was left unmarked") \
  X(decommit, "PARGC_DECOMMIT", BOOL, "1", 0, 0,                             \
    "Give free pages back to the OS (madvise) once they stayed free for PARGC_DECOMMIT_DELAY_MS") \
  X(decommit_delay_ms, "PARGC_DECOMMIT_DELAY_MS", INT, "500", 0, 3600000,    \
    "How long a page must stay free before it is decommitted, in milliseconds") \
  X(deque_size, "PARGC_DEQUE_SIZE", INT, "16384", 4, 16777216,              \
    "Entries in each GC thread's mark deque; on overflow work moves to a shared overflow list, never lost") \
  X(mark_piece, "PARGC_MARK_PIECE", SIZE, "32K", 256, 16 << 20,              \
    "Objects larger than this are scanned in pieces of this size that other GC threads can steal") \
  X(topology, "PARGC_TOPOLOGY", STR, "", 0, 0,                               \
    "hwloc topology to use instead of the machine's: a synthetic description (e.g. \"pack:2 core:2 pu:1\") or an XML file; for tests") \
  X(sig_suspend, "PARGC_SIG_SUSPEND", INT, "30", 1, 64,                      \
    "Signal that stops a thread for a collection (default SIGPWR, as Boehm GC); change it if the program uses that signal") \
  X(sig_restart, "PARGC_SIG_RESTART", INT, "24", 1, 64,                      \
    "Signal that restarts stopped threads (default SIGXCPU, as Boehm GC); must differ from PARGC_SIG_SUSPEND")

/* Note: Boehm-style boolean variables count as set when present ("1",
 * "yes", "true", "on" or empty); "0", "no", "false" and "off" turn them
 * off.  Anything else is a malformed value: warned about, default kept. */
