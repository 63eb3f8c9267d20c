/* options: parse the environment into pargc_opt; see options.h. */
#include "config.h"
#include "alloc/options.h"
#include "alloc/report.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

struct pargc_options pargc_opt;
static bool options_done;

enum option_type { OPT_BOOL, OPT_INT, OPT_SIZE, OPT_STR };

/* The table, flattened into data so one loop parses every option. */
struct option_desc {
  const char *env;
  enum option_type type;
  const char *def;
  int64_t lo, hi;
  const char *doc;
  void *field;
  bool *given;
};

static const struct option_desc option_table[] = {
#define PARGC_OPT_DESC(field, env, type, def, lo, hi, doc)                   \
  {env, OPT_##type, def, lo, hi, doc, &pargc_opt.field, &pargc_opt.given.field},
    PARGC_OPTIONS(PARGC_OPT_DESC)
#undef PARGC_OPT_DESC
};
#define OPTION_COUNT (sizeof option_table / sizeof option_table[0])

bool pargc_options_parse_size(const char *s, int64_t *out)
{
  while (isspace((unsigned char)*s))
    s++;
  if (*s == '-' || *s == 0)
    return false;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s)
    return false;
  unsigned shift = 0;
  switch (toupper((unsigned char)*end)) {
  case 'K': shift = 10; end++; break;
  case 'M': shift = 20; end++; break;
  case 'G': shift = 30; end++; break;
  case 'T': shift = 40; end++; break;
  default: break;
  }
  if (shift && toupper((unsigned char)*end) == 'B')
    end++; /* accept "64KB" as well as "64K" */
  while (isspace((unsigned char)*end))
    end++;
  if (*end)
    return false;
  if (v > (unsigned long long)INT64_MAX >> shift)
    return false;
  *out = (int64_t)(v << shift);
  return true;
}

static bool parse_int(const char *s, int64_t *out)
{
  errno = 0;
  char *end;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s)
    return false;
  while (isspace((unsigned char)*end))
    end++;
  if (*end)
    return false;
  *out = v;
  return true;
}

static bool parse_bool(const char *s, bool *out)
{
  static const char *const yes[] = {"", "1", "yes", "true", "on"};
  static const char *const no[] = {"0", "no", "false", "off"};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    if (strcasecmp(s, yes[i]) == 0)
      return *out = true, true;
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    if (strcasecmp(s, no[i]) == 0)
      return *out = false, true;
  return false;
}

/* Parse `text` into the option's field.  Returns false (field untouched)
 * when the text is malformed or out of range. */
static bool option_parse(const struct option_desc *o, const char *text)
{
  int64_t v;
  switch (o->type) {
  case OPT_BOOL:
    return parse_bool(text, (bool *)o->field);
  case OPT_INT:
    /* An integer option whose minimum is -1 takes "auto" for it. */
    if (o->lo == -1 && strcasecmp(text, "auto") == 0)
      v = -1;
    else if (!parse_int(text, &v) || v < o->lo || v > o->hi)
      return false;
    *(int64_t *)o->field = v;
    return true;
  case OPT_SIZE:
    if (!pargc_options_parse_size(text, &v) || v < o->lo || v > o->hi)
      return false;
    *(int64_t *)o->field = v;
    return true;
  case OPT_STR:
    *(const char **)o->field = text;
    return true;
  }
  return false;
}

static void option_warn_bad(const struct option_desc *o, const char *text)
{
  switch (o->type) {
  case OPT_BOOL:
    pargc_warn("%s=\"%s\" is not a boolean (use 1/0, yes/no, true/false, on/off); keeping %s",
               o->env, text, o->def);
    break;
  case OPT_INT:
    pargc_warn("%s=\"%s\" is not %san integer in %lld..%lld; keeping %s", o->env, text,
               o->lo == -1 ? "\"auto\" or " : "", (long long)(o->lo == -1 ? 0 : o->lo),
               (long long)o->hi, o->def);
    break;
  case OPT_SIZE:
    pargc_warn("%s=\"%s\" is not a size in %lld..%lld bytes (K/M/G/T suffixes allowed); keeping %s",
               o->env, text, (long long)o->lo, (long long)o->hi, o->def);
    break;
  case OPT_STR:
    break;
  }
}

static const char *env_lookup(char **envp, const char *name)
{
  size_t n = strlen(name);
  for (char **e = envp; e && *e; e++)
    if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
      return *e + n + 1;
  return NULL;
}

void pargc_options_init(char **envp)
{
  if (options_done)
    return;
  options_done = true;
  if (!envp)
    envp = environ;
  for (size_t i = 0; i < OPTION_COUNT; i++) {
    const struct option_desc *o = &option_table[i];
    if (!option_parse(o, o->def))
      pargc_fatal("built-in default of %s (\"%s\") does not parse", o->env, o->def);
    *o->given = false;
    const char *text = env_lookup(envp, o->env);
    if (!text)
      continue;
    if (option_parse(o, text))
      *o->given = true;
    else
      option_warn_bad(o, text);
  }
  /* An unknown PARGC_* name is most likely a typo: say so. */
  for (char **e = envp; e && *e; e++) {
    if (strncmp(*e, "PARGC_", 6) != 0)
      continue;
    size_t n = strcspn(*e, "=");
    bool known = false;
    for (size_t i = 0; i < OPTION_COUNT && !known; i++)
      known = strlen(option_table[i].env) == n &&
              strncmp(option_table[i].env, *e, n) == 0;
    if (!known)
      pargc_warn("unknown variable %.*s ignored (see docs/environment.md)", (int)n, *e);
  }
}

void pargc_options_reset(void)
{
  options_done = false;
}

static const char *type_name(enum option_type t)
{
  switch (t) {
  case OPT_BOOL: return "boolean";
  case OPT_INT: return "integer";
  case OPT_SIZE: return "size";
  case OPT_STR: return "string";
  }
  return "?";
}

static void write_range(FILE *out, const struct option_desc *o)
{
  switch (o->type) {
  case OPT_BOOL: fputs("0 / 1", out); break;
  case OPT_STR: fputs("text", out); break;
  case OPT_INT:
    if (o->lo == -1) {
      fprintf(out, "auto, 0 .. %lld", (long long)o->hi);
      break;
    }
    /* fall through */
  case OPT_SIZE:
    fprintf(out, "%lld .. %lld", (long long)o->lo, (long long)o->hi);
    break;
  }
}

void pargc_options_write_markdown(FILE *out)
{
  fputs("# Environment variables\n\n"
        "<!-- Generated from alloc/options_table.h by `make env-doc`; do not edit.\n"
        "     tests/unit/options_test fails when this file and the table differ. -->\n\n"
        "pargc reads these once, when the collector initialises. A malformed or\n"
        "out-of-range value is reported in one line on stderr (naming the variable\n"
        "and the accepted range) and the default is kept. Sizes accept the suffixes\n"
        "K, M, G and T (powers of 1024). Booleans accept 1/0, yes/no, true/false,\n"
        "on/off; an empty value means on. An unknown `PARGC_*` variable is warned\n"
        "about. Variables named `GC_*` are Boehm GC's and keep Boehm's meaning.\n\n"
        "| Variable | Type | Default | Range | Meaning |\n"
        "|---|---|---|---|---|\n",
        out);
  for (size_t i = 0; i < OPTION_COUNT; i++) {
    const struct option_desc *o = &option_table[i];
    fprintf(out, "| `%s` | %s | `%s` | ", o->env, type_name(o->type),
            o->def[0] ? o->def : "\"\"");
    write_range(out, o);
    fprintf(out, " | %s |\n", o->doc);
  }
}
