/*
 * thread.c - one worker thread for runs that have no EAL (both sides on
 * kernel backends). It is pinned to the second core when the machine has
 * one, like DPDK's worker lcore, so a polling receiver owns its core.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <unistd.h>

#include "io.h"

#define WORKER_CPU 1

static struct {
    pthread_t tid;
    int running;
    int (*fn)(void *);
    void *arg;
    int result;
} worker;

static void *worker_main(void *unused)
{
    (void)unused;
    worker.result = worker.fn(worker.arg);
    return NULL;
}

int sk_io_thread_launch(int (*fn)(void *), void *arg)
{
    cpu_set_t set;
    int ret;

    if (worker.running)
        return -EBUSY;
    worker.fn = fn;
    worker.arg = arg;
    worker.result = 0;
    ret = pthread_create(&worker.tid, NULL, worker_main, NULL);
    if (ret != 0)
        return -ret;
    worker.running = 1;
    if (sysconf(_SC_NPROCESSORS_ONLN) > WORKER_CPU) {
        CPU_ZERO(&set);
        CPU_SET(WORKER_CPU, &set);
        pthread_setaffinity_np(worker.tid, sizeof(set), &set); /* best effort */
    }
    return 0;
}

int sk_io_thread_join(void)
{
    if (!worker.running)
        return 0;
    pthread_join(worker.tid, NULL);
    worker.running = 0;
    return worker.result;
}
