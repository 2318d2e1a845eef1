/*
 * Physical-limit reference for many small .npy files: what the kernel needs to create them,
 * without any runtime around it. Per file: open(dir, O_TMPFILE | O_WRONLY), fallocate of the
 * data, pwrite of the .npy header, linkat(fd, "", dirfd, name, AT_EMPTY_PATH) (or the
 * /proc/self/fd path on ENOENT), close; the files split between THREADS pthreads.
 *
 * The header is NumPy's for a C-order array of SHAPE0 x SHAPE1 <f4, version 1.0: the dict of
 * `_write_array_header` in numpy/lib/format.py, padded with spaces and a newline so that the
 * header is a multiple of 64 bytes (ARRAY_ALIGN).
 *
 * Usage: many_files DIR COUNT THREADS [MODE]
 *   MODE nofsync (default): no fsync at all.
 *   MODE fsync:  fsync each file before its link, then fsync DIR once.
 *   MODE group:  per batch of 128 files: write all, fsync each, link all; fsync DIR once.
 *   MODE kick:   as group, but sync_file_range(SYNC_FILE_RANGE_WRITE) of all before the fsyncs
 *                (what npyalloc does, docs/guarantees.md).
 *   MODE syncfs: per batch of 128 files: write all, one syncfs, link all; fsync DIR once.
 * Names: x-00000.npy, ... in DIR (which must exist). Exit 1 on any error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHAPE0 64
#define SHAPE1 64
#define BATCH 128

static const char *dir;
static int dirfd_;
static long count;
static int threads;
static int mode; /* 0 nofsync, 1 fsync, 2 group, 3 syncfs, 4 kick */
static char header[256];
static size_t header_len;
static long data_bytes = (long)SHAPE0 * SHAPE1 * 4;

static void die(const char *what, long i) {
  fprintf(stderr, "many_files: %s (file %ld): %s\n", what, i, strerror(errno));
  exit(1);
}

static void make_header(void) {
  char dict[200];
  int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }",
                   SHAPE0, SHAPE1);
  size_t total = 10 + (size_t)n + 1;
  size_t padded = (total + 63) / 64 * 64;
  memcpy(header, "\x93NUMPY\x01\x00", 8);
  header[8] = (char)((padded - 10) & 0xff);
  header[9] = (char)((padded - 10) >> 8);
  memcpy(header + 10, dict, (size_t)n);
  memset(header + 10 + n, ' ', padded - total);
  header[padded - 1] = '\n';
  header_len = padded;
}

static int create_one(long i) {
  int fd = open(dir, O_TMPFILE | O_WRONLY, 0666);
  if (fd < 0) die("open O_TMPFILE", i);
  if (fallocate(fd, 0, (off_t)header_len, data_bytes) != 0) die("fallocate", i);
  if (pwrite(fd, header, header_len, 0) != (ssize_t)header_len) die("pwrite", i);
  return fd;
}

static void link_one(int fd, long i) {
  char name[64];
  snprintf(name, sizeof name, "x-%05ld.npy", i);
  if (linkat(fd, "", dirfd_, name, AT_EMPTY_PATH) != 0) {
    if (errno != ENOENT) die("linkat", i);
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, proc, dirfd_, name, AT_SYMLINK_FOLLOW) != 0) die("linkat /proc", i);
  }
  if (close(fd) != 0) die("close", i);
}

static void *worker(void *arg) {
  long t = (long)arg;
  long from = count * t / threads, to = count * (t + 1) / threads;
  int fds[BATCH];
  for (long start = from; start < to; start += BATCH) {
    long end = start + BATCH < to ? start + BATCH : to;
    if (mode == 0 || mode == 1) {
      for (long i = start; i < end; i++) {
        int fd = create_one(i);
        if (mode == 1 && fsync(fd) != 0) die("fsync", i);
        link_one(fd, i);
      }
      continue;
    }
    for (long i = start; i < end; i++) fds[i - start] = create_one(i);
    if (mode == 4) {
      for (long i = start; i < end; i++)
        if (sync_file_range(fds[i - start], 0, 0, SYNC_FILE_RANGE_WRITE) != 0) die("sync_file_range", i);
    }
    if (mode == 2 || mode == 4) {
      for (long i = start; i < end; i++) if (fsync(fds[i - start]) != 0) die("fsync", i);
    } else if (syncfs(fds[0]) != 0) {
      die("syncfs", start);
    }
    for (long i = start; i < end; i++) link_one(fds[i - start], i);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: many_files DIR COUNT THREADS [nofsync|fsync|group|kick|syncfs]\n");
    return 2;
  }
  dir = argv[1];
  count = atol(argv[2]);
  threads = atoi(argv[3]);
  const char *m = argc > 4 ? argv[4] : "nofsync";
  mode = !strcmp(m, "fsync") ? 1 : !strcmp(m, "group") ? 2 : !strcmp(m, "syncfs") ? 3 : !strcmp(m, "kick") ? 4 : 0;
  if (threads < 1 || count < 0) return 2;
  make_header();
  dirfd_ = open(dir, O_RDONLY | O_DIRECTORY);
  if (dirfd_ < 0) die("open dir", -1);
  pthread_t tids[64];
  if (threads > 64) threads = 64;
  for (long t = 0; t < threads; t++) pthread_create(&tids[t], NULL, worker, (void *)t);
  for (int t = 0; t < threads; t++) pthread_join(tids[t], NULL);
  if (mode != 0 && fsync(dirfd_) != 0) die("fsync dir", -1);
  close(dirfd_);
  return 0;
}
