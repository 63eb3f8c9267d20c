/* The options table: every setting pargc reads from the environment.
 *
 * One row per option:
 *   X(field, "ENVIRONMENT_VARIABLE", TYPE, "default", min, max, "one-line doc")
 * TYPE is BOOL, INT, SIZE (bytes; accepts K/M/G/T suffixes) or STR.  The
 * default is written as a user would write it and parsed by the same code.
 * min and max bound INT and SIZE values (ignored for BOOL and STR); an
 * INT whose min is -1 also takes the word "auto", stored as -1.
 *
 * This table generates the settings struct (options.h), the parser
 * (options.c) and docs/environment.md (`make env-doc`); the unit test
 * tests/unit/options_test.c fails when the document and the table differ.
 * Boehm GC's variables keep Boehm's names and meaning.
 */
#define PARGC_OPTIONS(X)                                                     \
  X(k, "PARGC_K", INT, "0", 0, 4096,                                         \
    "LPS consumption constant: fresh OS pages are taken while the heap stays under k x max(l), max(l) being the live data plus one collection interval; beyond that, free pages are stolen from other threads. 0: 1 on a machine with one NUMA node, 2 with several. Clamped to the number of threads (see docs/tuning.md)") \
  X(gc_threads, "PARGC_GC_THREADS", INT, "0", -1, 1024,                      \
    "Number of threads that mark in parallel; 0 means GC_MARKERS, else GC_NPROCS, else the online CPUs. auto: each collection chooses up to that many from the live data and the balance the last one showed, with the performance model's online form (docs/tuning.md)") \
  X(gc_markers, "GC_MARKERS", INT, "0", 0, 1024,                             \
    "Boehm GC: number of marker threads (same as PARGC_GC_THREADS when that is unset)") \
  X(gc_nprocs, "GC_NPROCS", INT, "0", 0, 1024,                               \
    "Boehm GC: number of processors to use; sets the GC threads when neither PARGC_GC_THREADS nor GC_MARKERS is set") \
  X(heap_reserve, "PARGC_HEAP_RESERVE", SIZE, "256G", 64 << 20, 1LL << 46,   \
    "Virtual address space reserved for the heap at start-up (never committed up front); the hard upper bound of the heap") \
  X(initial_heap, "GC_INITIAL_HEAP_SIZE", SIZE, "8M", 0, 1LL << 46,          \
    "Boehm GC: heap size before the first collection is considered") \
  X(max_heap, "GC_MAXIMUM_HEAP_SIZE", SIZE, "0", 0, 1LL << 46,               \
    "Boehm GC: largest heap pargc will grow to (0: no limit but PARGC_HEAP_RESERVE); past it allocation calls the out-of-memory handler") \
  X(free_space_divisor, "GC_FREE_SPACE_DIVISOR", INT, "3", 1, 1000000,       \
    "Boehm GC: when set (here or by GC_set_free_space_divisor), size the heap as Boehm GC does instead of by PARGC_HEAP_BALANCE: allocate at least heap/divisor between collections (and first the space the last one left free); larger values collect more often and keep the heap smaller") \
  X(heap_balance, "PARGC_HEAP_BALANCE", SIZE, "16M", 1024, 1LL << 46,        \
    "Heap sizing (MemBalancer): the memory worth a collector that takes all the time; between collections the program allocates sqrt(PARGC_HEAP_BALANCE x live x allocation rate / collection speed) bytes. Larger: a larger heap, fewer collections. Ignored when GC_FREE_SPACE_DIVISOR is set (see docs/tuning.md)") \
  X(heap_min_interval, "PARGC_HEAP_MIN_INTERVAL", SIZE, "1M", 64 << 10, 1LL << 46, \
    "Heap sizing: the least the program allocates between two collections, however small its live data") \
  X(heap_max_growth, "PARGC_HEAP_MAX_GROWTH", INT, "75", 0, 100000,           \
    "Heap sizing: the most the program allocates between two collections, in percent of the live data (PARGC_HEAP_MIN_INTERVAL still the least; 0: no bound), but not below Boehm GC's own interval, (2 x live + roots scanned) / 3, where collections would take more than PARGC_HEAP_MAX_GC_SHARE of the time. Keeps heaps within Boehm GC's size, where fixed costs per collection make MemBalancer's interval large") \
  X(heap_max_gc_share, "PARGC_HEAP_MAX_GC_SHARE", INT, "25", 0, 100000,        \
    "Heap sizing: the most time the program may spend stopped for collections, in percent of the time it runs between them; past it the interval grows until the stops cost this much, as long as the garbage a longer interval leaves is under a quarter of the live data (0: no bound; PARGC_HEAP_MAX_GROWTH still the most)") \
  X(print_stats, "GC_PRINT_STATS", BOOL, "0", 0, 0,                          \
    "Boehm GC: print one line of statistics per collection on stderr, and the totals (pargc_print_stats) when the program exits") \
  X(dont_gc, "GC_DONT_GC", BOOL, "0", 0, 0,                                  \
    "Boehm GC: never collect (allocation only; the heap grows)") \
  X(stats_file, "PARGC_STATS_FILE", STR, "", 0, 0,                           \
    "Append one JSON line per collection to this file (for plotting)") \
  X(malloc_mode, "PARGC_MALLOC_MODE", STR, "free", 0, 0,                    \
    "libpargc-malloc only: free (an explicit allocator: free is honoured, no collector runs) or collect (free is a hint; the collector, loaded from libpargc, reclaims the program's unreachable objects); see docs/malloc.md") \
  X(malloc_bad_free, "PARGC_MALLOC_BAD_FREE", STR, "abort", 0, 0,            \
    "libpargc-malloc only: what free and realloc do with a pointer they did not hand out, or one freed already: abort (one line on stderr, then abort) or ignore (leave it alone)") \
  X(malloc_purge_delay_ms, "PARGC_MALLOC_PURGE_DELAY_MS", INT, "10", 0, 3600000, \
    "libpargc-malloc only: free runs idle this long go back to the OS when a large object is freed (or at malloc_trim); takes the place of PARGC_DECOMMIT_DELAY_MS there") \
  X(verify, "PARGC_VERIFY", BOOL, "0", 0, 0,                                 \
    "After each mark, check it independently (own root scan, every kind's own scan, sequential) and abort if anything reachable was left unmarked") \
  X(decommit, "PARGC_DECOMMIT", BOOL, "1", 0, 0,                             \
    "Give free pages back to the OS (madvise) once they stayed free for PARGC_DECOMMIT_DELAY_MS") \
  X(decommit_delay_ms, "PARGC_DECOMMIT_DELAY_MS", INT, "500", 0, 3600000,    \
    "How long a page must stay free before it is decommitted, in milliseconds") \
  X(deque_size, "PARGC_DEQUE_SIZE", INT, "16384", 4, 16777216,              \
    "Entries in each GC thread's private mark stack and in its deque; on overflow work moves to a shared overflow list, never lost") \
  X(mark_piece, "PARGC_MARK_PIECE", SIZE, "32K", 256, 16 << 20,              \
    "Objects larger than this are scanned in pieces of this size that other GC threads can steal") \
  X(snapshot, "PARGC_SNAPSHOT", STR, "", 0, 0,                               \
    "Write a heap snapshot (live objects, pointer edges, roots, memory nodes; docs/snapshot.md) for pargc-predict to this file: once, at collection PARGC_SNAPSHOT_EVERY; with %n in the name (the collection number), at every PARGC_SNAPSHOT_EVERY-th collection; %p is the process id") \
  X(snapshot_every, "PARGC_SNAPSHOT_EVERY", INT, "1", 1, 1000000000,         \
    "Which collections PARGC_SNAPSHOT writes: with %n in its name every this many, else the one with this number") \
  X(topology, "PARGC_TOPOLOGY", STR, "", 0, 0,                               \
    "hwloc topology to use instead of the machine's: a synthetic description (e.g. \"pack:2 core:2 pu:1\") or an XML file; for tests") \
  X(mode, "PARGC_MODE", STR, "stop", 0, 0,                                  \
    "How collections run: \"stop\" (stop the world, mark on all GC threads) or \"concurrent\" (mostly-concurrent: mark in parallel while the program runs, then a short parallel finish; see docs/tuning.md)") \
  X(barrier, "PARGC_BARRIER", STR, "auto", 0, 0,                             \
    "How concurrent mode finds the pages written during marking: \"mprotect\" (page protection), \"soft-dirty\" (the kernel's soft-dirty bits), \"manual\" (the program calls GC_end_stubborn_change / GC_ptr_store_and_dirty) or \"auto\" (manual if the program called GC_set_manual_vdb_allowed(1), else mprotect)") \
  X(conc_threads, "PARGC_CONC_GC_THREADS", INT, "0", 0, 1024,                \
    "GC threads that mark while the program runs in concurrent mode; 0 means all the GC threads (fewer leave more of the cores to the program during a cycle, which then lasts longer)") \
  X(conc_min_live, "PARGC_CONC_MIN_LIVE", SIZE, "2M", 0, 1LL << 46,          \
    "Concurrent mode: while the last collection found less live data than this, collections stop the world as in stop mode instead of running a cycle beside the program (a stopped collection of so little is about as short as a cycle's two stops, and costs the program less); 0: always a cycle") \
  X(preclean_rounds, "PARGC_PRECLEAN_ROUNDS", INT, "4", 0, 64,               \
    "Concurrent mode with mprotect: passes over the pages dirtied so far, made while the program runs, before the final stop (fewer pages to rescan in the pause)") \
  X(sig_suspend, "PARGC_SIG_SUSPEND", INT, "30", 1, 64,                      \
    "Signal that stops a thread for a collection (default SIGPWR, as Boehm GC); change it if the program uses that signal") \
  X(sig_restart, "PARGC_SIG_RESTART", INT, "24", 1, 64,                      \
    "Signal that restarts stopped threads (default SIGXCPU, as Boehm GC); must differ from PARGC_SIG_SUSPEND") \
  X(find_leak, "GC_FIND_LEAK", BOOL, "0", 0, 0,                                  \
    "Boehm GC: leak detection: each collection reports unreachable objects that were never freed (with file:line for GC_DEBUG objects), as GC_set_find_leak(1)") \
  X(abort_on_leak, "GC_ABORT_ON_LEAK", BOOL, "0", 0, 0,                                  \
    "Boehm GC: abort after reporting leaks (with GC_FIND_LEAK)") \
  X(ignore_gcj_info, "GC_IGNORE_GCJ_INFO", BOOL, "0", 0, 0,                                  \
    "Boehm GC: scan gcj objects conservatively instead of by their vtable descriptor") \
  X(print_verbose_stats, "GC_PRINT_VERBOSE_STATS", BOOL, "0", 0, 0,                                  \
    "Boehm GC: verbose statistics; pargc prints the same line per collection as GC_PRINT_STATS") \
  X(all_interior_pointers, "GC_ALL_INTERIOR_POINTERS", BOOL, "1", 0, 0,                                  \
    "Boehm GC: when present, interior pointers are recognised even if the program turned them off before GC_INIT (GC_set_all_interior_pointers(0)); they are on by default, and every allocation then gets a byte more so that a pointer just past its end keeps it too") \
  X(disable_incremental, "GC_DISABLE_INCREMENTAL", BOOL, "0", 0, 0,                                  \
    "Boehm GC: GC_enable_incremental and GC_ENABLE_INCREMENTAL are ignored: collections stay stop-parallel") \
  X(enable_incremental, "GC_ENABLE_INCREMENTAL", BOOL, "0", 0, 0,                                  \
    "Boehm GC: incremental collection; in pargc the same as PARGC_MODE=concurrent (mostly-concurrent parallel marking)") \
  X(dump_regularly, "GC_DUMP_REGULARLY", BOOL, "0", 0, 0,                                  \
    "Boehm GC: print GC_dump()'s summary (heap, free and unmapped bytes, regions, finalization tables) after every collection") \
  X(findleak_delay_free, "GC_FINDLEAK_DELAY_FREE", BOOL, "0", 0, 0,                                  \
    "Boehm GC: with GC_FIND_LEAK, GC_FREE keeps a debug object, filled with a marker, until a collection finds it unreachable; one written to after it was freed is reported as smashed") \
  X(force_unmap_on_gcollect, "GC_FORCE_UNMAP_ON_GCOLLECT", BOOL, "0", 0, 0,                                  \
    "Boehm GC: GC_gcollect gives every free page back to the OS, as GC_set_force_unmap_on_gcollect(1) (otherwise pargc decommits pages idle for PARGC_DECOMMIT_DELAY_MS)") \
  X(full_frequency, "GC_FULL_FREQUENCY", INT, "19", 0, 1000000,                                  \
    "Boehm GC: sets GC_full_freq (GC_get_full_freq); every pargc collection is full, so it changes nothing else (docs/api.md)") \
  X(large_alloc_warn_interval, "GC_LARGE_ALLOC_WARN_INTERVAL", INT, "5", 0, 1000000,                                  \
    "Boehm GC: accepted; no meaning in pargc: Boehm GC warns every this many large allocations that hit black-listed blocks, and pargc's runs skip black-listed pages without a warning") \
  X(log_file, "GC_LOG_FILE", STR, "", 0, 0,                                  \
    "Boehm GC: append the statistics lines (GC_PRINT_STATS) and GC_log_printf output to this file instead of stderr; warnings stay on stderr") \
  X(loop_on_abort, "GC_LOOP_ON_ABORT", BOOL, "0", 0, 0,                                  \
    "Boehm GC: on a fatal error, print it and wait (for a debugger to attach) instead of aborting") \
  X(no_blacklist_warning, "GC_NO_BLACKLIST_WARNING", BOOL, "0", 0, 0,                                  \
    "Boehm GC: accepted; no meaning in pargc: it silences the black-listed large allocation warning, which pargc never gives") \
  X(only_log_to_file, "GC_ONLY_LOG_TO_FILE", BOOL, "0", 0, 0,                                  \
    "Boehm GC: with GC_LOG_FILE, GC_printf and GC_err_printf write to the log file too") \
  X(pause_time_target, "GC_PAUSE_TIME_TARGET", INT, "0", 0, 1000000,                                  \
    "Boehm GC: sets GC_time_limit in milliseconds (as GC_set_time_limit) when positive; see docs/api.md for what the limit does in pargc") \
  X(print_address_map, "GC_PRINT_ADDRESS_MAP", BOOL, "0", 0, 0,                                  \
    "Boehm GC: print the process's memory map (/proc/self/maps) at start-up, on the log") \
  X(print_back_height, "GC_PRINT_BACK_HEIGHT", BOOL, "0", 0, 0,                                  \
    "Boehm GC: accepted; no meaning in pargc: it needs a back-pointer build of Boehm GC (MAKE_BACK_GRAPH), which Debian's libgc is not, and pargc keeps no back pointers") \
  X(retry_signals, "GC_RETRY_SIGNALS", BOOL, "0", 0, 0,                                  \
    "Boehm GC: accepted; no meaning in pargc: Boehm GC resends lost suspend signals; pargc's stop waits for each thread's acknowledgement and its handshake does not lose them (docs/threads.md)") \
  X(trace, "GC_TRACE", STR, "", 0, 0,                                  \
    "Boehm GC: accepted; no meaning in pargc: it traces one address in Boehm GC's debug builds (ENABLE_TRACE) only") \
  X(unmap_threshold, "GC_UNMAP_THRESHOLD", INT, "0", 0, 1000000,                                  \
    "Boehm GC: give a free run back to the OS once it stayed free for this many collections (instead of PARGC_DECOMMIT_DELAY_MS); 0: only GC_gcollect_and_unmap and GC_FORCE_UNMAP_ON_GCOLLECT give memory back") \
  X(use_entire_heap, "GC_USE_ENTIRE_HEAP", BOOL, "0", 0, 0,                                  \
    "Boehm GC: sets GC_use_entire_heap: free pages anywhere in the heap are used before fresh ones are taken from the OS") \
  X(use_getwritewatch, "GC_USE_GETWRITEWATCH", BOOL, "0", 0, 0,                                  \
    "Boehm GC: accepted; no meaning in pargc: Windows only (GetWriteWatch)")

/* Note: Boehm-style boolean variables count as set when present ("1",
 * "yes", "true", "on" or empty); "0", "no", "false" and "off" turn them
 * off.  Anything else is a malformed value: warned about, default kept. */
