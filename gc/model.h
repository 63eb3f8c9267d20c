/* model: predict a stop-the-world mark's time on P GC threads from a
 * heap snapshot (gc/snapshot.h), after Endo, Taura and Yonezawa,
 * "Predicting scalability of parallel garbage collectors on shared
 * memory multiprocessors" (IPDPS 2001; Endo's thesis, part 3).
 *
 * The model, term by term (docs/performance.md, "The performance model"):
 *
 *   pseudo-mark  a sequential depth-first mark of the snapshot, in the
 *                tracer's order (LIFO stack, large objects in pieces),
 *                feeding every line it touches -- the object's words,
 *                and for each pointer the target's page descriptor and
 *                mark word -- to a cache simulation (L1, L2, last level,
 *                TLB; LRU, set-associative, warmed by the live data in
 *                address order, as the allocating program leaves it).
 *                Per object it records the CPU cost (calibrated per
 *                object, per scanned word, per pointer, per L2 miss that
 *                hits the last level, per TLB miss) and its misses to
 *                memory, and per memory node the misses that reach it.
 *   T1, Q1       the sums: sequential CPU time, misses to memory.  A
 *                miss on an object's first line waits out the latency
 *                (Q1); misses on its later lines are streamed by the
 *                hardware prefetcher (S1) and cost the node's occupancy
 *                SO only -- both queue at the node.
 *   overlap      a miss waits out only part of the latency when others
 *                are in flight beside it: the tracer prefetches each
 *                object PARGC_MODEL_PREFETCH_DEPTH scans before it scans
 *                it, when the stack holds that many, and the loads of
 *                one object's pointers are independent.  A miss with w
 *                such loads available (the pseudo-mark's stack, or the
 *                object's pointers) is charged 1 / min(w, mlp) of the
 *                latency, mlp the misses one core keeps in flight
 *                (measured); Q1w is the sum of those shares.  A chain
 *                (w = 1) waits out every miss; a wide heap pays the
 *                latency once per mlp misses.
 *   TP           the makespan of a simulated work-stealing mark on P
 *                threads (private stacks, the oldest entry stolen from a
 *                random victim, a cost per steal and for waking the
 *                helpers; when the busy threads outnumber the CPUs the
 *                machine gives them, avail_cpus, each runs that much
 *                slower) -- never less than the critical path, the
 *                costliest chain of the discovery tree (a long list
 *                cannot be marked in parallel).
 *   QP           Q1 + steals x the average live lines of a stolen task
 *                (lines the pseudo-mark found in cache when it scanned
 *                the stolen object, which a thief does not have).  With
 *                a last-level cache shared by the GC threads those extra
 *                misses hit it and cost its latency, not memory's.
 *   MP           2 SL + SO + the queueing delay at the memory nodes, by
 *                exact mean-value analysis of a closed network: P' threads
 *                alternate computing (TP / (QP / P') per miss) and one miss
 *                to node k with the frequency the pseudo-mark recorded;
 *                SO is each node's occupancy per line.
 *   TPM          TP + (QPw MP + S1 (SO + queueing)) / P' (the thesis'
 *                corrected formula, with streamed misses; QPw is QP with
 *                Q1w for Q1), reported as
 *                cpu (TP), miss (QPw 2 SL + (QP + S1) SO, over P') and
 *                contention ((QP + S1) x queueing / P').  P' is the
 *                parallelism the simulated mark reached, T1 / TP (at most
 *                P): the thesis divides by P, which assumes the misses
 *                spread over the threads; on a narrow graph they do not.
 *                The queueing network has P' customers for the same
 *                reason.
 *
 * Everything here is arithmetic on the snapshot and a machine
 * description; measuring the machine is the pargc-predict program's job.
 */
#ifndef PARGC_MODEL_H
#define PARGC_MODEL_H
#ifndef PARGC_BUILDING
#error "gc/model.h is internal to pargc"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gc/snapshot.h"

#define PARGC_MODEL_MAX_NODES 64
/* The tracer's prefetch FIFO (PREFETCH_DEPTH in gc/tracer.c). */
#define PARGC_MODEL_PREFETCH_DEPTH 64

struct pargc_cache_level {
  uint64_t bytes; /* 0: the level is absent */
  unsigned ways;
  unsigned line;  /* bytes per line (TLB: page bytes) */
};

/* What the model needs to know of a machine; see pargc_machine_write for
 * the file form, docs/tuning.md for how it is measured. */
struct pargc_machine {
  struct pargc_cache_level l1, l2, llc, tlb;
  bool llc_shared;       /* one last-level cache for all the GC threads */
  unsigned cpus;         /* hardware threads */
  double avail_cpus;     /* CPUs the GC threads get (a busy machine gives
                            fewer): P threads on fewer time-share them */
  unsigned nodes;        /* memory nodes */
  /* CPU costs, nanoseconds (calibrated on real collections). */
  double obj_ns;         /* per marked object that is scanned */
  double word_ns;        /* per word scanned (objects and roots) */
  double ptr_ns;         /* per word that points to a live object */
  double llc_hit_ns;     /* per L2 miss that hits the last level */
  double tlb_ns;         /* per TLB miss */
  double fixed_ns;       /* per collection, whatever its heap (starting
                            the mark, the bitmaps' first touch) */
  /* Memory (thesis: SL one-way latency, SO node occupancy). */
  double sl_ns, sl_remote_ns, so_ns;
  double mlp;            /* misses one core keeps in flight (>= 1) */
  /* Parallel overheads. */
  double steal_ns;       /* a successful steal */
  double probe_ns;       /* a failed look at a victim */
  double wake_ns;        /* helpers starting a round */
  uint64_t piece_bytes;  /* PARGC_MARK_PIECE */
};

/* Defaults for a machine nothing was measured on, cache sizes from hwloc
 * when the topology module can give them (else typical values). */
void pargc_machine_defaults(struct pargc_machine *m);
/* Text form: "key value" per line, '#' comments.  Reading keeps the
 * defaults for absent keys; false (with a reason) on a malformed line. */
bool pargc_machine_read(struct pargc_machine *m, const char *path, char *err, size_t errlen);
void pargc_machine_write(const struct pargc_machine *m, FILE *out);

/* The pseudo-mark: P-independent, computed once per snapshot. */
struct pargc_model_base {
  const struct pargc_snapshot *s;
  size_t nroots;        /* roots, with live objects no root reached added */
  uint32_t *roots;
  uint32_t *order;      /* objects in pseudo-mark order */
  uint32_t *parent;     /* discovery tree (UINT32_MAX: a root) */
  double *cost_ns;      /* per object: its CPU cost in the pseudo-mark */
  uint16_t *hit_lines;  /* per object: its lines found in cache (L2) */
  double t1_ns;         /* sum of cost_ns plus the root words */
  double root_ns;       /* scanning the root words, and fixed_ns */
  double critical_ns;   /* the costliest chain */
  uint64_t q1;          /* misses to memory that wait for it */
  double q1w;           /* their share of the latency: each miss 1 / overlap */
  uint64_t s1;          /* misses to memory streamed (an object's later lines) */
  uint64_t l1_misses, l2_misses, tlb_misses, accesses;
  uint64_t node_misses[PARGC_MODEL_MAX_NODES];
  uint64_t scanned_words, pointer_words, objects, scanned_objects;
};

struct pargc_model_result {
  unsigned threads;
  double predicted_ns;  /* TPM */
  double cpu_ns;        /* TP */
  double miss_ns;       /* QP (2 SL + SO) / P */
  double contention_ns; /* QP x queueing delay / P */
  double critical_ns;
  uint64_t steals, qp, extra_misses;
  double mp_ns;         /* MP */
};

/* Pseudo-mark the snapshot under machine m.  false on out of memory. */
bool pargc_model_prepare(struct pargc_model_base *b, const struct pargc_snapshot *s,
                         const struct pargc_machine *m);
void pargc_model_release(struct pargc_model_base *b);
/* Predict P threads (P >= 1).  `seed` drives the stealing simulation's
 * choice of victims (the result is deterministic for a seed). */
void pargc_model_predict(const struct pargc_model_base *b, const struct pargc_machine *m,
                         unsigned p, uint64_t seed, struct pargc_model_result *out);

/* The cheap online form, for PARGC_GC_THREADS=auto (gc/tracer.c): what
 * one collection showed -- its mark time on `threads` GC threads and the
 * parallelism it reached (the threads' time marking over the mark's
 * time, 1 .. threads; the model's P' = T1 / TP) -- gives the sequential
 * work T1 (that parallelism times the mark time) and, when several
 * threads marked, the parallelism the graph allowed (what was reached,
 * when it fell short of the threads: the graph was too narrow; twice
 * the threads when it did not).  The next collection, whose heap is assumed alike, takes
 * the P <= min(max, that parallelism) minimising T1 / P + wake (P - 1)
 * -- the model's TP with start-up cost, its misses spread with the
 * work -- and one thread unless more gain 3% at least, so a small heap
 * never marks slower than on one thread.  Each collection on one thread
 * raises the parallelism bound by a quarter, so a heap once found
 * narrow is tried on more threads again a few collections later. */
struct pargc_model_online {
  double t1_ns;     /* sequential work of the last collection seen */
  double shown;     /* parallelism seen on several threads (0: none yet) */
};
void pargc_model_online_observe(struct pargc_model_online *o, uint64_t mark_ns, unsigned threads,
                                double parallelism, double wake_ns);
unsigned pargc_model_online_threads(const struct pargc_model_online *o, unsigned max,
                                    double wake_ns);

#endif
