/*
 * thread.c - one worker thread for runs that have no EAL (both sides on
 * kernel backends). Like DPDK's main and worker lcores, the caller (the
 * generator, which spins while it paces) keeps the first core the process may
 * run on and the worker (the receiver) takes the second, so neither is
 * scheduled onto the other's core: a kernel row of a comparison then runs
 * on the cores a DPDK row does. A process allowed one core (taskset -c N)
 * is left as it is.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#include "io.h"

#define WORKER_NAME "simkit-rx"

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

int sk_io_engine_cores(int *generator, int *receiver)
{
    cpu_set_t set;
    int cpu, found = 0;

    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return 0;
    for (cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++) {
        if (CPU_ISSET(cpu, &set))
            *(found++ == 0 ? generator : receiver) = cpu;
    }
    if (found == 1)
        *receiver = *generator;
    return found > 0;
}

static void one_cpu(cpu_set_t *set, int cpu)
{
    CPU_ZERO(set);
    CPU_SET(cpu, set);
}

int sk_io_thread_launch(int (*fn)(void *), void *arg)
{
    int main_cpu = 0, worker_cpu = 0, pinned;
    pthread_attr_t attr;
    cpu_set_t set;
    int ret;

    if (worker.running)
        return -EBUSY;
    worker.fn = fn;
    worker.arg = arg;
    worker.result = 0;
    /* one allowed core: both stay on it, unpinned, as the user asked */
    pinned = sk_io_engine_cores(&main_cpu, &worker_cpu) && main_cpu != worker_cpu;
    pthread_attr_init(&attr);
    if (pinned) { /* the worker starts on its core: no first slice on the generator's */
        one_cpu(&set, worker_cpu);
        pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
    }
    ret = pthread_create(&worker.tid, &attr, worker_main, NULL);
    pthread_attr_destroy(&attr);
    if (ret != 0)
        return -ret;
    worker.running = 1;
    pthread_setname_np(worker.tid, WORKER_NAME); /* top -H, /proc/PID/task/TID/comm */
    if (pinned) {
        one_cpu(&set, main_cpu);
        pthread_setaffinity_np(pthread_self(), sizeof(set), &set); /* best effort */
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
