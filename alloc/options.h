/* options: the settings pargc reads from the environment, once.
 *
 * pargc_options_init() reads every variable of the table in
 * options_table.h exactly once (the first GC_init or allocation calls it);
 * afterwards `pargc_opt` is read-only and any module reads its fields
 * directly.  A malformed or out-of-range value produces a one-line warning
 * naming the variable and the accepted range, and the default is kept.  An
 * unknown PARGC_* variable is warned about (probably a typo).
 */
#ifndef PARGC_OPTIONS_H
#define PARGC_OPTIONS_H
#ifndef PARGC_BUILDING
#error "alloc/options.h is internal to pargc"
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "alloc/options_table.h"

#define PARGC_OPT_CTYPE_BOOL bool
#define PARGC_OPT_CTYPE_INT int64_t
#define PARGC_OPT_CTYPE_SIZE int64_t
#define PARGC_OPT_CTYPE_STR const char *

struct pargc_options {
#define PARGC_OPT_FIELD(field, env, type, def, lo, hi, doc)                  \
  PARGC_OPT_CTYPE_##type field;
  PARGC_OPTIONS(PARGC_OPT_FIELD)
#undef PARGC_OPT_FIELD
  /* One flag per option: was it set (validly) in the environment? */
  struct {
#define PARGC_OPT_SETFLAG(field, env, type, def, lo, hi, doc) bool field;
    PARGC_OPTIONS(PARGC_OPT_SETFLAG)
#undef PARGC_OPT_SETFLAG
  } given;
};

/* The settings; valid after pargc_options_init(). */
extern struct pargc_options pargc_opt;

/* Read the environment (envp: NULL means the process environment).
 * Idempotent: only the first call reads; later calls return at once.
 * pargc_options_reset() lets unit tests read a different environment. */
void pargc_options_init(char **envp);
void pargc_options_reset(void);

/* Parse "123", "64K", "2M", "1G", "1T" into bytes; false if malformed. */
bool pargc_options_parse_size(const char *s, int64_t *out);

/* Write the environment-variable table as Markdown (docs/environment.md). */
void pargc_options_write_markdown(FILE *out);

#endif
