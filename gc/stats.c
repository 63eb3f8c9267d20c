/* stats: per-collection figures, totals, text and JSON output. */
#include "config.h"
#include "gc/stats.h"
#include "alloc/options.h"
#include "alloc/report.h"

#include <fcntl.h>
#include <pargc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pargc_totals pargc_totals;
int pargc_stats_log_fd = STDERR_FILENO;

static void write_all(int fd, const char *buf, size_t len)
{
  while (len) {
    ssize_t n = write(fd, buf, len);
    if (n <= 0)
      return;
    buf += n;
    len -= (size_t)n;
  }
}

void pargc_stats_record(const struct pargc_collection_stats *s)
{
  pargc_totals.collections++;
  pargc_totals.concurrent_cycles += s->concurrent != 0;
  pargc_totals.pause_total_us += s->pause_us;
  pargc_totals.pause_total_us += s->init_pause_us;
  uint64_t longest = s->pause_us > s->init_pause_us ? s->pause_us : s->init_pause_us;
  if (longest > pargc_totals.pause_max_us)
    pargc_totals.pause_max_us = longest;
  pargc_totals.mark_total_us += s->mark_us;
  if (s->live_bytes > pargc_totals.live_max_bytes)
    pargc_totals.live_max_bytes = s->live_bytes;

  char buf[4096];
  size_t n = 0;
  if (pargc_opt.print_stats) {
    n = (size_t)snprintf(buf, sizeof buf, "pargc: gc");
#define PARGC_STATS_TEXT(f, unit, doc)                                        \
  n += (size_t)snprintf(buf + n, sizeof buf - n, " %s=%llu%s", #f,            \
                        (unsigned long long)s->f, unit);
    PARGC_COLLECTION_FIELDS(PARGC_STATS_TEXT)
#undef PARGC_STATS_TEXT
    n += (size_t)snprintf(buf + n, sizeof buf - n, "\n");
    write_all(pargc_stats_log_fd, buf, n < sizeof buf ? n : sizeof buf - 1);
  }
  if (pargc_opt.stats_file[0]) {
    n = (size_t)snprintf(buf, sizeof buf, "{");
#define PARGC_STATS_JSON(f, unit, doc)                                        \
  n += (size_t)snprintf(buf + n, sizeof buf - n, "\"%s\":%llu,", #f,          \
                        (unsigned long long)s->f);
    PARGC_COLLECTION_FIELDS(PARGC_STATS_JSON)
#undef PARGC_STATS_JSON
    n += (size_t)snprintf(buf + n, sizeof buf - n, "\"marked_per_thread\":[");
    for (uint64_t i = 0; i < s->gc_threads && n < sizeof buf - 32; i++)
      n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%llu", i ? "," : "",
                            (unsigned long long)s->marked_per_thread[i]);
    n += (size_t)snprintf(buf + n, sizeof buf - n, "]}\n");
    int fd = open(pargc_opt.stats_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      pargc_warn_once("cannot open PARGC_STATS_FILE=%s for appending", pargc_opt.stats_file);
    } else {
      write_all(fd, buf, n < sizeof buf ? n : sizeof buf - 1);
      close(fd);
    }
  }
}

static void (*stats_print_totals)(FILE *out);

static void print_totals_at_exit(void)
{
  if (pargc_stats_log_fd == STDERR_FILENO) {
    stats_print_totals(stderr);
    return;
  }
  int fd = dup(pargc_stats_log_fd);
  FILE *log = fd >= 0 ? fdopen(fd, "a") : NULL;
  stats_print_totals(log ? log : stderr);
  if (log)
    fclose(log);
}

void pargc_stats_open_log(void)
{
  /* GC_LOG_FILE: the statistics (and GC_log_printf) go to this file,
   * appended to, as in Boehm GC.  Once. */
  static bool opened;
  if (opened || !pargc_opt.log_file[0])
    return;
  opened = true;
  int fd = open(pargc_opt.log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    pargc_warn("Failed to open %s as log file", pargc_opt.log_file);
  else
    pargc_stats_log_fd = fd;
}

void pargc_stats_install(void (*print_totals)(FILE *out))
{
  pargc_stats_open_log();
  stats_print_totals = print_totals;
  if (pargc_opt.print_stats)
    atexit(print_totals_at_exit);
}
