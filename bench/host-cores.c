/*
 * Does this host give two threads twice one thread's work? Three loops, each run alone on
 * core 0 and then on cores 0 and 1 at once (bench/host-cores.sh):
 *   ports    16 independent adds an iteration: as many as the core's ALUs take; two threads on
 *            one core's two hyperthreads share them, so each would take about twice as long;
 *   latency  a chain of dependent multiplies: a thread that waits on each result; hyperthreads
 *            would hardly slow each other;
 *   memory   independent random 8-byte reads over MB megabytes (xorshift indices): the caches
 *            and the memory both threads share.
 * Prints the seconds of the loop (CLOCK_MONOTONIC). And one loop that is not run alone:
 *   pingpong two threads of its own, pinned to cores 0 and 1, pass one cache line back and forth
 *            ITERATIONS times (each waits for the other's store, then stores): prints the
 *            nanoseconds of one round trip, what a cache line costs to go from one core to the
 *            other and back (it depends on where the two cores sit: one die, two dies, two sockets).
 *   neighbour two threads, pinned to cores 0 and 1, each incrementing its own word (a load and a
 *            store, as a counter is kept), DISTANCE bytes apart (8: one cache line; 64: the other
 *            line of an aligned 128-byte pair; 128 and more: another pair): core 1 increments
 *            ITERATIONS times while core 0 increments until it is done; prints core 1's and core
 *            0's nanoseconds per increment. (Plain stores would not tell: the store buffer
 *            drains many of them each time the line comes back.) Whether two lines of a
 *            128-byte pair behave as one (a processor that fetches a line's neighbour with it
 *            makes two threads writing the two lines pay as if they shared one) or 64 bytes is
 *            apart enough.
 * Not part of the build: a check of the host.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The line the pingpong threads pass: alone on its cache line. */
static volatile long line[8] __attribute__((aligned(64)));
static long rounds;
/* The neighbour threads' words: the first 4 KiB-aligned, the second DISTANCE bytes after it. */
static volatile char area[8192] __attribute__((aligned(4096)));
static volatile int neighbour_done;
static long distance;

static int pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* Core 1's half: waits for each odd value, answers with the next even one. */
static void *pong(void *arg) {
    (void) arg;
    if (pin(1) != 0) {
        fprintf(stderr, "host-cores: cannot pin a thread to core 1 (pingpong needs 2 cores)\n");
        exit(2);
    }
    for (long i = 1; i <= rounds; i++) {
        while (line[0] != 2 * i - 1) {
        }
        line[0] = 2 * i;
    }
    return NULL;
}

/* Core 0's half of neighbour: stores to its word until core 1 is done, counting. */
static void *neighbour0(void *arg) {
    if (pin(0) != 0) {
        fprintf(stderr, "host-cores: cannot pin a thread to core 0\n");
        exit(2);
    }
    volatile long *w = (volatile long *) area;
    long n = 0;
    while (!neighbour_done) {
        for (int i = 0; i < 1000; i++) {
            *w = *w + 1;
        }
        n += 1000;
    }
    *(long *) arg = n;
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: host-cores ports|latency|memory|pingpong|neighbour ITERATIONS [MB|DISTANCE]\n");
        return 2;
    }
    long n = atol(argv[2]);
    if (n <= 0) {
        fprintf(stderr, "host-cores: ITERATIONS must be a positive count, not %s\n", argv[2]);
        return 2;
    }
    if (strcmp(argv[1], "pingpong") == 0) {
        pthread_t t;
        rounds = n;
        if (pin(0) != 0) {
            fprintf(stderr, "host-cores: cannot pin a thread to core 0\n");
            return 2;
        }
        if (pthread_create(&t, NULL, pong, NULL) != 0) {
            fprintf(stderr, "host-cores: cannot start the second thread\n");
            return 2;
        }
        double p0 = now();
        for (long i = 1; i <= n; i++) {
            line[0] = 2 * i - 1;
            while (line[0] != 2 * i) {
            }
        }
        double p1 = now();
        pthread_join(t, NULL);
        printf("%.1f\n", (p1 - p0) * 1e9 / n);
        return 0;
    }
    if (strcmp(argv[1], "neighbour") == 0) {
        distance = argc > 3 ? atol(argv[3]) : 64;
        if (distance < 8 || distance > 4096 || distance % 8 != 0) {
            fprintf(stderr, "host-cores: DISTANCE must be a multiple of 8 from 8 to 4096 bytes, not %s\n", argv[3]);
            return 2;
        }
        pthread_t t;
        long other = 0;
        if (pthread_create(&t, NULL, neighbour0, &other) != 0) {
            fprintf(stderr, "host-cores: cannot start the second thread\n");
            return 2;
        }
        if (pin(1) != 0) {
            fprintf(stderr, "host-cores: cannot pin a thread to core 1 (neighbour needs 2 cores)\n");
            return 2;
        }
        volatile long *w = (volatile long *) (area + distance);
        double p0 = now();
        for (long i = 0; i < n; i++) {
            *w = *w + 1;
        }
        double p1 = now();
        neighbour_done = 1;
        pthread_join(t, NULL);
        printf("%.2f %.2f\n", (p1 - p0) * 1e9 / n, other > 0 ? (p1 - p0) * 1e9 / other : 0.0);
        return 0;
    }
    double t0, t1;
    unsigned long sink;
    if (strcmp(argv[1], "ports") == 0) {
        unsigned long a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8;
        t0 = now();
        for (long i = 0; i < n; i++) {
            __asm__ volatile("add $1,%0\n add $1,%1\n add $1,%2\n add $1,%3\n add $1,%4\n add $1,%5\n add $1,%6\n add $1,%7\n"
                             "add $1,%0\n add $1,%1\n add $1,%2\n add $1,%3\n add $1,%4\n add $1,%5\n add $1,%6\n add $1,%7\n"
                             : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(f), "+r"(g), "+r"(h));
        }
        t1 = now();
        sink = a + b + c + d + e + f + g + h;
    } else if (strcmp(argv[1], "latency") == 0) {
        unsigned long y = 3;
        t0 = now();
        for (long i = 0; i < n; i++) {
            __asm__ volatile("imul %0,%0\n imul %0,%0\n imul %0,%0\n imul %0,%0\n" : "+r"(y));
        }
        t1 = now();
        sink = y;
    } else if (strcmp(argv[1], "memory") == 0) {
        long mb = argc > 3 ? atol(argv[3]) : 64;
        long words = mb * 131072;
        if (mb <= 0 || (words & (words - 1)) != 0) {
            fprintf(stderr, "host-cores: MB must be a power of two, not %s\n", argv[3]);
            return 2;
        }
        unsigned long *m = malloc(words * sizeof *m);
        if (m == NULL) {
            fprintf(stderr, "host-cores: cannot allocate %ld MB\n", mb);
            return 2;
        }
        for (long i = 0; i < words; i++) {
            m[i] = i;
        }
        unsigned long x = 0x9e3779b97f4a7c15UL, s = 0;
        t0 = now();
        for (long i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s += m[x & (words - 1)];
        }
        t1 = now();
        sink = s;
        free(m);
    } else {
        fprintf(stderr, "host-cores: the loop is ports, latency, memory, pingpong or neighbour, not %s\n", argv[1]);
        return 2;
    }
    printf("%.3f\n", t1 - t0);
    return sink == 42 ? 1 : 0; /* keeps the result live; never 42 in practice */
}
