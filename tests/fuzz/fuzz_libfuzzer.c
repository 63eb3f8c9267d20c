/* fuzz_libfuzzer.c: the driver's operations under libFuzzer, one thread.
 *
 * The input is a sequence of 4-byte records: byte 0 picks the operation
 * (fz_op_names, modulo their number), bytes 1-3 seed the choices it
 * makes (sizes, kinds, places).  So libFuzzer's mutations reorder, drop
 * and repeat operations, and its coverage feedback (of the collector
 * too, when libpargc is built with -fsanitize=fuzzer-no-link) steers it.
 * Every input starts from an empty graph and ends with a collection and
 * a last check; a lost object aborts, which libFuzzer reports with the
 * input that did it.  Built only on request: `make fuzz-libfuzzer`
 * (docs/testing.md). */
#include "fuzz.h"

#include <stdio.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  fz_cfg.threads = 1;
  fz_cfg.max_live = (size_t)32 << 20;
  fz_cfg.toggles = 1;
  fz_cfg.abort_on_fail = 1; /* libFuzzer keeps the input of a crash */
  snprintf(fz_cfg.cmdline, sizeof fz_cfg.cmdline, "%s <the crash file libFuzzer wrote>", (*argv)[0]);
  GC_INIT();
  fz_init_collector_extras();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct fz_thread t;
  fz_thread_init(&t, size, 0);
  for (size_t i = 0; i + 4 <= size; i += 4) {
    int op = data[i] % FZ_OP_COUNT;
    if (!fz_op_allowed(&t, op))
      op = FZ_OP_VERIFY;
    fz_rng_seed(&t.rng, (uint64_t)data[i + 1] | (uint64_t)data[i + 2] << 8
                            | (uint64_t)data[i + 3] << 16 | (uint64_t)i << 24);
    fz_run_op(&t, op);
    t.ops_done++;
    fz_after_op(&t);
  }
  GC_gcollect();
  GC_invoke_finalizers();
  fz_thread_fini(&t);
  return 0;
}
