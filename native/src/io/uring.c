/*
 * uring.c - the io_uring backend (liburing) on a UDP socket.
 *
 * Receive: one multishot recv (kernel >= 6.0) that picks its buffers from a
 * provided-buffer ring (io_uring_register_buf_ring, kernel >= 5.19): one SQE
 * for the whole run, one CQE per datagram, buffers handed back to the ring
 * when the receiver frees them. Where that is missing (or the device spec
 * says mode=single), a fixed set of single recv SQEs, each re-posted on
 * free. Which mode ran is in the report (rx_mode).
 *
 * Send: one sendmsg SQE per packet, the whole burst submitted with one
 * io_uring_enter that also waits for its completions, so the buffers (the
 * port's own) are free again when tx_burst returns. A failed send is taken
 * (the packet is lost on the link, as the receiver will count) and counted
 * in send_errors. With send_zc=1 in the device spec (--send-zc): one
 * IORING_OP_SEND_ZC SQE per packet, submitted without waiting; the kernel
 * posts the send's result and later a notification CQE (F_NOTIF) once it
 * let go of the pages, and only then does the buffer go back to the port's
 * pool (alloc waits for buffers when all are in flight). A kernel without
 * SEND_ZC (Linux < 6.0) or one that refuses it at run time falls back to
 * sendmsg, and tx_mode says why.
 *
 * SQPOLL (sqpoll=1, --sqpoll): the ring is set up with IORING_SETUP_SQPOLL
 * and a kernel thread submits what the SQ holds, going to sleep after
 * SQPOLL_IDLE_MS without work (liburing wakes it). Refused (no privilege,
 * old kernel): a normal ring, and the report says why. The SQ thread's CPU
 * is not in the side's cpu_s (getrusage of the calling thread).
 *
 * An empty receive waits in the kernel (at most SK_UDP_WAIT_US, or in
 * uring_mode=wait on a min_wait kernel until the tick, TICK_US), so the
 * receiver's CPU % and context switches say what io_uring costs. In
 * uring_mode=wait the receiver adapts to the arrivals: while completions
 * come dense it sleeps until a batch is there (or batch_us, min_wait), while
 * they come sparse it wakes on the first, with no timer of its own to arm:
 * a multishot timeout in the ring (the tick) bounds the sleep instead
 * (rx_wait_tick in the report).
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "udp.h"

#ifndef SK_HAVE_LIBURING
#define SK_HAVE_LIBURING 0
#endif

#define NO_URING_REASON \
    "simkit was built without liburing: install liburing-dev (Debian) and reinstall simkit"

#if SK_HAVE_LIBURING

#include <liburing.h>

#define sk_unlikely(x) __builtin_expect(!!(x), 0)

#define SQ_ENTRIES 1024
#define CQ_ENTRIES 16384
/* Provided buffers (a power of two), taken by the kernel in ring order: all of
 * them are touched before one comes round again, so they are few enough to
 * stay in the core's L2 (256 x 2 KiB), as the socket receiver's one burst of
 * buffers does. 4096 (8 MiB) cost the 100 kpps receiver a point of CPU in
 * cache and TLB misses; 64 ran out unpaced (docs/PERFORMANCE.md). */
#define RX_BUFS 256
#define RX_SINGLE_RECVS RX_BUFS /* single-recv mode: recvs in flight, one per buffer */
#define BUF_GROUP 7
#define MULTISHOT_TAG UINT64_MAX
#define TICK_TAG (UINT64_MAX - 1) /* user_data of the rx wait's multishot timeout */
#define TICK_US 10000           /* ... its period: how late an idle receiver looks at its clock */
#define RX_DENSE_CQES 8         /* a burst this full: completions are dense, wait for a batch */
#ifndef IORING_TIMEOUT_MULTISHOT
#define IORING_TIMEOUT_MULTISHOT (1U << 6) /* Linux 6.4; liburing 2.3 predates it */
#endif
#define MULTISHOT_KERNEL_MAJOR 6 /* IORING_RECV_MULTISHOT: Linux 6.0 */
#define MODE_LEN 128
#define NO_BUFFER UINTPTR_MAX  /* sk_pkt.handle of an empty datagram */
#define TX_SLOTS 4096           /* send buffers; with send_zc held until notified */
#define SQPOLL_IDLE_MS 10       /* the SQ thread sleeps after this long idle */
#define ZC_DRAIN_MS 200         /* close waits this long for notifications */
#define ZC_TAG (1ULL << 63)     /* user_data of a send_zc: tag | usage | len << 32 | slot */
#define ZC_USAGE_TAG (1ULL << 62) /* ... sent with IORING_SEND_ZC_REPORT_USAGE */
#define ZC_LEN_SHIFT 32
#define ZC_LEN_MASK 0xffffu
#define NS_PER_MS 1000000L
#define RX_BATCH_US_DEFAULT 20  /* uring_mode=wait: how long a completion waits for its batch */
#define RX_BATCH_US_MAX 1000
/* Linux 6.12: io_uring_getevents_arg.min_wait_usec (liburing 2.3 calls it pad) */
#ifndef IORING_FEAT_MIN_TIMEOUT
#define IORING_FEAT_MIN_TIMEOUT (1U << 15)
#endif
struct sk_getevents_arg {
    __u64 sigmask;
    __u32 sigmask_sz;
    __u32 min_wait_usec;
    __u64 ts;
};
/* liburing 2.3 predates these (Linux 6.2): the notification then says
 * whether the kernel had to copy after all */
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

enum rx_kind {
    RX_MULTISHOT = 0,
    RX_SINGLE = 1,
};

struct sk_port {
    struct io_uring ring;
    int ring_ready;
    int fd;
    enum sk_io_dir dir;
    enum rx_kind kind;
    int started;                    /* receives posted (by the rx thread) */
    int armed;                      /* multishot recv in flight */
    int ticking;                    /* rx wait: 1 the multishot timeout is in flight,
                                       0 it ended (re-armed), -1 none (not wanted,
                                       or refused) */
    int dense;                      /* rx wait: the last burst was RX_DENSE_CQES or more */
    int registered;                 /* rx: ring fd registered by the receiver's thread */
    uint8_t *bufs;
    unsigned nbufs;
    struct io_uring_buf_ring *br;
    size_t br_bytes;
    int br_registered;
    uint64_t send_errors;
    int zc_asked;                   /* tx: send_zc=1 in the spec */
    int send_zc;                    /* tx: IORING_OP_SEND_ZC in use */
    unsigned zc_flags;              /* IORING_SEND_ZC_REPORT_USAGE when taken */
    unsigned *free_slots;           /* tx: stack of buffers not in flight */
    unsigned n_free;
    uint64_t zc_notifs;             /* notifications seen */
    uint64_t zc_copied;             /* ... of them saying the kernel copied */
    int sqpoll;                     /* -1 not asked, 0 refused, 1 running */
    char sqpoll_why[MODE_LEN];      /* why it was refused */
    long sq_tid;                    /* the SQPOLL thread (0: not found) ... */
    long sq_ticks0;                 /* ... and its CPU ticks when the ring was made */
    int poll;                       /* rx: uring_mode=poll (never sleep) */
    unsigned batch_us;              /* rx wait: batch timeout (0: first CQE) */
    int deferred;                   /* rx: IORING_SETUP_DEFER_TASKRUN ring */
    int min_wait;                   /* rx: kernel has IORING_FEAT_MIN_TIMEOUT */
    int enabled;                    /* rx: R_DISABLED ring enabled (by rx thread) */
    char taskrun[MODE_LEN];         /* rx: how completions are run, or why not deferred */
    uint8_t empty[1];               /* data of an empty datagram */
    struct msghdr msg[SK_IO_MAX_BURST];
    struct iovec iov[SK_IO_MAX_BURST];
    struct io_uring_cqe *cqes[SK_IO_MAX_BURST];
    char mode[MODE_LEN];
};

static const char *uring_version(void)
{
    return "liburing";
}

static int uring_env_init(const struct sk_env_cfg *cfg, char *err, size_t errlen)
{
    (void)cfg, (void)err, (void)errlen;
    return 0;
}

static void uring_env_cleanup(void)
{
}

static int kernel_has_multishot_recv(void)
{
    struct utsname u;
    int major = 0;

    if (uname(&u) != 0 || sscanf(u.release, "%d", &major) != 1)
        return 0;
    return major >= MULTISHOT_KERNEL_MAJOR;
}

static void tx_reap(struct sk_port *p, long wait_us);

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / NS_PER_MS;
}

/* Wait (bounded) until the kernel gave back every send_zc buffer. */
static void zc_drain(struct sk_port *p)
{
    long end = now_ms() + ZC_DRAIN_MS;

    while (p->n_free < TX_SLOTS && now_ms() < end)
        tx_reap(p, SK_UDP_WAIT_US);
}

static void uring_close(struct sk_port *p)
{
    if (p == NULL)
        return;
    if (p->ring_ready && p->dir == SK_IO_TX && p->free_slots != NULL)
        zc_drain(p);
    /* wake and end pending recvs before their buffers go */
    if (p->fd >= 0)
        shutdown(p->fd, SHUT_RDWR);
    if (p->ring_ready) {
        if (p->br_registered)
            io_uring_unregister_buf_ring(&p->ring, BUF_GROUP);
        io_uring_queue_exit(&p->ring);
    }
    if (p->fd >= 0)
        close(p->fd);
    if (p->br != NULL)
        munmap(p->br, p->br_bytes);
    free(p->bufs);
    free(p->free_slots);
    free(p);
}

static uint8_t *buf_at(struct sk_port *p, unsigned i)
{
    return p->bufs + (size_t)i * SK_UDP_BUF_SIZE;
}

static struct io_uring_sqe *get_sqe(struct sk_port *p)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&p->ring);

    if (sqe == NULL) { /* SQ full: flush it */
        io_uring_submit(&p->ring);
        sqe = io_uring_get_sqe(&p->ring);
    }
    return sqe;
}

static int arm_multishot(struct sk_port *p)
{
    struct io_uring_sqe *sqe = get_sqe(p);

    if (sqe == NULL)
        return -EBUSY;
    io_uring_prep_recv_multishot(sqe, p->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BUF_GROUP;
    io_uring_sqe_set_data64(sqe, MULTISHOT_TAG);
    p->armed = 1;
    return io_uring_submit(&p->ring) < 0 ? -EIO : 0;
}

/* uring_mode=wait on a min_wait kernel (6.12, so multishot timeouts too):
 * a timeout that completes every TICK_US, so a receiver waiting for its
 * first completion sleeps without a timeout of its own (an hrtimer armed and
 * cancelled at every wait, ~4 % of a core at 100 kpps) and still wakes to
 * look at the clock when nothing comes. Each expiry is a wake-up whether or
 * not datagrams come, so it is slow: 10 ms, against the 200 ms a receiver
 * drains for by default (a run's end or a stop is seen up to 10 ms late);
 * at 1 ms it cost the 100 kpps receiver about a point of CPU. */
static int arm_tick(struct sk_port *p)
{
    static struct __kernel_timespec every = {.tv_sec = 0, .tv_nsec = TICK_US * 1000L};
    struct io_uring_sqe *sqe = get_sqe(p);

    if (sqe == NULL)
        return -EBUSY;
    io_uring_prep_timeout(sqe, &every, 0, IORING_TIMEOUT_MULTISHOT);
    io_uring_sqe_set_data64(sqe, TICK_TAG);
    p->ticking = 1;
    return io_uring_submit(&p->ring) < 0 ? -EIO : 0;
}

/* A completion of the tick: each expiry is -ETIME with more to come; one
 * that ends it (the CQ overflowed) is re-armed, a refusal is final. */
static void tick_seen(struct sk_port *p, const struct io_uring_cqe *cqe)
{
    if (cqe->flags & IORING_CQE_F_MORE)
        return;
    p->ticking = cqe->res == -ETIME || cqe->res == -ECANCELED ? 0 : -1;
}

static int post_single_recv(struct sk_port *p, unsigned idx)
{
    struct io_uring_sqe *sqe = get_sqe(p);

    if (sqe == NULL)
        return -EBUSY;
    io_uring_prep_recv(sqe, p->fd, buf_at(p, idx), SK_UDP_BUF_SIZE, 0);
    io_uring_sqe_set_data64(sqe, idx);
    return 0;
}

/* Register the provided-buffer ring; 0 or -errno (the kernel's answer). */
static int setup_buf_ring(struct sk_port *p)
{
    struct io_uring_buf_reg reg;
    unsigned i;
    int ret;

    p->br_bytes = (size_t)RX_BUFS * sizeof(struct io_uring_buf);
    p->br = mmap(NULL, p->br_bytes, PROT_READ | PROT_WRITE,
                 MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (p->br == MAP_FAILED) {
        p->br = NULL;
        return -ENOMEM;
    }
    memset(&reg, 0, sizeof(reg));
    reg.ring_addr = (unsigned long)p->br;
    reg.ring_entries = RX_BUFS;
    reg.bgid = BUF_GROUP;
    ret = io_uring_register_buf_ring(&p->ring, &reg, 0);
    if (ret < 0)
        return ret;
    p->br_registered = 1;
    io_uring_buf_ring_init(p->br);
    for (i = 0; i < RX_BUFS; i++)
        io_uring_buf_ring_add(p->br, buf_at(p, i), SK_UDP_BUF_SIZE, (unsigned short)i,
                              io_uring_buf_ring_mask(RX_BUFS), (int)i);
    io_uring_buf_ring_advance(p->br, RX_BUFS);
    return 0;
}

static int rx_setup(struct sk_port *p, const char *spec, char *err, size_t errlen)
{
    char want[16] = "auto", wmode[16] = "wait", batch[16] = "";
    unsigned long us = RX_BATCH_US_DEFAULT;
    char *stop;
    int ret;

    sk_udp_option(spec, "uring_mode", wmode, sizeof(wmode));
    if (strcmp(wmode, "wait") != 0 && strcmp(wmode, "poll") != 0) {
        snprintf(err, errlen, "bad io_uring uring_mode '%s' in '%s': use uring_mode=wait "
                 "(sleep until a batch of completions or its timeout) or poll (never sleep)",
                 wmode, spec);
        return -EINVAL;
    }
    p->poll = strcmp(wmode, "poll") == 0;
    if (sk_udp_option(spec, "batch_us", batch, sizeof(batch)) != NULL) {
        errno = 0;
        us = strtoul(batch, &stop, 10);
        if (errno != 0 || stop == batch || *stop != '\0' || us > RX_BATCH_US_MAX) {
            snprintf(err, errlen, "bad io_uring batch_us '%s' in '%s': use 0..%d "
                     "(microseconds a completion waits for its batch)", batch, spec,
                     RX_BATCH_US_MAX);
            return -EINVAL;
        }
    }
    p->batch_us = (unsigned)us;
    sk_udp_option(spec, "mode", want, sizeof(want));
    if (strcmp(want, "auto") != 0 && strcmp(want, "multishot") != 0 &&
        strcmp(want, "single") != 0) {
        snprintf(err, errlen, "bad io_uring mode '%s' in '%s': use mode=auto, "
                 "multishot or single", want, spec);
        return -EINVAL;
    }
    p->kind = RX_SINGLE;
    snprintf(p->mode, sizeof(p->mode), "single");
    if (strcmp(want, "single") != 0) {
        if (!kernel_has_multishot_recv()) {
            snprintf(err, errlen, "kernel lacks multishot recv: needs Linux >= 6.0");
        } else if ((ret = setup_buf_ring(p)) < 0) {
            snprintf(err, errlen, "io_uring_register_buf_ring failed: %s: needs "
                     "Linux >= 5.19", strerror(-ret));
        } else {
            p->kind = RX_MULTISHOT;
            snprintf(p->mode, sizeof(p->mode), "multishot+bufring");
        }
        if (p->kind == RX_SINGLE && strcmp(want, "multishot") == 0)
            return -ENODEV; /* asked for explicitly: unavailable, err says why */
        if (p->kind == RX_SINGLE)
            snprintf(p->mode, sizeof(p->mode), "single (fallback: %.90s)", err);
    }
    return 0;
}

/* Post the receives from the thread that will reap them: completion work
 * runs in the submitting task, and the main thread is busy generating. */
static int rx_start(struct sk_port *p)
{
    unsigned i;
    int ret;

    p->started = 1;
    if (p->deferred && !p->enabled) {
        /* this thread is the issuer (liburing 2.3 lacks io_uring_enable_rings) */
        if (syscall(__NR_io_uring_register, p->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS,
                    NULL, 0) < 0)
            return -errno;
        p->enabled = 1;
    }
    /* the receiver's thread enters the ring by a registered index (no file
     * lookup a wait); liburing's own calls then do the same */
    p->registered = p->deferred && io_uring_register_ring_fd(&p->ring) == 1;
    if (!(p->deferred && p->min_wait && !p->poll) || arm_tick(p) < 0)
        p->ticking = -1; /* none: the waits carry their own timeout */
    if (p->kind == RX_MULTISHOT)
        return arm_multishot(p);
    for (i = 0; i < RX_SINGLE_RECVS; i++) {
        ret = post_single_recv(p, i);
        if (ret < 0)
            return ret;
    }
    return io_uring_submit(&p->ring) < 0 ? -EIO : 0;
}

/* ",key=1" / ",key=0" in spec: 1 or 0 (absent: 0); -EINVAL otherwise. */
static int spec_flag(const char *spec, const char *key, char *err, size_t errlen)
{
    char v[8];

    if (sk_udp_option(spec, key, v, sizeof(v)) == NULL || strcmp(v, "0") == 0)
        return 0;
    if (strcmp(v, "1") == 0)
        return 1;
    snprintf(err, errlen, "bad io_uring option '%s=%s' in '%s': use %s=1 or %s=0",
             key, v, spec, key, key);
    return -EINVAL;
}

/* The kernel runs a ring's SQPOLL thread in our thread group; once running,
 * it names itself "iou-sqp-<tid of the ring's creator>". Its CPU time
 * (utime + stime) is not in getrusage(RUSAGE_THREAD) of the side that uses
 * it, so the report gives it apart. A ring's thread is the task so named
 * that was not there before the ring was made. */
#define SQ_TASKS_MAX 256
#define SQ_NAME_WAIT_MS 200

struct task_list {
    long tid[SQ_TASKS_MAX];
    unsigned n;
};

/* Our tasks; with name != NULL only those whose comm is name. */
static void list_tasks(struct task_list *out, const char *name)
{
    char path[64], comm[32];
    struct dirent *e;
    DIR *d = opendir("/proc/self/task");
    FILE *f;
    long tid;

    out->n = 0;
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL && out->n < SQ_TASKS_MAX) {
        if ((tid = strtol(e->d_name, NULL, 10)) <= 0)
            continue;
        if (name != NULL) {
            snprintf(path, sizeof(path), "/proc/self/task/%ld/comm", tid);
            if ((f = fopen(path, "r")) == NULL)
                continue;
            if (fgets(comm, sizeof(comm), f) == NULL)
                comm[0] = '\0';
            fclose(f);
            comm[strcspn(comm, "\n")] = '\0';
            if (strcmp(comm, name) != 0)
                continue;
        }
        out->tid[out->n++] = tid;
    }
    closedir(d);
}

static int listed(const struct task_list *l, long tid)
{
    unsigned i;

    for (i = 0; i < l->n; i++)
        if (l->tid[i] == tid)
            return 1;
    return 0;
}

/* The SQ thread of the ring this thread just made (before: our tasks then);
 * 0 if it did not show up named within SQ_NAME_WAIT_MS. */
static long new_sq_thread(const struct task_list *before)
{
    struct task_list now;
    char name[32];
    unsigned i, waited;

    snprintf(name, sizeof(name), "iou-sqp-%ld", (long)gettid());
    for (waited = 0; waited < SQ_NAME_WAIT_MS; waited++) {
        list_tasks(&now, name);
        for (i = 0; i < now.n; i++)
            if (!listed(before, now.tid[i]))
                return now.tid[i];
        usleep(1000);
    }
    return 0;
}

/* utime + stime of a task of ours in clock ticks; -1 if it cannot be read. */
static long task_cpu_ticks(long tid)
{
    char path[64], buf[512], *p;
    unsigned long utime, stime;
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/self/task/%ld/stat", tid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* after "pid (comm)": state is field 3, utime 14, stime 15 */
    if ((p = strrchr(buf, ')')) == NULL ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &utime, &stime) != 2)
        return -1;
    return (long)(utime + stime);
}

/* The ring, with SQPOLL when asked and the kernel agrees; a refusal is
 * recorded (sqpoll_why) and the ring made without it. */
/* The receiver's ring without SQPOLL: completion work (the multishot recv's
 * copy) deferred to the receiver's own io_uring_enter (DEFER_TASKRUN, Linux
 * 6.1), so a datagram neither interrupts the receiver (task-work IPI) nor
 * wakes it before a batch is there. Single issuer: the receiver's thread,
 * which enables the ring (it starts disabled) before it posts anything. */
static int ring_init_deferred(struct sk_port *p, struct io_uring_params *params)
{
    int ret;

    memset(params, 0, sizeof(*params));
    params->flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER |
                    IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED;
    params->cq_entries = CQ_ENTRIES;
    ret = io_uring_queue_init_params(SQ_ENTRIES, &p->ring, params);
    if (ret == 0) {
        p->deferred = 1;
        p->min_wait = (params->features & IORING_FEAT_MIN_TIMEOUT) != 0;
        snprintf(p->taskrun, sizeof(p->taskrun), "defer_taskrun%s",
                 p->min_wait ? "+min_wait" : "");
    } else {
        snprintf(p->taskrun, sizeof(p->taskrun), "task_work (DEFER_TASKRUN refused: %s: "
                 "needs Linux >= 6.1)", strerror(-ret));
    }
    return ret;
}

static int ring_init(struct sk_port *p, int sqpoll, char *err, size_t errlen)
{
    struct io_uring_params params;
    struct task_list before;
    int ret;

    p->sqpoll = sqpoll ? 1 : -1;
    if (!sqpoll && p->dir == SK_IO_RX && ring_init_deferred(p, &params) == 0) {
        p->ring_ready = 1;
        return 0;
    }
    if (sqpoll && p->dir == SK_IO_RX)
        snprintf(p->taskrun, sizeof(p->taskrun), "task_work (sqpoll: no DEFER_TASKRUN)");
    if (sqpoll)
        list_tasks(&before, NULL);
    for (;;) {
        memset(&params, 0, sizeof(params));
        params.flags = IORING_SETUP_CQSIZE;
        params.cq_entries = CQ_ENTRIES;
        if (p->sqpoll == 1) {
            params.flags |= IORING_SETUP_SQPOLL;
            params.sq_thread_idle = SQPOLL_IDLE_MS;
        }
        ret = io_uring_queue_init_params(SQ_ENTRIES, &p->ring, &params);
        if (p->sqpoll != 1)
            break;
        if (ret < 0) {
            snprintf(p->sqpoll_why, sizeof(p->sqpoll_why), "SQPOLL refused: %s: %s",
                     strerror(-ret), ret == -EPERM ? "needs CAP_SYS_ADMIN before Linux 5.13"
                     : "check the kernel's io_uring support");
        } else if (!(params.features & IORING_FEAT_SQPOLL_NONFIXED)) {
            io_uring_queue_exit(&p->ring);
            snprintf(p->sqpoll_why, sizeof(p->sqpoll_why), "SQPOLL needs registered "
                     "files before Linux 5.11");
        } else {
            p->sq_tid = new_sq_thread(&before);
            p->sq_ticks0 = p->sq_tid > 0 ? task_cpu_ticks(p->sq_tid) : -1;
            break;
        }
        p->sqpoll = 0; /* again, without */
    }
    if (ret < 0) {
        snprintf(err, errlen, "io_uring_queue_init failed: %s: io_uring disabled "
                 "(sysctl kernel.io_uring_disabled, seccomp) or ulimit -l too low",
                 strerror(-ret));
        return -ENODEV;
    }
    p->ring_ready = 1;
    return 0;
}

/* Does this kernel know IORING_OP_SEND_ZC (Linux 6.0)? */
static int ring_has_send_zc(struct io_uring *ring)
{
    struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
    int ok = probe != NULL && io_uring_opcode_supported(probe, IORING_OP_SEND_ZC);

    if (probe != NULL)
        io_uring_free_probe(probe);
    return ok;
}

/* The send side: a pool of buffers (a stack of free slots), sendmsg or
 * send_zc. */
static int tx_setup(struct sk_port *p, int send_zc, char *err, size_t errlen)
{
    unsigned i;

    p->free_slots = malloc(TX_SLOTS * sizeof(*p->free_slots));
    if (p->free_slots == NULL) {
        snprintf(err, errlen, "cannot allocate io_uring send slots: out of memory");
        return -ENOMEM;
    }
    for (i = 0; i < TX_SLOTS; i++)
        p->free_slots[i] = TX_SLOTS - 1 - i;
    p->n_free = TX_SLOTS;
    p->zc_asked = send_zc;
    snprintf(p->mode, sizeof(p->mode), "sendmsg");
    if (!send_zc)
        return 0;
    if (!ring_has_send_zc(&p->ring)) {
        snprintf(p->mode, sizeof(p->mode), "sendmsg (fallback: send_zc: kernel lacks "
                 "IORING_OP_SEND_ZC: needs Linux >= 6.0)");
        return 0;
    }
    p->send_zc = 1;
    p->zc_flags = IORING_SEND_ZC_REPORT_USAGE;
    snprintf(p->mode, sizeof(p->mode), "send_zc");
    return 0;
}

static int uring_open(const char *spec, enum sk_io_dir dir, unsigned burst,
                      struct sk_port **out, char *err, size_t errlen)
{
    struct sk_port *p;
    int ret, send_zc, sqpoll;

    (void)burst;
    send_zc = spec_flag(spec, "send_zc", err, errlen);
    sqpoll = spec_flag(spec, "sqpoll", err, errlen);
    if (send_zc < 0 || sqpoll < 0)
        return -EINVAL;
    if (send_zc && dir == SK_IO_RX) {
        snprintf(err, errlen, "send_zc=1 in '%s' is for the sending side: drop it "
                 "from the receiver's device", spec);
        return -EINVAL;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        ret = -ENOMEM;
        snprintf(err, errlen, "cannot allocate an io_uring port: out of memory");
        goto out;
    }
    p->fd = -1;
    p->dir = dir;
    p->nbufs = dir == SK_IO_RX ? RX_BUFS : TX_SLOTS;
    p->bufs = malloc((size_t)p->nbufs * SK_UDP_BUF_SIZE);
    if (p->bufs == NULL) {
        ret = -ENOMEM;
        snprintf(err, errlen, "cannot allocate io_uring buffers: out of memory");
        goto out;
    }
    ret = sk_udp_socket_open(spec, dir, &p->fd, err, errlen);
    if (ret < 0)
        goto out;
    ret = ring_init(p, sqpoll, err, errlen);
    if (ret < 0)
        goto out;
    ret = dir == SK_IO_RX ? rx_setup(p, spec, err, errlen)
                          : tx_setup(p, send_zc, err, errlen);
    if (ret < 0)
        goto out;
    *out = p;
    p = NULL;
    ret = 0;
out:
    uring_close(p);
    return ret;
}

static void release_slot(struct sk_port *p, unsigned slot)
{
    if (slot < TX_SLOTS && p->n_free < TX_SLOTS)
        p->free_slots[p->n_free++] = slot;
}

/* A send_zc the kernel failed. Refused outright (Linux 6.0/6.1 reject the
 * usage report flag; a socket without zerocopy support): send this one with
 * send() and, unless only the flag was refused, the rest with sendmsg. */
static void zc_failed(struct sk_port *p, uint64_t ud, unsigned slot, unsigned len, int res)
{
    if (res == -EINVAL && (ud & ZC_USAGE_TAG) && p->zc_notifs == 0) {
        p->zc_flags &= ~IORING_SEND_ZC_REPORT_USAGE;
    } else if (res == -EOPNOTSUPP || res == -EINVAL) {
        if (p->send_zc)
            snprintf(p->mode, sizeof(p->mode), "sendmsg (fallback: send_zc refused "
                     "at run time: %s)", strerror(-res));
        p->send_zc = 0;
    } else {
        p->send_errors++;
        return;
    }
    if (send(p->fd, buf_at(p, slot), len, 0) < 0)
        p->send_errors++;
}

/* One CQE of the send side: a sendmsg result (returns 1), or a send_zc
 * result or notification (returns 0). A send_zc buffer goes back to the
 * pool at its notification, or with its result when none follows (no
 * F_MORE). */
static unsigned tx_complete(struct sk_port *p, const struct io_uring_cqe *cqe)
{
    uint64_t ud = io_uring_cqe_get_data64(cqe);
    unsigned slot = (unsigned)ud, len = (unsigned)(ud >> ZC_LEN_SHIFT) & ZC_LEN_MASK;

    if (!(ud & ZC_TAG)) {
        if (cqe->res < 0)
            p->send_errors++;
        return 1;
    }
    if (cqe->flags & IORING_CQE_F_NOTIF) {
        p->zc_notifs++;
        if ((uint32_t)cqe->res & IORING_NOTIF_USAGE_ZC_COPIED)
            p->zc_copied++;
        release_slot(p, slot);
        return 0;
    }
    if (cqe->res < 0)
        zc_failed(p, ud, slot, len, cqe->res);
    if (!(cqe->flags & IORING_CQE_F_MORE))
        release_slot(p, slot);
    return 0;
}

/* Take what the send side's CQ holds; wait up to wait_us for a CQE when it
 * holds none. */
static void tx_reap(struct sk_port *p, long wait_us)
{
    struct __kernel_timespec wait = {.tv_sec = 0, .tv_nsec = wait_us * 1000L};
    struct io_uring_cqe *cqe;
    unsigned i, c;

    c = io_uring_peek_batch_cqe(&p->ring, p->cqes, SK_IO_MAX_BURST);
    if (c == 0 && wait_us > 0) {
        if (io_uring_wait_cqe_timeout(&p->ring, &cqe, &wait) < 0)
            return;
        c = io_uring_peek_batch_cqe(&p->ring, p->cqes, SK_IO_MAX_BURST);
    }
    for (i = 0; i < c; i++)
        tx_complete(p, p->cqes[i]);
    io_uring_cq_advance(&p->ring, c);
}

static int uring_alloc(struct sk_port *p, struct sk_pkt *pkts, unsigned n,
                       uint32_t len)
{
    unsigned i, slot;

    if (len > SK_UDP_BUF_SIZE)
        return -EMSGSIZE;
    if (n > p->nbufs)
        return -ENOBUFS;
    if (p->dir == SK_IO_TX && p->n_free < n) { /* send_zc buffers in flight */
        tx_reap(p, 0);
        if (p->n_free < n)
            tx_reap(p, SK_UDP_WAIT_US);
        if (p->n_free < n)
            return -ENOBUFS;
    }
    for (i = 0; i < n; i++) {
        slot = p->dir == SK_IO_TX ? p->free_slots[--p->n_free] : i;
        pkts[i].handle = (void *)(uintptr_t)slot;
        pkts[i].data = buf_at(p, slot);
        pkts[i].len = len;
        pkts[i].wire_len = len + SK_UDP_FRAME_OVERHEAD;
    }
    return 0;
}

/* send_zc: submitted, not waited for; the buffers stay the port's until
 * their notifications come back (reaped before each burst and in alloc). */
static unsigned zc_tx_burst(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    uint64_t usage = p->zc_flags & IORING_SEND_ZC_REPORT_USAGE ? ZC_USAGE_TAG : 0;
    struct io_uring_sqe *sqe;
    unsigned k, slot;

    for (k = 0; k < n; k++) {
        sqe = io_uring_get_sqe(&p->ring);
        if (sqe == NULL)
            break;
        slot = (unsigned)(uintptr_t)pkts[k].handle;
        io_uring_prep_send_zc(sqe, p->fd, pkts[k].data, pkts[k].len, 0, p->zc_flags);
        io_uring_sqe_set_data64(sqe, ZC_TAG | usage | (uint64_t)pkts[k].len << ZC_LEN_SHIFT |
                                     slot);
    }
    /* queued SQEs are the kernel's even if this submit fails: the next one
     * (or the SQ thread) takes them */
    io_uring_submit(&p->ring);
    return k;
}

static unsigned uring_tx_burst(struct sk_port *p, struct sk_pkt *pkts,
                               unsigned n)
{
    struct io_uring_sqe *sqe;
    unsigned i, k, got;

    if (p->send_zc)
        tx_reap(p, 0); /* may fall back to sendmsg */
    if (p->send_zc)
        return zc_tx_burst(p, pkts, n);
    for (k = 0; k < n; k++) {
        sqe = io_uring_get_sqe(&p->ring);
        if (sqe == NULL)
            break;
        p->iov[k].iov_base = pkts[k].data;
        p->iov[k].iov_len = pkts[k].len;
        memset(&p->msg[k], 0, sizeof(p->msg[k]));
        p->msg[k].msg_iov = &p->iov[k];
        p->msg[k].msg_iovlen = 1;
        io_uring_prep_sendmsg(sqe, p->fd, &p->msg[k], 0);
        io_uring_sqe_set_data64(sqe, k);
    }
    if (k == 0)
        return 0;
    if (io_uring_submit_and_wait(&p->ring, k) < 0)
        return 0; /* nothing was submitted: the caller retries */
    for (got = 0; got < k;) {
        unsigned c = io_uring_peek_batch_cqe(&p->ring, p->cqes, SK_IO_MAX_BURST);
        struct io_uring_cqe *cqe;

        if (c == 0) {
            if (io_uring_wait_cqe(&p->ring, &cqe) < 0)
                break;
            continue;
        }
        /* after a run-time fallback, send_zc CQEs may still come */
        for (i = 0; i < c; i++)
            got += tx_complete(p, p->cqes[i]);
        io_uring_cq_advance(&p->ring, c);
    }
    for (i = 0; i < k; i++)
        release_slot(p, (unsigned)(uintptr_t)pkts[i].handle);
    return k;
}

/* A multishot CQE: a datagram in a provided buffer, or the end of the
 * multishot (no F_MORE: out of buffers, error), re-armed by the caller. */
static unsigned take_multishot(struct sk_port *p, struct io_uring_cqe *cqe,
                               struct sk_pkt *pkt)
{
    unsigned bid;

    if (!(cqe->flags & IORING_CQE_F_MORE))
        p->armed = 0;
    if (!(cqe->flags & IORING_CQE_F_BUFFER)) {
        if (cqe->res != 0)
            return 0;
        /* an empty datagram: the kernel ends the multishot on it and posts
         * res 0 without a buffer; it is still a datagram to count */
        pkt->handle = (void *)(uintptr_t)NO_BUFFER;
        pkt->data = p->empty;
        pkt->len = 0;
        pkt->wire_len = SK_UDP_FRAME_OVERHEAD;
        return 1;
    }
    bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    /* res 0 is an empty datagram (UDP has them): counted, not dropped */
    if (cqe->res < 0) { /* a buffer came back unused: return it at once */
        io_uring_buf_ring_add(p->br, buf_at(p, bid), SK_UDP_BUF_SIZE,
                              (unsigned short)bid, io_uring_buf_ring_mask(RX_BUFS), 0);
        io_uring_buf_ring_advance(p->br, 1);
        return 0;
    }
    pkt->handle = (void *)(uintptr_t)bid;
    pkt->data = buf_at(p, bid);
    pkt->len = (uint32_t)cqe->res;
    pkt->wire_len = (uint32_t)cqe->res + SK_UDP_FRAME_OVERHEAD;
    return 1;
}

static unsigned take_single(struct sk_port *p, struct io_uring_cqe *cqe,
                            struct sk_pkt *pkt)
{
    unsigned idx = (unsigned)io_uring_cqe_get_data64(cqe);

    if (idx >= RX_SINGLE_RECVS)
        return 0;
    if (cqe->res < 0) { /* an error ended this recv: post it again */
        post_single_recv(p, idx);
        return 0;
    }
    pkt->handle = (void *)(uintptr_t)idx;
    pkt->data = buf_at(p, idx);
    pkt->len = (uint32_t)cqe->res;
    pkt->wire_len = (uint32_t)cqe->res + SK_UDP_FRAME_OVERHEAD;
    return 1;
}

/* uring_mode=wait on a deferred ring. While completions come dense (the
 * last burst had RX_DENSE_CQES or more), sleep until n are there or (Linux
 * 6.12, min_wait) batch_us after the wait began with at least one: a batch
 * a wake-up. While they come sparse, wake on the first: no batch to wait for,
 * and with the tick (arm_tick) no timeout to arm. Without min_wait: until the
 * first, or SK_UDP_WAIT_US with none. */
static void rx_wait_batch(struct sk_port *p, unsigned n)
{
    struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = SK_UDP_WAIT_US * 1000L};
    struct sk_getevents_arg arg = {.ts = (uint64_t)(uintptr_t)&ts};
    unsigned want = 1;

    if (p->min_wait && p->batch_us > 0 && p->dense) {
        arg.min_wait_usec = p->batch_us;
        want = n;
    } else if (p->ticking == 1) {
        arg.ts = 0;
    }
    io_uring_enter2((unsigned)p->ring.enter_ring_fd, 0, want,
                    IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG |
                    (p->registered ? IORING_ENTER_REGISTERED_RING : 0), (sigset_t *)&arg,
                    sizeof(arg));
}

static unsigned uring_rx_burst(struct sk_port *p, struct sk_pkt *pkts,
                               unsigned n)
{
    struct __kernel_timespec wait = {.tv_sec = 0, .tv_nsec = SK_UDP_WAIT_US * 1000L};
    struct io_uring_cqe *cqe;
    unsigned i, c, got = 0;

    if (sk_unlikely(!p->started))
        rx_start(p);
    else if (p->kind == RX_MULTISHOT && !p->armed)
        arm_multishot(p);
    if (sk_unlikely(p->ticking == 0) && arm_tick(p) < 0) /* ended (a full CQ) */
        p->ticking = -1;
    c = io_uring_peek_batch_cqe(&p->ring, p->cqes, n);
    if (c == 0 && p->poll) {
        if (p->deferred) /* deferred completion work runs on entering */
            io_uring_get_events(&p->ring);
        c = io_uring_peek_batch_cqe(&p->ring, p->cqes, n);
    } else if (c == 0 && p->deferred) {
        rx_wait_batch(p, n);
        c = io_uring_peek_batch_cqe(&p->ring, p->cqes, n);
    } else if (c == 0) {
        if (io_uring_wait_cqe_timeout(&p->ring, &cqe, &wait) < 0)
            return 0;
        c = io_uring_peek_batch_cqe(&p->ring, p->cqes, n);
    }
    p->dense = c >= RX_DENSE_CQES;
    for (i = 0; i < c; i++) {
        if (p->cqes[i]->user_data == TICK_TAG)
            tick_seen(p, p->cqes[i]);
        else
            got += p->kind == RX_MULTISHOT ? take_multishot(p, p->cqes[i], &pkts[got])
                                           : take_single(p, p->cqes[i], &pkts[got]);
    }
    io_uring_cq_advance(&p->ring, c);
    if (p->kind == RX_SINGLE && got < c)
        io_uring_submit(&p->ring); /* recvs re-posted after errors */
    return got;
}

static void uring_free(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    unsigned i, idx, added;

    if (p->dir == SK_IO_TX) { /* buffers alloc gave that were not sent */
        for (i = 0; i < n; i++)
            release_slot(p, (unsigned)(uintptr_t)pkts[i].handle);
        return;
    }
    if (n == 0)
        return;
    for (i = 0, added = 0; i < n; i++) {
        if ((uintptr_t)pkts[i].handle == NO_BUFFER)
            continue;
        idx = (unsigned)(uintptr_t)pkts[i].handle;
        if (p->kind == RX_MULTISHOT)
            io_uring_buf_ring_add(p->br, buf_at(p, idx), SK_UDP_BUF_SIZE,
                                  (unsigned short)idx,
                                  io_uring_buf_ring_mask(RX_BUFS), (int)added++);
        else
            post_single_recv(p, idx);
    }
    if (p->kind == RX_MULTISHOT)
        io_uring_buf_ring_advance(p->br, (int)added);
    else
        io_uring_submit(&p->ring);
}

static int uring_probe_link(const char *link, char *err, size_t errlen)
{
    (void)link, (void)err, (void)errlen;
    return 0;
}

static const char *uring_mode(const struct sk_port *p)
{
    return p->mode;
}

static uint64_t uring_errors(const struct sk_port *p)
{
    return p->send_errors;
}

static unsigned uring_facts(struct sk_port *p, struct sk_io_fact *out, unsigned n)
{
    static const char *const sqpoll_key[2] = {"tx_sqpoll", "rx_sqpoll"};
    static const char *const why_key[2] = {"tx_sqpoll_fallback", "rx_sqpoll_fallback"};
    static const char *const cpu_key[2] = {"tx_sqpoll_cpu_ms", "rx_sqpoll_cpu_ms"};
    struct sk_io_fact f[8];
    long ticks;
    unsigned k = 0, i;

    if (p->dir == SK_IO_TX && p->zc_asked)
        zc_drain(p); /* the last notifications, so that they are counted */

    if (p->sqpoll >= 0) {
        f[k++] = (struct sk_io_fact){.key = sqpoll_key[p->dir], .kind = SK_IO_FACT_BOOL,
                                     .u = p->sqpoll == 1};
        if (p->sqpoll == 0)
            f[k++] = (struct sk_io_fact){.key = why_key[p->dir], .kind = SK_IO_FACT_STR,
                                         .s = p->sqpoll_why};
        if (p->sqpoll == 1 && p->sq_ticks0 >= 0 &&
            (ticks = task_cpu_ticks(p->sq_tid)) >= p->sq_ticks0)
            f[k++] = (struct sk_io_fact){.key = cpu_key[p->dir], .kind = SK_IO_FACT_UINT,
                                         .u = (uint64_t)(ticks - p->sq_ticks0) * 1000 /
                                              (uint64_t)sysconf(_SC_CLK_TCK)};
    }
    if (p->dir == SK_IO_RX) {
        f[k++] = (struct sk_io_fact){.key = "rx_uring_mode", .kind = SK_IO_FACT_STR,
                                     .s = p->poll ? "poll" : "wait"};
        f[k++] = (struct sk_io_fact){.key = "rx_taskrun", .kind = SK_IO_FACT_STR,
                                     .s = p->taskrun};
        if (!p->poll) {
            f[k++] = (struct sk_io_fact){.key = "rx_batch_us", .kind = SK_IO_FACT_UINT,
                                         .u = p->min_wait ? p->batch_us : 0};
            f[k++] = (struct sk_io_fact){.key = "rx_wait_tick", .kind = SK_IO_FACT_BOOL,
                                         .u = p->ticking == 1};
        }
    }
    if (p->zc_asked) {
        f[k++] = (struct sk_io_fact){.key = "zc_notifications", .kind = SK_IO_FACT_UINT,
                                     .u = p->zc_notifs};
        f[k++] = (struct sk_io_fact){.key = "zc_copied", .kind = SK_IO_FACT_UINT,
                                     .u = p->zc_copied};
    }
    for (i = 0; i < k && i < n; i++)
        out[i] = f[i];
    return i;
}

#else /* !SK_HAVE_LIBURING */

struct sk_port {
    int unused;
};

static const char *uring_version(void)
{
    return NULL;
}

static int uring_env_init(const struct sk_env_cfg *cfg, char *err, size_t errlen)
{
    (void)cfg;
    snprintf(err, errlen, "%s", NO_URING_REASON);
    return -ENODEV;
}

static void uring_env_cleanup(void)
{
}

static int uring_open(const char *spec, enum sk_io_dir dir, unsigned burst,
                      struct sk_port **out, char *err, size_t errlen)
{
    (void)spec, (void)dir, (void)burst, (void)out;
    snprintf(err, errlen, "%s", NO_URING_REASON);
    return -ENODEV;
}

static void uring_close(struct sk_port *p)
{
    (void)p;
}

static int uring_alloc(struct sk_port *p, struct sk_pkt *pkts, unsigned n,
                       uint32_t len)
{
    (void)p, (void)pkts, (void)n, (void)len;
    return -ENODEV;
}

static unsigned uring_tx_burst(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    (void)p, (void)pkts, (void)n;
    return 0;
}

static unsigned uring_rx_burst(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    (void)p, (void)pkts, (void)n;
    return 0;
}

static void uring_free(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    (void)p, (void)pkts, (void)n;
}

static int uring_probe_link(const char *link, char *err, size_t errlen)
{
    (void)link;
    snprintf(err, errlen, "%s", NO_URING_REASON);
    return -ENODEV;
}

static const char *uring_mode(const struct sk_port *p)
{
    (void)p;
    return NULL;
}

static uint64_t uring_errors(const struct sk_port *p)
{
    (void)p;
    return 0;
}

static unsigned uring_facts(struct sk_port *p, struct sk_io_fact *out, unsigned n)
{
    (void)p, (void)out, (void)n;
    return 0;
}

#endif /* SK_HAVE_LIBURING */

const struct sk_io_ops sk_io_uring = {
    .name = "io_uring",
    .layer = SK_IO_DATAGRAMS,
    .version = uring_version,
    .env_init = uring_env_init,
    .env_cleanup = uring_env_cleanup,
    .open = uring_open,
    .close = uring_close,
    .alloc = uring_alloc,
    .tx_burst = uring_tx_burst,
    .rx_burst = uring_rx_burst,
    .free = uring_free,
    .launch = sk_io_thread_launch,
    .join = sk_io_thread_join,
    .probe_link = uring_probe_link,
    .mode = uring_mode,
    .errors = uring_errors,
    .facts = uring_facts,
};
