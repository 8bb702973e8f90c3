/*
 * dpdk.c - the DPDK backend: EAL init/cleanup (no hugepages, no shared
 * config: 22.11 refuses --in-memory with --no-huge, which implies legacy mem),
 * ports from vdev devargs or the crossed ring pair, bursts, close.
 *
 * DPDK keeps an empty /var/run/dpdk/<prefix> even with --no-shconf; we remove
 * it in env_cleanup (and after a failed init), so no exit path leaves it.
 * DPDK's log goes to a private stream: echoed to stderr with --verbose, and
 * its last line is quoted in our one-line error messages.
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"

#ifndef SK_HAVE_DPDK
#define SK_HAVE_DPDK 0
#endif

#define NO_DPDK_REASON \
    "simkit was built without DPDK: install libdpdk-dev (Debian) and reinstall simkit"

#if SK_HAVE_DPDK

#include <rte_common.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_version.h>

#define RUNTIME_DIR_ROOT "/var/run"
#define RUNTIME_DIR_FALLBACK "/tmp"

static char runtime_dir[PATH_MAX];

/* DPDK's eal_create_runtime_dir(): root uses /var/run, others
 * $XDG_RUNTIME_DIR or /tmp; then dpdk/<prefix>. */
static void runtime_dir_set(const char *prefix)
{
    const char *base = RUNTIME_DIR_ROOT;

    if (getuid() != 0) {
        base = getenv("XDG_RUNTIME_DIR");
        if (base == NULL)
            base = RUNTIME_DIR_FALLBACK;
    }
    snprintf(runtime_dir, sizeof(runtime_dir), "%s/dpdk/%s", base, prefix);
}

/* Remove the runtime dir: its files, one level of subdirectories, itself. */
static void runtime_dir_remove(void)
{
    struct dirent *e;
    DIR *d;

    if (runtime_dir[0] == '\0')
        return;
    d = opendir(runtime_dir);
    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno == EISDIR)
                unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
        }
        closedir(d);
    }
    rmdir(runtime_dir);
    runtime_dir[0] = '\0';
}

#define NB_MBUF 8191
#define MBUF_CACHE_SIZE 256
#define NB_RX_DESC 1024
#define NB_TX_DESC 1024
/* net_af_xdp's XSK rx ring: 80 ms at 50 kpps for a receiver off its core */
#define NB_RX_DESC_AF_XDP 4096
#define PAIR_RING_SIZE 1024
#define MAX_EAL_ARGS 64
#define LOG_LINE_LEN 256
#define NAME_LEN 64
#define EAL_MEMORY_MB "256"
#define VDEV_BUS "vdev"
#define THP_HEAP "sk_thp"
#define THP_SIZE (2u << 20)
#define THP_HEAP_BYTES (96u << 20) /* two ports' pools, with room */

struct sk_port {
    uint16_t port_id;
    int started;
    int pair_end;                 /* 1 when this is an end of the ring pair */
    int memif;                    /* a net_memif port: see port_release() */
    struct rte_mempool *pool;
    uint32_t room;                /* bytes an mbuf holds after its headroom */
    int refs;                     /* a port EAL made, opened by tx and rx: 2 */
    char name[RTE_ETH_NAME_MAX_LEN]; /* vdev name for hotplug remove */
};

static struct {
    int eal_ready;
    int memif_ports;              /* memif ports opened: no rte_eal_cleanup() */
    void *thp_mem;                /* the mbuf heap's memory; NULL: none */
    int thp_off;                  /* real ports, or a heap tried once */
    int huge;                     /* on a hugetlbfs (--huge-dir in --eal) */
    int thp_socket;               /* its socket id for pool_create */
    unsigned worker_lcore;
    FILE *log_stream;
    int log_verbose;
    pthread_mutex_t log_lock;
    char log_last[LOG_LINE_LEN];
    char *argv[MAX_EAL_ARGS];
    int argc;
} env = {.log_lock = PTHREAD_MUTEX_INITIALIZER, .worker_lcore = RTE_MAX_LCORE,
      .thp_socket = SOCKET_ID_ANY};

static struct {
    struct rte_ring *ab;  /* A transmits, B receives */
    struct rte_ring *ba;
    struct sk_port *end[2];
    int opened;           /* ends handed out so far */
    int closed;
} pair;

/* ---- DPDK log capture ------------------------------------------------- */

static ssize_t log_write(void *cookie, const char *buf, size_t size)
{
    const char *line = buf, *p;
    size_t n;

    (void)cookie;
    if (env.log_verbose)
        fwrite(buf, 1, size, stderr);
    /* keep the last non-blank line of this message */
    for (p = buf; p < buf + size; p++) {
        if (*p == '\n' && p + 1 < buf + size && p[1] != '\n')
            line = p + 1;
    }
    n = (size_t)(buf + size - line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' ' ||
                     line[n - 1] == '\r'))
        n--;
    if (n == 0)
        return (ssize_t)size;
    if (n >= LOG_LINE_LEN)
        n = LOG_LINE_LEN - 1;
    pthread_mutex_lock(&env.log_lock);
    memcpy(env.log_last, line, n);
    env.log_last[n] = '\0';
    pthread_mutex_unlock(&env.log_lock);
    return (ssize_t)size;
}

static void log_forget(void)
{
    pthread_mutex_lock(&env.log_lock);
    env.log_last[0] = '\0';
    pthread_mutex_unlock(&env.log_lock);
}

/* " (DPDK: <last log line>)" or "" */
static void log_quote(char *buf, size_t len)
{
    pthread_mutex_lock(&env.log_lock);
    if (env.log_last[0] != '\0')
        snprintf(buf, len, " (DPDK: %s)", env.log_last);
    else
        buf[0] = '\0';
    pthread_mutex_unlock(&env.log_lock);
}

static int log_open(int verbose)
{
    cookie_io_functions_t fns = {.write = log_write};

    env.log_verbose = verbose;
    env.log_stream = fopencookie(NULL, "w", fns);
    if (env.log_stream == NULL)
        return -errno;
    rte_openlog_stream(env.log_stream);
    return 0;
}

/* ---- EAL ---------------------------------------------------------------- */

static const char *dpdk_version(void)
{
    return rte_version();
}

static const char *eal_hint(int e)
{
    switch (e) {
    case EACCES:
    case EPERM:
        return "run as root or grant CAP_SYS_ADMIN/CAP_NET_ADMIN";
    case ENOMEM:
        return "not enough memory for -m " EAL_MEMORY_MB
               " without hugepages: free memory or lower -m via --eal";
    case EALREADY:
        return "EAL was already initialised in this process";
    case EINVAL:
        return "check the extra EAL arguments (--eal; --verbose shows DPDK's "
               "usage) and the lcore list (a run needs 2 cores)";
    default:
        return "run with --verbose to see DPDK's log";
    }
}

/* Point fd 2 at /dev/null; returns the saved fd (or -1). */
static int stderr_silence(void)
{
    int saved, null_fd;

    fflush(stderr);
    saved = dup(STDERR_FILENO);
    null_fd = open("/dev/null", O_WRONLY);
    if (saved >= 0 && null_fd >= 0)
        dup2(null_fd, STDERR_FILENO);
    if (null_fd >= 0)
        close(null_fd);
    return saved;
}

static void stderr_restore(int saved)
{
    if (saved < 0)
        return;
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
}

/* EAL may keep pointers into argv: the strings live until env_cleanup. */
static void argv_free(void)
{
    int i;

    for (i = 0; i < env.argc; i++)
        free(env.argv[i]);
    env.argc = 0;
}

static int argv_push(const char *s)
{
    if (env.argc >= MAX_EAL_ARGS - 1)
        return -E2BIG;
    env.argv[env.argc] = strdup(s);
    if (env.argv[env.argc] == NULL)
        return -ENOMEM;
    env.argc++;
    return 0;
}

/* Whether the extra EAL arguments carry one of flags: "-x", "-xVALUE",
 * "--long" or "--long=VALUE" (a NULL-terminated list). */
static int mentions(const char *extra, const char *const *flags)
{
    char *copy, *tok, *save = NULL;
    const char *const *f;
    size_t n;
    int found = 0;

    if (extra == NULL || (copy = strdup(extra)) == NULL)
        return 0;
    for (tok = strtok_r(copy, " \t\n", &save); tok != NULL && !found;
         tok = strtok_r(NULL, " \t\n", &save))
        for (f = flags; *f != NULL && !found; f++) {
            n = strlen(*f);
            found = strcmp(tok, *f) == 0 ||
                    (strncmp(tok, *f, n) == 0 &&
                     ((*f)[1] == '-' ? tok[n] == '=' : tok[1] != '-'));
        }
    free(copy);
    return found;
}

static int mentions_pci_allow(const char *extra)
{
    static const char *const flags[] = {"-a", "--allow", NULL};

    return mentions(extra, flags);
}

/* A user's own lcores (-l, --lcores, -c) replace the engine's default ones;
 * a hugetlbfs (--huge-dir, --in-memory) replaces --no-huge, and then DPDK
 * takes memory as it needs it unless -m/--socket-mem says otherwise. */
static const char *const LCORE_FLAGS[] = {"-l", "--lcores", "-c", NULL};
static const char *const HUGE_FLAGS[] = {"--huge-dir", "--in-memory", NULL};
static const char *const MEMORY_FLAGS[] = {"-m", "--socket-mem", NULL};

/* ---- mbuf memory ------------------------------------------------------- */

/* --no-huge memory is a shared memfd of 4 KiB pages (never THP unless the
 * host's shmem_enabled says so), and a pool's mbufs spread over thousands of
 * those pages, beyond what the TLB covers. Virtual-device pools live on a
 * heap of our own instead: private anonymous memory advised for transparent
 * huge pages (THP "madvise" mode, the default), added to DPDK as external
 * memory. Measured here, runs alternating old/new (medians): ring loopback
 * 44.7 Mpps instead of 38, the generator on net_null 58 instead of 49.5.
 * Real ports (-a in --eal) keep DPDK's memory: their DMA needs its IOVAs. */
static void thp_heap_create(void)
{
    uint8_t *raw, *mem;
    int socket;

    raw = mmap(NULL, THP_HEAP_BYTES + THP_SIZE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    env.thp_off = 1; /* one try */
    if (raw == MAP_FAILED)
        return;
    mem = (uint8_t *)RTE_ALIGN_CEIL((uintptr_t)raw, THP_SIZE);
    if (mem > raw)
        munmap(raw, (size_t)(mem - raw));
    munmap(mem + THP_HEAP_BYTES, (size_t)(raw + THP_SIZE - mem));
    madvise(mem, THP_HEAP_BYTES, MADV_HUGEPAGE); /* no THP: 4 KiB, still fine */
    if (rte_malloc_heap_create(THP_HEAP) != 0)
        goto unmap;
    if (rte_malloc_heap_memory_add(THP_HEAP, mem, THP_HEAP_BYTES, NULL, 0,
                                   THP_SIZE) != 0)
        goto destroy;
    socket = rte_malloc_heap_get_socket(THP_HEAP);
    if (socket < 0)
        goto remove;
    env.thp_mem = mem;
    env.thp_socket = socket;
    return;
remove:
    rte_malloc_heap_memory_remove(THP_HEAP, mem, THP_HEAP_BYTES);
destroy:
    rte_malloc_heap_destroy(THP_HEAP);
unmap:
    munmap(mem, THP_HEAP_BYTES);
}

/* After every pool on the heap is freed; a pool still there (a memif port
 * left to the process exit) keeps the heap to the exit too. */
static void thp_heap_destroy(void)
{
    if (env.thp_mem == NULL)
        return;
    if (rte_malloc_heap_memory_remove(THP_HEAP, env.thp_mem, THP_HEAP_BYTES) != 0)
        return;
    rte_malloc_heap_destroy(THP_HEAP);
    munmap(env.thp_mem, THP_HEAP_BYTES);
    env.thp_mem = NULL;
    env.thp_socket = SOCKET_ID_ANY;
}

/* A pool on the huge-page heap (made on first use) when the port may have
 * one, else on the port's socket. net_memif ports may not: with their pools
 * on external memory, half the runs here never connected. */
static struct rte_mempool *pool_create(const char *name, int socket, int thp)
{
    struct rte_mempool *mp = NULL;

    if (thp && env.thp_mem == NULL && !env.thp_off)
        thp_heap_create();
    if (thp && env.thp_mem != NULL)
        mp = rte_pktmbuf_pool_create(name, NB_MBUF, MBUF_CACHE_SIZE, 0,
                                     RTE_MBUF_DEFAULT_BUF_SIZE, env.thp_socket);
    if (mp == NULL)
        mp = rte_pktmbuf_pool_create(name, NB_MBUF, MBUF_CACHE_SIZE, 0,
                                     RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    return mp;
}

/* net_tap reads its fds only after its "Rx trigger" signal has come since its
 * last short read: the kernel signals each queued frame (F_SETSIG with a free
 * real-time signal, SIGIO once those overflow) and the poller waits for the
 * handler to run. A kernel sender at 100 kpps into net_tap lost ~15 % at the
 * tap's queue that way (latency p50 ~1.4 ms), and still ~2 % with the signal
 * taken by another thread. While the signal never arrives, the trigger stays
 * at 0 and net_tap reads on every poll - poll mode, like every other PMD; then
 * nothing was lost at 100-200 kpps (p50 ~5 us). So every thread of the engine
 * (EAL's inherit this mask) blocks SIGIO and the real-time signals; none of
 * the engine's own code uses them. What the kernel queues for the blocked
 * signals is capped by a small RLIMIT_SIGPENDING of this process, so the
 * user's pending-signal quota that other processes share is not used up. */
#define SIGPENDING_CAP 64

static void tap_trigger_off(void)
{
    struct rlimit lim;
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    for (sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
        sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (getrlimit(RLIMIT_SIGPENDING, &lim) == 0 && lim.rlim_cur > SIGPENDING_CAP) {
        lim.rlim_cur = SIGPENDING_CAP;
        setrlimit(RLIMIT_SIGPENDING, &lim);
    }
}

static int dpdk_env_init(const struct sk_env_cfg *cfg, char *err,
                         size_t errlen)
{
    char *argv[MAX_EAL_ARGS] = {0};
    char *extra = NULL, *tok, *save = NULL, quote[LOG_LINE_LEN + 16], lcores[64];
    const char *fixed[] = {
        "simkit-engine", "--no-shconf", "--no-telemetry",
        "--file-prefix", cfg->file_prefix,
    };
    int huge = mentions(cfg->extra_args, HUGE_FLAGS);
    int ret, e, saved_stderr, unparsed, user_args = 0;
    unsigned i;

    runtime_dir_set(cfg->file_prefix);
    ret = log_open(cfg->verbose);
    if (ret < 0) {
        snprintf(err, errlen, "cannot open a log stream for DPDK: %s: out of memory?",
                 strerror(-ret));
        goto out;
    }
    for (i = 0; i < RTE_DIM(fixed) && ret == 0; i++)
        ret = argv_push(fixed[i]);
    if (ret == 0 && !mentions(cfg->extra_args, LCORE_FLAGS)) {
        /* lcore 0 (main: the generator) and 1 (the receiver) on the first two
         * cores this process may run on (-l 0,1 on most machines), so a
         * taskset or a cpuset is kept: with one core, both lcores share it */
        int gen = 0, rx = 1;

        if (sk_io_engine_cores(&gen, &rx) && cfg->n_lcores > 1)
            snprintf(lcores, sizeof(lcores), "--lcores=0@%d,1@%d", gen, rx);
        else
            snprintf(lcores, sizeof(lcores), "--lcores=0@%d", gen);
        ret = argv_push(lcores);
    }
    if (ret == 0 && !huge)
        ret = argv_push("--no-huge");
    if (ret == 0 && !huge && !mentions(cfg->extra_args, MEMORY_FLAGS)) {
        ret = argv_push("-m");
        if (ret == 0)
            ret = argv_push(EAL_MEMORY_MB);
    }
    /* real ports are allowed with -a/--allow in --eal: keep PCI for them */
    if (ret == 0 && !mentions_pci_allow(cfg->extra_args))
        ret = argv_push("--no-pci");
    if (ret == 0 && !cfg->verbose)
        ret = argv_push("--log-level=error"); /* --eal may override it */
    if (ret == 0 && cfg->extra_args != NULL) {
        extra = strdup(cfg->extra_args);
        if (extra == NULL)
            ret = -ENOMEM;
        for (tok = extra ? strtok_r(extra, " \t\n", &save) : NULL;
             tok != NULL && ret == 0; tok = strtok_r(NULL, " \t\n", &save)) {
            ret = argv_push(tok);
            user_args++;
        }
    }
    if (ret < 0) {
        snprintf(err, errlen, "cannot build the EAL arguments: %s: pass at "
                 "most %d words with --eal", strerror(-ret), MAX_EAL_ARGS - 16);
        ret = -EINVAL;
        goto out;
    }

    tap_trigger_off();
    memcpy(argv, env.argv, sizeof(argv)); /* rte_eal_init permutes argv */
    /* EAL also writes "EAL: FATAL: ..." straight to stderr; its log line is
     * quoted in our own message, so keep stderr to one line unless verbose */
    saved_stderr = cfg->verbose ? -1 : stderr_silence();
    ret = rte_eal_init(env.argc, argv);
    stderr_restore(saved_stderr);
    if (ret < 0) {
        e = rte_errno;
        log_quote(quote, sizeof(quote));
        /* a device in --eal that no bus can parse (no driver of that name):
         * EAL says ENODEV, but it is the user's typo, not a missing device */
        unparsed = e == ENODEV && user_args > 0 && strstr(quote, "Unable to parse device");
        snprintf(err, errlen, "EAL init failed: %s%s: %s", strerror(e), quote,
                 unparsed ? "check the device names in the extra EAL arguments: "
                            "no driver of this DPDK has that name" : eal_hint(e));
        /* a typo in --eal is bad input, not "DPDK unavailable here" */
        ret = (e == EINVAL || unparsed) && user_args > 0 ? -EINVAL : -ENODEV;
        runtime_dir_remove();
        goto out;
    }
    env.eal_ready = 1;
    env.huge = huge;
    /* real ports' DMA needs DPDK's IOVAs; on huge pages DPDK's memory is the point */
    env.thp_off = mentions_pci_allow(cfg->extra_args) || huge;
    env.worker_lcore = rte_get_next_lcore(-1, 1, 0);
    if (cfg->n_lcores > 1 && env.worker_lcore >= RTE_MAX_LCORE) {
        snprintf(err, errlen, "the lcores in the EAL arguments give one lcore: a run with "
                 "a generator and a receiver needs two (e.g. -l 0,1)");
        ret = -EINVAL;
        goto out;
    }
    ret = 0;
out:
    free(extra);
    return ret;
}

/* ---- ports -------------------------------------------------------------- */

/* What to do when a pool does not fit in the memory EAL has. */
static const char *memory_hint(void)
{
    return env.huge ? "give the run more huge pages (simkit run --hugepages N: the engine "
                      "takes about 24 of 2 MiB, a DPDK DUT more)"
                    : "raise -m via --eal";
}

static int is_driver(uint16_t port_id, const char *driver)
{
    struct rte_eth_dev_info info;

    return rte_eth_dev_info_get(port_id, &info) == 0 && info.driver_name != NULL &&
           strcmp(info.driver_name, driver) == 0;
}

static int is_memif(uint16_t port_id)
{
    return is_driver(port_id, "net_memif");
}

static int port_setup(struct sk_port *p, char *err, size_t errlen)
{
    struct rte_eth_conf conf;
    char pool_name[NAME_LEN];
    uint16_t nb_rxd = NB_RX_DESC, nb_txd = NB_TX_DESC;
    int socket = rte_eth_dev_socket_id(p->port_id);
    int ret;

    if (socket < 0)
        socket = (int)rte_socket_id();
    snprintf(pool_name, sizeof(pool_name), "sk_pool_%u", p->port_id);
    p->pool = pool_create(pool_name, socket, !is_memif(p->port_id));
    if (p->pool == NULL) {
        ret = -rte_errno;
        snprintf(err, errlen, "cannot create mbuf pool for port %s: %s: "
                 "%s", p->name, rte_strerror(rte_errno), memory_hint());
        goto out;
    }
    p->room = rte_pktmbuf_data_room_size(p->pool) - RTE_PKTMBUF_HEADROOM;
    memset(&conf, 0, sizeof(conf));
    ret = rte_eth_dev_configure(p->port_id, 1, 1, &conf);
    if (ret < 0) {
        snprintf(err, errlen, "cannot configure port %s: %s: the driver "
                 "must support one rx and one tx queue", p->name, strerror(-ret));
        goto out;
    }
    if (is_driver(p->port_id, "net_af_xdp"))
        nb_rxd = NB_RX_DESC_AF_XDP;
    ret = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nb_rxd, &nb_txd);
    if (ret == 0)
        ret = rte_eth_rx_queue_setup(p->port_id, 0, nb_rxd, socket, NULL, p->pool);
    if (ret == 0)
        ret = rte_eth_tx_queue_setup(p->port_id, 0, nb_txd, socket, NULL);
    if (ret < 0) {
        snprintf(err, errlen, "cannot set up the queues of port %s: %s: "
                 "check the device arguments", p->name, strerror(-ret));
        goto out;
    }
    ret = rte_eth_dev_start(p->port_id);
    if (ret < 0) {
        snprintf(err, errlen, "cannot start port %s: %s: check the device "
                 "arguments", p->name, strerror(-ret));
        goto out;
    }
    p->started = 1;
    p->memif = is_memif(p->port_id);
    env.memif_ports += p->memif;
    rte_eth_promiscuous_enable(p->port_id); /* not all drivers can: fine */
    ret = 0;
out:
    return ret;
}

/* Ports EAL made (-a PCI, --vdev in --eal), by port id: one real port looped
 * back by a cable is both the generator's and the receiver's. */
static struct sk_port *eal_ports[RTE_MAX_ETHPORTS];

static void port_release(struct sk_port *p)
{
    if (p == NULL)
        return;
    if (p->refs > 1) {
        p->refs--;
        return;
    }
    if (p->refs == 1 && p->port_id < RTE_MAX_ETHPORTS)
        eal_ports[p->port_id] = NULL;
    /* DPDK 22.11's net_memif frees its socket's interrupt handle on close
     * while the EAL interrupt thread may still be polling it (a SIGSEGV in
     * rte_intr_fd_get, ~1 run in 5 here): a memif port is left to the
     * process exit, which releases its memory and abstract socket. */
    if (p->memif) {
        free(p);
        return;
    }
    if (p->started)
        rte_eth_dev_stop(p->port_id);
    if (rte_eth_dev_is_valid_port(p->port_id))
        rte_eth_dev_close(p->port_id);
    if (p->name[0] != '\0')
        rte_eal_hotplug_remove(VDEV_BUS, p->name);
    rte_mempool_free(p->pool);
    free(p);
}

/* Create the crossed pair once: A tx -> ring ab -> B rx, B tx -> ba -> A rx. */
static int pair_create(char *err, size_t errlen)
{
    static const char *const names[2] = {"sk_ring_a", "sk_ring_b"};
    int socket = (int)rte_socket_id(), ret, i, id;

    pair.ab = rte_ring_create("sk_ring_ab", PAIR_RING_SIZE, socket,
                              RING_F_SP_ENQ | RING_F_SC_DEQ);
    pair.ba = rte_ring_create("sk_ring_ba", PAIR_RING_SIZE, socket,
                              RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (pair.ab == NULL || pair.ba == NULL) {
        ret = -ENOMEM;
        snprintf(err, errlen, "cannot create the rings of the @ring pair: %s: "
                 "%s", rte_strerror(rte_errno), memory_hint());
        goto out;
    }
    for (i = 0; i < 2; i++) {
        struct rte_ring *rx = i == 0 ? pair.ba : pair.ab;
        struct rte_ring *tx = i == 0 ? pair.ab : pair.ba;
        struct sk_port *p = calloc(1, sizeof(*p));

        if (p == NULL) {
            ret = -ENOMEM;
            snprintf(err, errlen, "cannot allocate a port: out of memory");
            goto out;
        }
        pair.end[i] = p;
        p->pair_end = 1;
        p->port_id = RTE_MAX_ETHPORTS;
        id = rte_eth_from_rings(names[i], &rx, 1, &tx, 1, (unsigned)socket);
        if (id < 0) {
            ret = -ENODEV;
            snprintf(err, errlen, "cannot create the @ring pair (rte_eth_from_rings): "
                     "%s: is librte_net_ring installed?", rte_strerror(rte_errno));
            goto out;
        }
        p->port_id = (uint16_t)id;
        rte_eth_dev_get_name_by_port(p->port_id, p->name);
        ret = port_setup(p, err, errlen);
        if (ret < 0)
            goto out;
    }
    ret = 0;
out:
    return ret;
}

static void pair_destroy(void)
{
    int i;

    for (i = 0; i < 2; i++) {
        port_release(pair.end[i]);
        pair.end[i] = NULL;
    }
    rte_ring_free(pair.ab);
    rte_ring_free(pair.ba);
    memset(&pair, 0, sizeof(pair));
}

/* Friendly checks of net_pcap file arguments, before DPDK sees them. */
static int check_pcap_args(const char *args, char *err, size_t errlen)
{
    char *copy = strdup(args), *kv, *save = NULL, *val, *slash;
    char dir[PATH_MAX];
    int ret = 0;

    if (copy == NULL)
        return -ENOMEM;
    for (kv = strtok_r(copy, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
        val = strchr(kv, '=');
        if (val == NULL)
            continue;
        *val++ = '\0';
        if (strcmp(kv, "tx_pcap") == 0) {
            snprintf(dir, sizeof(dir), "%s", val);
            slash = strrchr(dir, '/');
            if (slash == NULL)
                snprintf(dir, sizeof(dir), ".");
            else if (slash == dir)
                dir[1] = '\0';
            else
                *slash = '\0';
            if (access(dir, W_OK) != 0 ||
                (access(val, F_OK) == 0 && access(val, W_OK) != 0)) {
                ret = -EINVAL;
                snprintf(err, errlen, "cannot write tx_pcap file %s: %s: use a "
                         "path in an existing, writable directory", val,
                         strerror(errno));
                break;
            }
        } else if (strcmp(kv, "rx_pcap") == 0 && access(val, R_OK) != 0) {
            ret = -EINVAL;
            snprintf(err, errlen, "cannot read rx_pcap file %s: %s: write it "
                     "first (use --phased to receive what the generator wrote)",
                     val, strerror(errno));
            break;
        }
    }
    free(copy);
    return ret;
}

/* A real port must be up, with a standard MTU, before traffic: wait for its
 * link (auto-negotiation takes seconds), then say what is wrong. */
#define LINK_WAIT_MS 9000
#define LINK_POLL_MS 100
#define MIN_MTU 1500

static int port_link_check(struct sk_port *p, char *err, size_t errlen)
{
    char name[RTE_ETH_NAME_MAX_LEN] = "?";
    struct rte_eth_link link;
    uint16_t mtu = 0;
    int waited;

    rte_eth_dev_get_name_by_port(p->port_id, name);
    memset(&link, 0, sizeof(link));
    for (waited = 0; waited <= LINK_WAIT_MS; waited += LINK_POLL_MS) {
        if (rte_eth_link_get_nowait(p->port_id, &link) == 0 &&
            link.link_status == RTE_ETH_LINK_UP)
            break;
        usleep(LINK_POLL_MS * 1000);
    }
    if (link.link_status != RTE_ETH_LINK_UP) {
        snprintf(err, errlen, "port %s: link down after %d s: check the cable (or "
                 "loop) and its peer", name, LINK_WAIT_MS / 1000);
        return -ENODEV;
    }
    if (rte_eth_dev_get_mtu(p->port_id, &mtu) == 0 && mtu < MIN_MTU) {
        snprintf(err, errlen, "port %s: MTU %u, a run needs %d", name, mtu, MIN_MTU);
        return -ENODEV;
    }
    return 0;
}

static int vdev_open(const char *spec, struct sk_port **out, char *err,
                     size_t errlen)
{
    char name[RTE_ETH_NAME_MAX_LEN], quote[LOG_LINE_LEN + 16];
    const char *comma = strchr(spec, ',');
    const char *args = comma != NULL ? comma + 1 : "";
    size_t nlen = comma != NULL ? (size_t)(comma - spec) : strlen(spec);
    struct sk_port *p = NULL;
    uint16_t port_id;
    int ret;

    if (nlen == 0 || nlen >= sizeof(name)) {
        ret = -EINVAL;
        snprintf(err, errlen, "bad device '%s': expected DRIVER<N>[,key=value...] "
                 "such as net_pcap0,tx_pcap=/tmp/x.pcap, or @ring", spec);
        goto out;
    }
    memcpy(name, spec, nlen);
    name[nlen] = '\0';
    if (strncmp(name, "net_pcap", 8) == 0) {
        ret = check_pcap_args(args, err, errlen);
        if (ret < 0)
            goto out;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        ret = -ENOMEM;
        snprintf(err, errlen, "cannot allocate a port: out of memory");
        goto out;
    }
    p->port_id = RTE_MAX_ETHPORTS;
    /* a port EAL already made (-a PCI or --vdev in --eal) is used as is;
     * opened a second time (one port looped), the first opening is shared */
    if (comma == NULL && rte_eth_dev_get_port_by_name(name, &port_id) == 0) {
        if (eal_ports[port_id] != NULL) {
            free(p);
            p = eal_ports[port_id];
            p->refs++;
            *out = p;
            return 0;
        }
        p->port_id = port_id;
        ret = port_setup(p, err, errlen);
        if (ret == 0)
            ret = port_link_check(p, err, errlen);
        if (ret < 0)
            goto out;
        p->refs = 1;
        eal_ports[port_id] = p;
        *out = p;
        p = NULL;
        goto out;
    }
    log_forget();
    ret = rte_eal_hotplug_add(VDEV_BUS, name, args);
    if (ret < 0) {
        log_quote(quote, sizeof(quote));
        snprintf(err, errlen, "DPDK rejected device '%s'%s: check the driver "
                 "name (net_pcap, net_null, net_tap, net_af_packet, net_memif, "
                 "...) and its arguments", spec, quote);
        ret = -EINVAL;
        goto out;
    }
    snprintf(p->name, sizeof(p->name), "%s", name);
    if (rte_eth_dev_get_port_by_name(name, &port_id) != 0) {
        ret = -EINVAL;
        snprintf(err, errlen, "device '%s' is not an ethernet port: use a "
                 "net_* driver", spec);
        goto out;
    }
    p->port_id = port_id;
    ret = port_setup(p, err, errlen);
    if (ret < 0)
        goto out;
    *out = p;
    p = NULL;
out:
    port_release(p);
    return ret;
}

static int dpdk_open(const char *spec, enum sk_io_dir dir, unsigned burst,
                     struct sk_port **out, char *err, size_t errlen)
{
    int ret;

    (void)dir, (void)burst;

    if (!env.eal_ready) {
        snprintf(err, errlen, "cannot open '%s': EAL is not initialised", spec);
        return -ENODEV;
    }
    if (strncmp(spec, "net_af_xdp", 10) == 0 && !env.log_verbose)
        sk_io_xdp_quiet(); /* its libbpf/libxdp print to stderr themselves */
    if (strcmp(spec, SK_IO_RING_SPEC) != 0)
        return vdev_open(spec, out, err, errlen);
    if (pair.opened >= 2) {
        snprintf(err, errlen, "@ring has only two ends: use it for exactly "
                 "--tx-dev and --rx-dev");
        return -EINVAL;
    }
    if (pair.opened == 0) {
        ret = pair_create(err, errlen);
        if (ret < 0) {
            pair_destroy();
            return ret;
        }
    }
    *out = pair.end[pair.opened++];
    return 0;
}

static void dpdk_close(struct sk_port *p)
{
    if (p == NULL)
        return;
    if (!p->pair_end) {
        port_release(p);
        return;
    }
    /* the pair goes once every end handed out has been closed */
    if (++pair.closed >= pair.opened)
        pair_destroy();
}

/* rte_pktmbuf_alloc_bulk() resets every field of both header cache lines;
 * the generator only needs what tx reads. An mbuf back in its pool already
 * has next NULL, nb_segs 1 and refcnt 1 (rte_pktmbuf_free and the pool's
 * init guarantee it), so only data_off, the lengths and ol_flags (no
 * offloads: tx_offload and vlan_tci are then never read) are set, all in the
 * first cache line. */
static int dpdk_alloc(struct sk_port *p, struct sk_pkt *pkts, unsigned n,
                      uint32_t len)
{
    struct rte_mbuf *m[SK_IO_MAX_BURST];
    unsigned i;

    if (len > p->room)
        return -EMSGSIZE;
    if (rte_mempool_get_bulk(p->pool, (void **)m, n) != 0)
        return -ENOBUFS;
    for (i = 0; i < n; i++) {
        m[i]->data_off = RTE_PKTMBUF_HEADROOM;
        m[i]->ol_flags = 0;
        m[i]->data_len = (uint16_t)len;
        m[i]->pkt_len = len;
        pkts[i].handle = m[i];
        pkts[i].data = rte_pktmbuf_mtod(m[i], uint8_t *);
        pkts[i].len = len;
        pkts[i].wire_len = len;
    }
    return 0;
}

static unsigned dpdk_tx_burst(struct sk_port *p, struct sk_pkt *pkts,
                              unsigned n)
{
    struct rte_mbuf *m[SK_IO_MAX_BURST];
    unsigned i;

    for (i = 0; i < n; i++) {
        m[i] = pkts[i].handle;
        if (unlikely(m[i]->data_len != pkts[i].len)) { /* the caller shortened it */
            m[i]->data_len = (uint16_t)pkts[i].len;
            m[i]->pkt_len = pkts[i].len;
        }
    }
    return rte_eth_tx_burst(p->port_id, 0, m, (uint16_t)n);
}

static unsigned dpdk_rx_burst(struct sk_port *p, struct sk_pkt *pkts,
                              unsigned n)
{
    struct rte_mbuf *m[SK_IO_MAX_BURST];
    unsigned i, got;

    got = rte_eth_rx_burst(p->port_id, 0, m, (uint16_t)n);
    for (i = 0; i < got; i++) {
        pkts[i].handle = m[i];
        pkts[i].data = rte_pktmbuf_mtod(m[i], uint8_t *);
        pkts[i].len = m[i]->data_len;
        pkts[i].wire_len = m[i]->pkt_len;
    }
    return got;
}

static void dpdk_free(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    struct rte_mbuf *m[SK_IO_MAX_BURST];
    unsigned i;

    (void)p;
    for (i = 0; i < n; i++)
        m[i] = pkts[i].handle;
    rte_pktmbuf_free_bulk(m, n);
}

static int dpdk_launch(int (*fn)(void *), void *arg)
{
    if (env.worker_lcore >= RTE_MAX_LCORE)
        return -ENODEV;
    return rte_eal_remote_launch(fn, arg, env.worker_lcore);
}

static int dpdk_join(void)
{
    return rte_eal_wait_lcore(env.worker_lcore);
}

/* Drivers whose ports would create or bind kernel interfaces are not
 * opened here (probe runs in the host's namespace, which simkit never
 * touches): their plugin being installed is what probe can say. */
static int driver_installed(const char *driver, char *err, size_t errlen)
{
#ifdef RTE_EAL_PMD_PATH
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/librte_%s.so", RTE_EAL_PMD_PATH, driver);
    if (access(path, R_OK) == 0)
        return 0;
    snprintf(err, errlen, "DPDK driver %s not installed (%s missing): install "
             "DPDK's drivers (Debian: librte-%s23)", driver, path, driver + 4);
    return -ENODEV;
#else
    (void)driver, (void)err, (void)errlen;
    return 0; /* drivers linked in statically: the EAL has them */
#endif
}

static int dpdk_probe_link(const char *link, char *err, size_t errlen)
{
    struct sk_port *a = NULL, *b = NULL;
    const char *spec;
    int ret;

    if (strcmp(link, "net_ring") == 0) {
        ret = dpdk_open(SK_IO_RING_SPEC, SK_IO_TX, 0, &a, err, errlen);
        if (ret == 0)
            ret = dpdk_open(SK_IO_RING_SPEC, SK_IO_RX, 0, &b, err, errlen);
        dpdk_close(a);
        dpdk_close(b);
        return ret;
    }
    if (strcmp(link, "net_tap") == 0 || strcmp(link, "net_af_packet") == 0 ||
        strcmp(link, "net_memif") == 0 || strcmp(link, "net_af_xdp") == 0)
        return driver_installed(link, err, errlen);
    if (strcmp(link, "net_null") == 0)
        spec = "net_null_probe0";
    else if (strcmp(link, "net_pcap") == 0)
        spec = "net_pcap_probe0,tx_pcap=/dev/null";
    else {
        snprintf(err, errlen, "unknown link '%s': probe knows net_ring, "
                 "net_null, net_pcap, net_tap, net_af_packet, net_memif, net_af_xdp", link);
        return -EINVAL;
    }
    ret = dpdk_open(spec, SK_IO_TX, 0, &a, err, errlen);
    if (ret < 0) {
        char quote[LOG_LINE_LEN + 16];

        log_quote(quote, sizeof(quote));
        snprintf(err, errlen, "cannot create a %s port%s: install DPDK's %s "
                 "driver (Debian: librte-%s23)", link, quote, link,
                 strcmp(link, "net_pcap") == 0 ? "net-pcap" : "net-null");
        return -ENODEV;
    }
    dpdk_close(a);
    return 0;
}

static void dpdk_env_cleanup(void)
{
    if (pair.end[0] != NULL || pair.end[1] != NULL)
        pair_destroy();
    thp_heap_destroy();
    if (env.eal_ready && env.memif_ports == 0) { /* memif: see port_release() */
        rte_eal_cleanup();
        env.eal_ready = 0;
    }
    argv_free();
    runtime_dir_remove();
    if (env.log_stream != NULL) {
        rte_openlog_stream(NULL);
        fclose(env.log_stream);
        env.log_stream = NULL;
    }
}

#else /* !SK_HAVE_DPDK: every entry point says why DPDK is not here */

struct sk_port {
    int unused;
};

static const char *dpdk_version(void)
{
    return NULL;
}

static int dpdk_env_init(const struct sk_env_cfg *cfg, char *err, size_t errlen)
{
    (void)cfg;
    snprintf(err, errlen, "%s", NO_DPDK_REASON);
    return -ENODEV;
}

static void dpdk_env_cleanup(void)
{
}

static int dpdk_open(const char *spec, enum sk_io_dir dir, unsigned burst,
                     struct sk_port **out, char *err, size_t errlen)
{
    (void)spec, (void)dir, (void)burst;
    (void)out;
    snprintf(err, errlen, "%s", NO_DPDK_REASON);
    return -ENODEV;
}

static void dpdk_close(struct sk_port *p)
{
    (void)p;
}

static int dpdk_alloc(struct sk_port *p, struct sk_pkt *pkts, unsigned n,
                      uint32_t len)
{
    (void)p, (void)pkts, (void)n, (void)len;
    return -ENODEV;
}

static unsigned dpdk_tx_burst(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    (void)p, (void)pkts, (void)n;
    return 0;
}

static unsigned dpdk_rx_burst(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    (void)p, (void)pkts, (void)n;
    return 0;
}

static void dpdk_free(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    (void)p, (void)pkts, (void)n;
}

static int dpdk_launch(int (*fn)(void *), void *arg)
{
    (void)fn, (void)arg;
    return -ENODEV;
}

static int dpdk_join(void)
{
    return -ENODEV;
}

static int dpdk_probe_link(const char *link, char *err, size_t errlen)
{
    (void)link;
    snprintf(err, errlen, "%s", NO_DPDK_REASON);
    return -ENODEV;
}

#endif /* SK_HAVE_DPDK */

const struct sk_io_ops sk_io_dpdk = {
    .name = "dpdk",
    .layer = SK_IO_FRAMES,
    .version = dpdk_version,
    .env_init = dpdk_env_init,
    .env_cleanup = dpdk_env_cleanup,
    .open = dpdk_open,
    .close = dpdk_close,
    .alloc = dpdk_alloc,
    .tx_burst = dpdk_tx_burst,
    .rx_burst = dpdk_rx_burst,
    .free = dpdk_free,
    .launch = dpdk_launch,
    .join = dpdk_join,
    .probe_link = dpdk_probe_link,
    .mode = NULL,
    .errors = NULL,
};
