/*
 * Physical-limit reference for one large .npy fill: fallocate of the data, then pwrite of a
 * 16 MiB buffer of float32 1.5 after the header, on THREADS pthreads that split the data into
 * contiguous ranges (1 and 2 are measured; the faster counts).
 *
 * The header is NumPy's for a 1-d <f4 array of COUNT elements, version 1.0 (the dict of
 * `_write_array_header` in numpy/lib/format.py, padded to a multiple of 64 bytes).
 *
 * Usage: fill FILE COUNT THREADS. The file must not exist. Exit 1 on any error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (16L << 20)

static int fd;
static long header_len;
static long long data_bytes;
static int threads;
static float *pattern;

static void die(const char *what) {
  fprintf(stderr, "fill: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void *worker(void *arg) {
  long t = (long)arg;
  long long chunks = (data_bytes + CHUNK - 1) / CHUNK;
  long long from = chunks * t / threads, to = chunks * (t + 1) / threads;
  for (long long c = from; c < to; c++) {
    long long off = c * CHUNK;
    long long left = data_bytes - off < CHUNK ? data_bytes - off : CHUNK;
    const char *p = (const char *)pattern;
    while (left > 0) {
      ssize_t n = pwrite(fd, p, (size_t)left, header_len + off);
      if (n <= 0) die("pwrite");
      p += n;
      off += n;
      left -= n;
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: fill FILE COUNT THREADS\n");
    return 2;
  }
  long long count = atoll(argv[2]);
  threads = atoi(argv[3]);
  if (threads < 1 || threads > 64) return 2;
  data_bytes = count * 4;
  char dict[200], header[256];
  int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld,), }",
                   count);
  long total = 10 + n + 1;
  header_len = (total + 63) / 64 * 64;
  memcpy(header, "\x93NUMPY\x01\x00", 8);
  header[8] = (char)((header_len - 10) & 0xff);
  header[9] = (char)((header_len - 10) >> 8);
  memcpy(header + 10, dict, (size_t)n);
  memset(header + 10 + n, ' ', (size_t)(header_len - total));
  header[header_len - 1] = '\n';
  pattern = malloc(CHUNK);
  if (pattern == NULL) die("malloc");
  for (long i = 0; i < CHUNK / 4; i++) pattern[i] = 1.5f;
  fd = open(argv[1], O_CREAT | O_EXCL | O_WRONLY, 0666);
  if (fd < 0) die("open");
  if (data_bytes > 0 && fallocate(fd, 0, header_len, data_bytes) != 0) die("fallocate");
  if (pwrite(fd, header, (size_t)header_len, 0) != header_len) die("pwrite header");
  pthread_t tids[64];
  for (long t = 0; t < threads; t++) pthread_create(&tids[t], NULL, worker, (void *)t);
  for (int t = 0; t < threads; t++) pthread_join(tids[t], NULL);
  if (close(fd) != 0) die("close");
  return 0;
}
