/*
 * examples/matmul.c -- dense matrix product C = A x B, repeated, with all
 * three matrices reallocated every iteration.  Rows are partitioned
 * cyclically (row i belongs to thread i mod T), and each thread allocates
 * its own rows of A, B and C, so the allocator serves all threads at once
 * and, under pargc, a row lives in memory its owner touched first.
 *
 * A matrix is an array of row pointers (GC_MALLOC, scanned) to rows of
 * doubles (GC_MALLOC_ATOMIC: no pointers, never scanned).  At the start of
 * each iteration the previous three matrices become garbage.
 *
 * Entries are small integers, A[i][k] = (i + 2k + 3it) mod 7 - 3 and
 * B[k][j] = (3k + j + it) mod 5 - 2, so every product is exact in
 * doubles.  Check, every iteration: the weighted sums
 * sum_ij w_i v_j C[i][j] with two weightings equal
 * sum_k (sum_i w_i A[i][k]) (sum_j v_j B[k][j]), computed independently
 * from the formulas for A and B (never from the matrices) in 64-bit
 * integers; the weights make a row or column in the wrong place visible.
 */
#include "common.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "usage: matmul [-t threads] [-n size] [-i iterations] [-s] [-v]\n"
    "  Dense matrix product, matrices reallocated every iteration, rows\n"
    "  partitioned cyclically among the threads.\n"
    "  -t threads     worker threads (default: CPUs)\n"
    "  -n size        matrix order (default 400)\n"
    "  -i iterations  products computed (default 30)\n"
    "  -s             small mode for make check: order 64, 5 iterations\n"
    "  -v             print the full GC statistics\n";

static long a_at(long i, long k, long it) { return (i + 2 * k + 3 * it) % 7 - 3; }
static long b_at(long k, long j, long it) { return (3 * k + j + it) % 5 - 2; }
/* Two weightings: plain sums, and weights that differ between neighbours. */
static long w_at(int which, long i) { return which ? i % 13 + 1 : 1; }

typedef struct {
  int n, iterations, threads;
  double **a, **b, **c; /* this iteration's matrices */
  pthread_barrier_t barrier;
  atomic_int failures;
} job;

static job J; /* static: a root, and shared by the threads */

/* The expected weighted sum for iteration it, from the formulas alone. */
static long long expected_sum(int which, long it) {
  long long total = 0;
  for (long k = 0; k < J.n; k++) {
    long long col = 0, row = 0;
    for (long i = 0; i < J.n; i++)
      col += w_at(which, i) * a_at(i, k, it);
    for (long j = 0; j < J.n; j++)
      row += w_at(which, j) * b_at(k, j, it);
    total += col * row;
  }
  return total;
}

static void check(long it) {
  for (int which = 0; which < 2; which++) {
    long long got = 0;
    for (long i = 0; i < J.n; i++)
      for (long j = 0; j < J.n; j++)
        got += w_at(which, i) * w_at(which, j) * (long long)J.c[i][j];
    long long want = expected_sum(which, it);
    if (got != want) {
      fprintf(stderr, "matmul: iteration %ld: weighted sum %d is %lld, expected %lld\n", it,
              which, got, want);
      atomic_fetch_add(&J.failures, 1);
    }
  }
}

static void worker(int tid, void *arg) {
  const int n = J.n;
  for (long it = 0; it < J.iterations; it++) {
    /* Thread 0 replaces the row tables; the old matrices become garbage. */
    if (tid == 0) {
      J.a = GC_MALLOC(sizeof(double *) * (size_t)n);
      J.b = GC_MALLOC(sizeof(double *) * (size_t)n);
      J.c = GC_MALLOC(sizeof(double *) * (size_t)n);
    }
    pthread_barrier_wait(&J.barrier);
    for (int i = tid; i < n; i += J.threads) {
      double *ra = GC_MALLOC_ATOMIC(sizeof(double) * (size_t)n);
      double *rb = GC_MALLOC_ATOMIC(sizeof(double) * (size_t)n);
      for (int j = 0; j < n; j++) {
        ra[j] = (double)a_at(i, j, it);
        rb[j] = (double)b_at(i, j, it);
      }
      J.a[i] = ra;
      J.b[i] = rb;
    }
    pthread_barrier_wait(&J.barrier); /* A and B complete */
    for (int i = tid; i < n; i += J.threads) {
      /* GC_MALLOC_ATOMIC does not zero: clear the row before summing. */
      double *rc = GC_MALLOC_ATOMIC(sizeof(double) * (size_t)n);
      const double *ra = J.a[i];
      for (int j = 0; j < n; j++)
        rc[j] = 0;
      for (int k = 0; k < n; k++) { /* i-k-j order: rows of B stream through */
        const double aik = ra[k], *rb = J.b[k];
        for (int j = 0; j < n; j++)
          rc[j] += aik * rb[j];
      }
      J.c[i] = rc;
    }
    pthread_barrier_wait(&J.barrier); /* C complete */
    if (tid == 0)
      check(it);
    /* Nobody replaces the tables before the check has read them. */
    pthread_barrier_wait(&J.barrier);
  }
}

int main(int argc, char **argv) {
  ex_opts o = {.name = "matmul"};
  ex_parse(&o, argc, argv, usage, 400, 30, 64, 5);
  if (o.size > 20000) {
    fprintf(stderr, "matmul: -n wants at most 20000\n");
    return 2;
  }
  J.n = (int)o.size;
  J.iterations = (int)o.count;
  J.threads = o.threads;
  pthread_barrier_init(&J.barrier, NULL, (unsigned)o.threads);
  ex_start(&o);
  ex_parallel(o.threads, worker, NULL);
  ex_stop();
  pthread_barrier_destroy(&J.barrier);
  return ex_finish(&o, atomic_load(&J.failures) == 0 && J.iterations > 0);
}
