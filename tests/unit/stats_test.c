/* Statistics output: with GC_PRINT_STATS, one readable line per
 * collection on stderr and the totals when the program exits; with
 * PARGC_STATS_FILE, one JSON line per collection appended to the file.
 * The test runs itself again as a child with both set and reads back
 * what the child wrote. */
#include "config.h"
#include <gc.h>
#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { LIVE_NODES = 2000, ROUNDS = 3 };

struct node {
  struct node *next;
  long pad[3]; /* 32 bytes */
};

static struct node *live;

/* The child: a list that stays live, garbage beside it, ROUNDS explicit
 * collections.  Its exit status is the number of collections it saw. */
static int child(void)
{
  GC_INIT();
  for (int i = 0; i < LIVE_NODES; i++) {
    struct node *n = GC_MALLOC(sizeof *n);
    n->next = live;
    live = n;
  }
  for (int r = 0; r < ROUNDS; r++) {
    for (int i = 0; i < 1000; i++)
      GC_MALLOC(64);
    GC_gcollect();
  }
  return (int)GC_get_gc_no();
}

/* The whole file (up to 1 MiB), NUL-terminated; free it. */
static char *read_file(const char *path)
{
  enum { MAX = 1 << 20 };
  int fd = open(path, O_RDONLY);
  char *buf = fd < 0 ? NULL : malloc(MAX);
  size_t len = 0;
  ssize_t n = 0;
  while (buf && len < MAX - 1 && (n = read(fd, buf + len, MAX - 1 - len)) > 0)
    len += (size_t)n;
  if (fd >= 0)
    close(fd);
  if (!buf || n < 0) {
    free(buf);
    return NULL;
  }
  buf[len] = '\0';
  return buf;
}

/* Lines of `text` that start with `prefix`. */
static int count_lines(const char *text, const char *prefix)
{
  int n = 0;
  for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
    if (!strncmp(l, prefix, strlen(prefix)))
      n++;
  return n;
}

/* The number after `key` in the line, or -1. */
static long long field(const char *line, const char *key)
{
  const char *p = strstr(line, key);
  return p ? atoll(p + strlen(key)) : -1;
}

static void check_text(const char *err, int collections)
{
  CHECK_EQ(count_lines(err, "pargc: gc gc_no="), collections);
  char want[64];
  for (int i = 1; i <= collections; i++) {
    snprintf(want, sizeof want, "pargc: gc gc_no=%d ", i);
    const char *line = strstr(err, want);
    CHECK(line != NULL);
    if (!line)
      continue;
    /* The list, at least, was marked; mark time and heap are there. */
    CHECK(field(line, " live_bytes=") >= (long long)LIVE_NODES * (long long)sizeof(struct node));
    CHECK(field(line, " mark_us=") >= 0);
    CHECK(field(line, " heap_bytes=") > 0);
  }
  /* The totals, once, after the last collection's line. */
  snprintf(want, sizeof want, "pargc: %d collections, pause total ", collections);
  const char *totals = strstr(err, want);
  CHECK(totals != NULL);
  snprintf(want, sizeof want, "pargc: gc gc_no=%d ", collections);
  CHECK(totals && strstr(err, want) < totals);
  CHECK_EQ(count_lines(err, "pargc: pages fresh "), 1);
}

static void check_json(const char *json, int collections)
{
  CHECK_EQ(count_lines(json, "{\"gc_no\":"), collections);
  int lines = 0;
  for (const char *l = json; l && *l; lines++) {
    const char *end = strchr(l, '\n');
    CHECK(end != NULL);
    if (!end)
      break;
    CHECK(end - l > 3 && !strncmp(end - 2, "]}", 2)); /* marked_per_thread closes it */
    CHECK(strstr(l, "\"live_bytes\":") && strstr(l, "\"live_bytes\":") < end);
    CHECK(strstr(l, "\"marked_per_thread\":[") && strstr(l, "\"marked_per_thread\":[") < end);
    l = end + 1;
  }
  CHECK_EQ(lines, collections);
}

int main(int argc, char **argv)
{
  if (argc > 1 && !strcmp(argv[1], "child"))
    return child();

  char dir[] = "/tmp/pargc-stats-test-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char err_path[64], json_path[64];
  snprintf(err_path, sizeof err_path, "%s/stderr", dir);
  snprintf(json_path, sizeof json_path, "%s/stats.json", dir);

  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
      _exit(100);
    setenv("GC_PRINT_STATS", "1", 1);
    setenv("PARGC_STATS_FILE", json_path, 1);
    execl("/proc/self/exe", argv[0], "child", (char *)NULL);
    _exit(101);
  }
  int status = 0;
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  int collections = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  CHECK(collections >= ROUNDS && collections < 100);

  char *err = read_file(err_path);
  CHECK(err != NULL);
  if (err)
    check_text(err, collections);
  char *json = read_file(json_path);
  CHECK(json != NULL);
  if (json)
    check_json(json, collections);
  free(err);
  free(json);

  unlink(err_path);
  unlink(json_path);
  rmdir(dir);
  return CHECK_SUMMARY();
}
