/*
 * main.c - simkit-engine: command line, signals, exit codes.
 *
 *   simkit-engine probe --file-prefix P [--verbose]
 *   simkit-engine run --file-prefix P --tx-dev SPEC --rx-dev SPEC|none --count N
 *                 [--tx-backend B] [--rx-backend B] [--tx-netns NS] [--rx-netns NS]
 *                 [--dst-mac MAC] [--rate PPS] [--burst B] [--seed S]
 *                 [--udp-checksum] [--phased] [--eal "ARGS"] [--drain-ms MS]
 *                 [--timeout-s S] [--progress] [--verbose]
 *                 [--impair kind=NAME,key=value,...]... [--impair-seed S]
 *                 [--truth PATH] [--stream PATH [--unlink-stream]]
 *                 [--arrivals constant|poisson|capture] [--speed X]
 *                 [--profile PATH] [--duration SECONDS]
 *                 [--send-zc] [--sqpoll] [--flows N]
 *
 * stdout carries exactly one JSON object (the real stdout is kept for it and
 * fd 1 is pointed at stderr, so no library printf can spoil it); humans read
 * stderr; an error is one line "simkit-engine: <what failed>: <hint>".
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "engine.h"
#include "intervals.h"

#define FILE_PREFIX_MAX 64
#define MAX_RATE_PPS 1000000000000ULL
#define MAX_DRAIN_MS 3600000ULL
#define MAX_TIMEOUT_S 86400.0
#define URING_SPEC_MAX 512

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&sk_interrupted, 1);
}

static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout must not skip cleanup */
}

static void usage(FILE *f)
{
    fprintf(f,
"usage: %s probe --file-prefix P [--verbose]\n"
"       %s run --file-prefix P --tx-dev SPEC --rx-dev SPEC|none --count N\n"
"              [--tx-backend dpdk|io_uring|socket|af_xdp] [--rx-backend ...]\n"
"              [--tx-netns NAME] [--rx-netns NAME] [--dst-mac MAC]\n"
"              [--rate PPS] [--burst B] [--seed S] [--udp-checksum] [--phased]\n"
"              [--eal \"ARGS\"] [--drain-ms MS] [--timeout-s S] [--progress]\n"
"              [--verbose] [--impair kind=NAME,key=value,...]...\n"
"              [--impair-seed S] [--truth PATH] [--stream PATH [--unlink-stream]]\n"
"              [--arrivals constant|poisson|capture] [--speed X]\n"
"              [--profile PATH] [--duration SECONDS]\n"
"              [--send-zc] [--sqpoll] [--flows N] [--interval-ms MS]\n"
"              [--uring-mode poll|wait] [--uring-batch-us N]\n"
"              [--recovery udp:A.B.C.D:PORT [--recovery-netns NAME]\n"
"               [--recovery-max-messages N] [--recovery-rate RPS]\n"
"               [--recovery-peer-mac MAC]]\n"
"              [--lines ab --line-b-port PORT [--skew-ns NS] [--impair-b SPEC]...]\n"
"SPEC for dpdk is a vdev devargs string (net_pcap_tx0,tx_pcap=/tmp/x.pcap) or\n"
"@ring on both sides for an in-process crossed ring pair; for io_uring and\n"
"socket udp:A.B.C.D:PORT (tx: destination, rx: bound address; io_uring rx\n"
"takes ,mode=auto|multishot|single). --rx-dev none: generator only.\n"
"--tx-dev none: receiver only (one side of a two-process link such as memif;\n"
"expects --count packets). --ready: print \"ready\" on stderr once the ports\n"
"are up. --hold: after the report, keep the ports open until stdin is closed\n"
"(or a signal): the peer process finishes before the link goes down.\n"
"--send-zc: the io_uring generator sends with IORING_OP_SEND_ZC; --sqpoll:\n"
"io_uring rings with a kernel submission thread (IORING_SETUP_SQPOLL).\n"
"Either falls back where the kernel refuses; the report says which ran.\n"
"--uring-mode: the io_uring receiver busy-polls its completions (poll) or\n"
"sleeps until a batch is there or --uring-batch-us passed (wait, default 20).\n"
"--arrivals capture: a timed --stream's own departure offsets (a capture's\n"
"timing), scaled by --speed X (default 1; 2 = twice as fast), as tcpreplay\n"
"--multiplier does; not with --rate.\n"
"--profile PATH: piecewise-constant rates, a line \"AT_NS PPS\" a step (from\n"
"AT_NS after the start on; the last holds); the report's pacing gains each\n"
"interval's offered and sent packets; not with --rate or --arrivals.\n"
"--interval-ms MS: the receiver's per-interval record (latency buckets,\n"
"packets) in the report's \"intervals\" (default 1000).\n",
            SK_ENGINE_NAME, SK_ENGINE_NAME);
}

/* Strict unsigned decimal: digits only (a float literal like 1e6 is taken
 * when it is an exact integer), within [lo, hi]. */
static int parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi,
                     uint64_t *out)
{
    char *end;
    unsigned long long v;
    double d;

    if (s != NULL && s[0] >= '0' && s[0] <= '9') {
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == 0 && *end == '\0' && v >= lo && v <= hi) {
            *out = v;
            return 0;
        }
        errno = 0;
        d = strtod(s, &end);
        if (errno == 0 && *end == '\0' && isfinite(d) && d == floor(d) &&
            d >= (double)lo && d <= (double)hi) {
            *out = (uint64_t)d;
            return 0;
        }
    }
    sk_error("bad %s '%s': expected an integer in %llu..%llu", opt,
             s ? s : "", (unsigned long long)lo, (unsigned long long)hi);
    return -EINVAL;
}

static int parse_seconds(const char *opt, const char *s, double *out)
{
    char *end;
    double d;

    errno = 0;
    d = s != NULL ? strtod(s, &end) : NAN;
    if (s == NULL || errno != 0 || *end != '\0' || !isfinite(d) || d <= 0 ||
        d > MAX_TIMEOUT_S) {
        sk_error("bad %s '%s': expected seconds in (0, %.0f]", opt, s ? s : "",
                 MAX_TIMEOUT_S);
        return -EINVAL;
    }
    *out = d;
    return 0;
}

/* The prefix names a directory we delete at exit: keep it a plain name. */
static int check_file_prefix(const char *p)
{
    size_t i, n = p != NULL ? strlen(p) : 0;

    if (n == 0) {
        sk_error("missing --file-prefix: give a unique name per process, "
                 "e.g. --file-prefix sk$$");
        return -EINVAL;
    }
    for (i = 0; i < n; i++) {
        char c = p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
            break;
    }
    if (i < n || n > FILE_PREFIX_MAX || strcmp(p, ".") == 0 ||
        strcmp(p, "..") == 0) {
        sk_error("bad --file-prefix '%s': use 1..%d of [A-Za-z0-9_.-]", p,
                 FILE_PREFIX_MAX);
        return -EINVAL;
    }
    return 0;
}

/* One --impair: "kind=NAME|CODE,key=value,..." with the fields of struct
 * sk_impair_model (p, r, h, k, gap, layer, len, mean_ns, jitter_ns);
 * simkit.impair fills it from validated models. Checked together with the
 * others by sk_impair_validate. */
static int parse_impair(const char *spec, struct sk_impair_model *models, uint32_t *n)
{
    struct sk_impair_model *m;
    char buf[256], *save = NULL, *tok, *eq, *end;
    uint32_t code;
    int have_kind = 0;

    if (*n >= SK_IMPAIR_MAX_MODELS) {
        sk_error("too many --impair: at most %d models", SK_IMPAIR_MAX_MODELS);
        return -EINVAL;
    }
    if (strlen(spec) >= sizeof(buf)) {
        sk_error("bad --impair '%.40s...': too long", spec);
        return -EINVAL;
    }
    m = &models[*n];
    memset(m, 0, sizeof(*m));
    strcpy(buf, spec);
    for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        eq = strchr(tok, '=');
        if (eq == NULL || eq[1] == '\0')
            goto bad;
        *eq++ = '\0';
        errno = 0;
        if (strcmp(tok, "kind") == 0 || strcmp(tok, "layer") == 0) {
            int is_kind = tok[0] == 'k';
            uint32_t limit = is_kind ? SK_IMPAIR_KIND_COUNT : SK_IMPAIR_LAYER_COUNT - 1;

            for (code = is_kind; code <= limit; code++)
                if (strcmp(eq, is_kind ? sk_impair_kind_name(code)
                                       : sk_impair_layer_name(code)) == 0)
                    break;
            if (code > limit) {
                code = (uint32_t)strtoul(eq, &end, 10);
                if (errno || *end || eq[0] < '0' || eq[0] > '9')
                    goto bad;
            }
            if (is_kind) {
                m->kind = code;
                have_kind = 1;
            } else {
                m->layer = code;
            }
        } else if (strcmp(tok, "gap") == 0 || strcmp(tok, "len") == 0) {
            unsigned long long v = strtoull(eq, &end, 10);

            if (errno || *end || eq[0] < '0' || eq[0] > '9' || v > UINT32_MAX)
                goto bad;
            *(tok[0] == 'g' ? &m->gap : &m->len) = (uint32_t)v;
        } else if (strcmp(tok, "kinds") == 0) { /* malform: a mask of SK_MALFORM_* bits */
            unsigned long long v = strtoull(eq, &end, 0);

            if (errno || *end || eq[0] < '0' || eq[0] > '9' || v > UINT32_MAX)
                goto bad;
            m->malform_kinds = (uint32_t)v;
        } else if (strcmp(tok, "mean_ns") == 0 || strcmp(tok, "jitter_ns") == 0) {
            unsigned long long v = strtoull(eq, &end, 10);

            if (errno || *end || eq[0] < '0' || eq[0] > '9')
                goto bad;
            *(tok[0] == 'm' ? &m->mean_ns : &m->jitter_ns) = v;
        } else if (strlen(tok) == 1 && strchr("prhk", tok[0]) != NULL) {
            double v = strtod(eq, &end);

            if (errno || *end)
                goto bad;
            *(tok[0] == 'p' ? &m->p : tok[0] == 'r' ? &m->r : tok[0] == 'h' ? &m->h : &m->k) = v;
        } else {
            sk_error("bad --impair '%s': unknown key '%s' (kind, p, r, h, k, gap, "
                     "layer, len, mean_ns, jitter_ns, kinds)", spec, tok);
            return -EINVAL;
        }
    }
    if (!have_kind) {
        sk_error("bad --impair '%s': no kind= (drop, gilbert, dup, reorder, "
                 "corrupt, truncate, delay, malform)", spec);
        return -EINVAL;
    }
    (*n)++;
    return 0;
bad:
    sk_error("bad --impair '%s': expected kind=NAME,key=value,... e.g. kind=drop,p=0.01",
             spec);
    return -EINVAL;
}

enum {
    OPT_FILE_PREFIX = 256, OPT_TX_DEV, OPT_RX_DEV, OPT_PHASED, OPT_EAL,
    OPT_COUNT, OPT_RATE, OPT_BURST, OPT_SEED, OPT_UDP_CSUM, OPT_DRAIN_MS,
    OPT_TIMEOUT_S, OPT_PROGRESS, OPT_VERBOSE, OPT_HELP, OPT_TX_BACKEND,
    OPT_RX_BACKEND, OPT_TX_NETNS, OPT_RX_NETNS, OPT_DST_MAC, OPT_IMPAIR,
    OPT_IMPAIR_SEED, OPT_TRUTH, OPT_STREAM, OPT_UNLINK_STREAM,
    OPT_READY, OPT_HOLD, /* two-process links */
    OPT_ARRIVALS, OPT_DURATION, OPT_SPEED, OPT_PROFILE, /* pacing */
    OPT_SEND_ZC, OPT_SQPOLL, OPT_URING_MODE, OPT_URING_BATCH_US, /* io_uring */
    OPT_FLOWS, /* flows */
    OPT_INTERVAL_MS, /* intervals */
    OPT_RECOVERY, OPT_RECOVERY_NETNS, OPT_RECOVERY_MAX, OPT_RECOVERY_RATE, /* recovery.c */
    OPT_RECOVERY_PEER_MAC,
    OPT_LINES, OPT_LINE_B_PORT, OPT_SKEW_NS, OPT_IMPAIR_B, /* lines.c */
};

static const struct option long_opts[] = {
    {"file-prefix", required_argument, NULL, OPT_FILE_PREFIX},
    {"tx-dev", required_argument, NULL, OPT_TX_DEV},
    {"rx-dev", required_argument, NULL, OPT_RX_DEV},
    {"phased", no_argument, NULL, OPT_PHASED},
    {"eal", required_argument, NULL, OPT_EAL},
    {"count", required_argument, NULL, OPT_COUNT},
    {"rate", required_argument, NULL, OPT_RATE},
    {"burst", required_argument, NULL, OPT_BURST},
    {"seed", required_argument, NULL, OPT_SEED},
    {"udp-checksum", no_argument, NULL, OPT_UDP_CSUM},
    {"drain-ms", required_argument, NULL, OPT_DRAIN_MS},
    {"timeout-s", required_argument, NULL, OPT_TIMEOUT_S},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {"tx-backend", required_argument, NULL, OPT_TX_BACKEND},
    {"rx-backend", required_argument, NULL, OPT_RX_BACKEND},
    {"tx-netns", required_argument, NULL, OPT_TX_NETNS},
    {"rx-netns", required_argument, NULL, OPT_RX_NETNS},
    {"dst-mac", required_argument, NULL, OPT_DST_MAC},
    {"impair", required_argument, NULL, OPT_IMPAIR},
    {"impair-seed", required_argument, NULL, OPT_IMPAIR_SEED},
    {"truth", required_argument, NULL, OPT_TRUTH},
    {"stream", required_argument, NULL, OPT_STREAM},
    {"unlink-stream", no_argument, NULL, OPT_UNLINK_STREAM},
    {"ready", no_argument, NULL, OPT_READY},
    {"hold", no_argument, NULL, OPT_HOLD},
    {"arrivals", required_argument, NULL, OPT_ARRIVALS},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"speed", required_argument, NULL, OPT_SPEED},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"send-zc", no_argument, NULL, OPT_SEND_ZC},
    {"sqpoll", no_argument, NULL, OPT_SQPOLL},
    {"uring-mode", required_argument, NULL, OPT_URING_MODE},
    {"uring-batch-us", required_argument, NULL, OPT_URING_BATCH_US},
    {"flows", required_argument, NULL, OPT_FLOWS},
    {"interval-ms", required_argument, NULL, OPT_INTERVAL_MS},
    {"recovery", required_argument, NULL, OPT_RECOVERY},
    {"recovery-netns", required_argument, NULL, OPT_RECOVERY_NETNS},
    {"recovery-max-messages", required_argument, NULL, OPT_RECOVERY_MAX},
    {"recovery-rate", required_argument, NULL, OPT_RECOVERY_RATE},
    {"recovery-peer-mac", required_argument, NULL, OPT_RECOVERY_PEER_MAC},
    {"lines", required_argument, NULL, OPT_LINES},
    {"line-b-port", required_argument, NULL, OPT_LINE_B_PORT},
    {"skew-ns", required_argument, NULL, OPT_SKEW_NS},
    {"impair-b", required_argument, NULL, OPT_IMPAIR_B},
    {NULL, 0, NULL, 0},
};

/* Options valid for probe (the rest belong to run). */
static int probe_option(int c)
{
    return c == OPT_FILE_PREFIX || c == OPT_VERBOSE || c == OPT_HELP;
}

static int parse_backend(const char *opt, const char *name,
                         const struct sk_io_ops **out)
{
    *out = sk_io_by_name(name);
    if (*out != NULL)
        return 0;
    sk_error("bad %s '%s': use dpdk, io_uring, socket or af_xdp", opt, name);
    return -EINVAL;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char tail;
    int i;

    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &tail) != 6) {
        sk_error("bad --dst-mac '%s': expected six hex bytes like 02:00:00:00:00:02", s);
        return -EINVAL;
    }
    for (i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return 0;
}

/* A device spec that fits its backend, checked before anything starts. */
static int check_dev(const char *opt, const char *dev, const struct sk_io_ops *ops)
{
    int is_udp = strncmp(dev, SK_IO_UDP_PREFIX, strlen(SK_IO_UDP_PREFIX)) == 0;

    if (ops->layer == SK_IO_DATAGRAMS && !is_udp) {
        sk_error("bad --%s '%s' for the %s backend: give udp:A.B.C.D:PORT, "
                 "e.g. udp:198.18.0.2:20000", opt, dev, ops->name);
        return -EINVAL;
    }
    if (ops->layer == SK_IO_FRAMES && is_udp) {
        sk_error("bad --%s '%s' for the %s backend: udp: specs are for "
                 "--%s-backend io_uring or socket", opt, dev, ops->name,
                 opt[0] == 't' ? "tx" : "rx");
        return -EINVAL;
    }
    return 0;
}

/* --tx-dev none: the receiver alone, one side of a two-process link. What
 * only a generator has (a stream's send times, impairments) cannot be here. */
static int check_receiver_only(const struct sk_run_opts *o)
{
    const char *bad = NULL;

    if (strcmp(o->tx_dev, SK_NO_GENERATOR) != 0)
        return 0;
    if (strcmp(o->rx_dev, SK_NO_RECEIVER) == 0)
        bad = "--rx-dev none: give one side a device";
    else if (o->phased)
        bad = "--phased: there is no generator phase; drop --phased";
    else if (o->stream_path != NULL)
        bad = "--stream: the send times are in the generator's process; "
              "use proto seed (in-band timestamps) across two processes";
    else if (o->n_impair > 0)
        bad = "--impair: impairments belong to the generator's process";
    if (bad == NULL)
        return 0;
    sk_error("--tx-dev none (receiver only) with %s", bad);
    return -EINVAL;
}

/* --flows N > 1: the flows are told apart by UDP source port, which only
 * frames carry (a datagram backend's socket has one port), on the seed
 * generator's clean path. */
static int check_flows(const struct sk_run_opts *o)
{
    const char *bad = NULL;

    if (o->flows <= 1)
        return 0;
    if (strcmp(o->tx_dev, SK_NO_GENERATOR) != 0 && o->tx_ops->layer != SK_IO_FRAMES)
        bad = "--tx-backend dpdk: a datagram socket sends from one port";
    else if (strcmp(o->rx_dev, SK_NO_RECEIVER) != 0 && o->rx_ops->layer != SK_IO_FRAMES)
        bad = "--rx-backend dpdk: a datagram backend does not see the source port";
    else if (o->n_impair > 0)
        bad = "no --impair: impairments are per packet of one flow";
    else if (o->stream_path != NULL)
        bad = "no --stream: a prepared stream has its own ports and sequence";
    if (bad == NULL)
        return 0;
    sk_error("--flows %u needs %s", o->flows, bad);
    return -EINVAL;
}

/* --impair kind=malform: frames the generator builds whole, seed frames on a
 * frame backend, and no jumbo frames (they would not fit a DPDK mbuf). */
static int check_malform(const struct sk_run_opts *o)
{
    const char *bad = NULL;
    uint32_t i;

    for (i = 0; i < o->n_impair; i++) {
        if (o->impair[i].kind != SK_IMPAIR_MALFORM)
            continue;
        if (o->impair[i].malform_kinds & (1u << SK_MALFORM_JUMBO))
            bad = "kind jumbo: a 9000-byte frame does not fit the engine's buffers "
                  "(simkit corpus makes jumbo frames)";
        else if (o->tx_ops->layer == SK_IO_DATAGRAMS)
            bad = "--tx-backend dpdk: a datagram socket's headers are the kernel's";
        else if (o->stream_path != NULL)
            bad = "seed frames: a prepared stream's datagrams are sent as they are";
    }
    if (bad == NULL)
        return 0;
    sk_error("--impair malform needs %s", bad);
    return -EINVAL;
}

/* --lines ab: a stream, loss models only, a line B port; or none of its options. */
static int check_lines(const struct sk_run_opts *o)
{
    const struct sk_lines_cfg *l = &o->lines;
    const char *bad = NULL;
    uint32_t i;

    if (!l->on) {
        if (l->port_b != 0 || l->skew_ns != 0 || l->n_impair_b != 0)
            bad = "--line-b-port, --skew-ns and --impair-b need --lines ab";
    } else if (l->port_b == 0) {
        bad = "--lines ab needs --line-b-port PORT: line B's UDP destination port";
    } else if (o->stream_path == NULL || strcmp(o->tx_dev, SK_NO_GENERATOR) == 0) {
        bad = "--lines ab needs --stream and a generator: it sends the stream twice";
    } else if (o->udp_checksum) {
        bad = "--lines ab sends line B with the port rewritten: not with --udp-checksum";
    } else if (o->recovery.addr != NULL) {
        bad = "--lines ab and --recovery together are not supported yet";
    } else if (o->duration_s != 0 || o->arrivals == SK_ARRIVALS_CAPTURE) {
        bad = "--lines ab sends --count datagrams at --rate: not with --duration or a "
              "capture's timing";
    }
    for (i = 0; bad == NULL && l->on && i < o->n_impair + l->n_impair_b; i++) {
        const struct sk_impair_model *m = i < o->n_impair ? &o->impair[i]
                                                          : &l->impair_b[i - o->n_impair];

        if (m->kind != SK_IMPAIR_DROP && m->kind != SK_IMPAIR_GILBERT)
            bad = "--lines ab impairs each line with loss models only: drop, gilbert";
    }
    if (bad == NULL && l->n_impair_b > 0) {
        char msg[256];

        if (sk_impair_validate(l->impair_b, l->n_impair_b, msg, sizeof(msg)) != 0) {
            sk_error("bad --impair-b: %s", msg);
            return -EINVAL;
        }
    }
    if (bad == NULL)
        return 0;
    sk_error("%s", bad);
    return -EINVAL;
}

/* --speed X: a multiplier of a capture's timing, in [SK_PACE_SPEED_MIN, MAX]. */
static int parse_speed(const char *s, double *out)
{
    char *end;
    double d;

    errno = 0;
    d = strtod(s, &end);
    if (errno != 0 || *end != '\0' || end == s || !isfinite(d) || d < SK_PACE_SPEED_MIN ||
        d > SK_PACE_SPEED_MAX) {
        sk_error("bad --speed '%s': expected a multiplier in [%g, %g] (2 = twice as fast)",
                 s, SK_PACE_SPEED_MIN, SK_PACE_SPEED_MAX);
        return -EINVAL;
    }
    *out = d;
    return 0;
}

/* --arrivals constant|poisson|capture, --duration SECONDS, --speed X. */
static int parse_pacing(int opt, const char *arg, struct sk_run_opts *o)
{
    static const enum sk_arrivals modes[] = {
        SK_ARRIVALS_CONSTANT, SK_ARRIVALS_POISSON, SK_ARRIVALS_CAPTURE,
    };
    size_t i;

    if (opt == OPT_DURATION)
        return parse_seconds("--duration", arg, &o->duration_s);
    if (opt == OPT_SPEED)
        return parse_speed(arg, &o->speed);
    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(arg, sk_arrivals_name(modes[i])) == 0) {
            o->arrivals = modes[i];
            return 0;
        }
    }
    sk_error("bad --arrivals '%s': use constant, poisson or capture", arg);
    return -EINVAL;
}

/* --arrivals capture / --speed: a timed stream's own timing, not a rate. */
static int check_capture(struct sk_run_opts *o)
{
    const char *bad = NULL;

    if (o->speed > 0 && o->rate_pps > 0)
        bad = "--speed with --rate: --rate sends at a constant rate, --speed scales a "
              "capture's timing (--arrivals capture); give one";
    else if (o->speed > 0 && o->arrivals != SK_ARRIVALS_CAPTURE)
        bad = "--speed scales a capture's timing: it needs --arrivals capture";
    else if (o->arrivals == SK_ARRIVALS_CAPTURE && o->rate_pps > 0)
        bad = "--arrivals capture with --rate: the capture's timestamps set the pace; "
              "scale them with --speed X";
    else if (o->arrivals == SK_ARRIVALS_CAPTURE && o->stream_path == NULL)
        bad = "--arrivals capture needs --stream PATH: a timed stream (simkit prepares "
              "one from a capture for --replay)";
    if (bad != NULL) {
        sk_error("%s", bad);
        return -EINVAL;
    }
    if (o->arrivals == SK_ARRIVALS_CAPTURE && o->speed == 0)
        o->speed = 1.0;
    return 0;
}

/* --profile PATH: the rates come from its steps, not --rate or --arrivals. */
static int check_profile(struct sk_run_opts *o)
{
    if (o->profile_path == NULL)
        return 0;
    if (o->rate_pps > 0 || o->arrivals != SK_ARRIVALS_CONSTANT || o->speed > 0) {
        sk_error("--profile with --rate, --arrivals or --speed: the profile's steps set "
                 "the rates; give one");
        return -EINVAL;
    }
    if (sk_profile_load(o->profile_path, &o->steps, &o->n_steps) < 0)
        return -EINVAL;
    o->arrivals = SK_ARRIVALS_PROFILE;
    return 0;
}

/* --send-zc / --sqpoll: ",send_zc=1" / ",sqpoll=1" on the io_uring sides'
 * device specs (uring.c reads them there; a spec may also carry them). */
static int apply_uring_opts(struct sk_run_opts *o)
{
    static char tx_spec[URING_SPEC_MAX], rx_spec[URING_SPEC_MAX];
    int tx = o->tx_ops == &sk_io_uring && strcmp(o->tx_dev, SK_NO_GENERATOR) != 0;
    int rx = o->rx_ops == &sk_io_uring && strcmp(o->rx_dev, SK_NO_RECEIVER) != 0;

    if (o->send_zc && !tx) {
        sk_error("--send-zc needs --tx-backend io_uring: it is how the io_uring "
                 "generator sends");
        return -EINVAL;
    }
    if (o->sqpoll && !tx && !rx) {
        sk_error("--sqpoll needs an io_uring side: --tx-backend or --rx-backend io_uring");
        return -EINVAL;
    }
    if (tx && (o->send_zc || o->sqpoll)) {
        snprintf(tx_spec, sizeof(tx_spec), "%s%s%s", o->tx_dev,
                 o->send_zc ? ",send_zc=1" : "", o->sqpoll ? ",sqpoll=1" : "");
        o->tx_dev = tx_spec;
    }
    if ((o->uring_mode != NULL || o->uring_batch_us != NULL) && !rx) {
        sk_error("--uring-mode / --uring-batch-us need --rx-backend io_uring: they are "
                 "how the io_uring receiver waits for completions");
        return -EINVAL;
    }
    if (rx && (o->sqpoll || o->uring_mode != NULL || o->uring_batch_us != NULL)) {
        snprintf(rx_spec, sizeof(rx_spec), "%s%s%s%s%s%s", o->rx_dev,
                 o->sqpoll ? ",sqpoll=1" : "", o->uring_mode ? ",uring_mode=" : "",
                 o->uring_mode ? o->uring_mode : "",
                 o->uring_batch_us ? ",batch_us=" : "",
                 o->uring_batch_us ? o->uring_batch_us : "");
        o->rx_dev = rx_spec;
    }
    return 0;
}

/* --count or --duration (either ends the run, whichever comes first). */
static int check_pacing(struct sk_run_opts *o, int have_count)
{
    if (o->arrivals == SK_ARRIVALS_POISSON && o->rate_pps == 0) {
        sk_error("--arrivals poisson needs --rate PPS: the mean rate of the arrivals");
        return -EINVAL;
    }
    if (check_capture(o) < 0 || check_profile(o) < 0)
        return -EINVAL;
    if (o->duration_s > 0 && o->duration_s >= o->timeout_s) {
        sk_error("--duration %g s is not under --timeout-s %g: raise --timeout-s",
                 o->duration_s, o->timeout_s);
        return -EINVAL;
    }
    if (have_count)
        return 0;
    if (o->duration_s == 0) {
        sk_error("missing --count: give the number of packets to send (1..2^48), "
                 "or --duration SECONDS");
        return -EINVAL;
    }
    if (o->stream_path != NULL) {
        sk_error("--stream needs --count (how many of its frames), also with --duration");
        return -EINVAL;
    }
    o->count = SK_MAX_COUNT;
    return 0;
}

static int parse_args(int argc, char **argv, int is_run, struct sk_run_opts *o)
{
    int c, idx = 0, have_count = 0, ret = 0;
    uint64_t v;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":", long_opts, &idx)) != -1) {
        if (c == '?' || c == ':') {
            const char *bad = argv[optind - 1];

            if (c == ':')
                sk_error("option %s needs a value: see %s --help", bad,
                         SK_ENGINE_NAME);
            else
                sk_error("unknown option '%s': see %s --help", bad,
                         SK_ENGINE_NAME);
            return -EINVAL;
        }
        if (!is_run && !probe_option(c)) {
            sk_error("option '--%s' is for run, not probe: see %s --help",
                     long_opts[idx].name, SK_ENGINE_NAME);
            return -EINVAL;
        }
        switch (c) {
        case OPT_FILE_PREFIX: o->file_prefix = optarg; break;
        case OPT_TX_DEV: o->tx_dev = optarg; break;
        case OPT_RX_DEV: o->rx_dev = optarg; break;
        case OPT_PHASED: o->phased = 1; break;
        case OPT_EAL: o->eal_args = optarg; break;
        case OPT_UDP_CSUM: o->udp_checksum = 1; break;
        case OPT_PROGRESS: o->progress = 1; break;
        case OPT_VERBOSE: o->verbose = 1; break;
        case OPT_TX_NETNS: o->tx_netns = optarg; break;
        case OPT_RX_NETNS: o->rx_netns = optarg; break;
        case OPT_TX_BACKEND:
            ret = parse_backend("--tx-backend", optarg, &o->tx_ops);
            break;
        case OPT_RX_BACKEND:
            ret = parse_backend("--rx-backend", optarg, &o->rx_ops);
            break;
        case OPT_DST_MAC:
            ret = parse_mac(optarg, o->dst_mac);
            o->have_dst_mac = 1;
            break;
        case OPT_IMPAIR:
            ret = parse_impair(optarg, o->impair, &o->n_impair);
            break;
        case OPT_IMPAIR_SEED:
            ret = parse_u64("--impair-seed", optarg, 0, UINT64_MAX, &o->impair_seed);
            o->have_impair_seed = 1;
            break;
        case OPT_TRUTH:
            o->truth_path = optarg;
            break;
        case OPT_STREAM:
            o->stream_path = optarg;
            break;
        case OPT_UNLINK_STREAM:
            o->unlink_stream = 1;
            break;
        case OPT_READY:
            o->ready = 1;
            break;
        case OPT_HOLD:
            o->hold = 1;
            break;
        case OPT_ARRIVALS:
        case OPT_DURATION:
        case OPT_SPEED:
            ret = parse_pacing(c, optarg, o);
            break;
        case OPT_PROFILE:
            o->profile_path = optarg;
            break;
        case OPT_SEND_ZC:
            o->send_zc = 1;
            break;
        case OPT_SQPOLL:
            o->sqpoll = 1;
            break;
        case OPT_URING_MODE:
            o->uring_mode = optarg; /* uring.c checks the value */
            break;
        case OPT_URING_BATCH_US:
            o->uring_batch_us = optarg;
            break;
        case OPT_FLOWS:
            ret = parse_u64("--flows", optarg, 1, SK_MAX_FLOWS, &v);
            o->flows = (unsigned)v;
            break;
        case OPT_RECOVERY:
            o->recovery.addr = optarg;
            break;
        case OPT_RECOVERY_NETNS:
            o->recovery.netns = optarg;
            break;
        case OPT_RECOVERY_MAX:
            ret = parse_u64("--recovery-max-messages", optarg, 1, 65534, &v);
            o->recovery.max_messages = (uint32_t)v;
            break;
        case OPT_LINES:
            if (strcmp(optarg, "ab") != 0) {
                sk_error("bad --lines '%s': the one mode is ab (the stream on lines A "
                         "and B)", optarg);
                ret = -EINVAL;
            }
            o->lines.on = 1;
            break;
        case OPT_LINE_B_PORT:
            ret = parse_u64("--line-b-port", optarg, 1, 65535, &v);
            o->lines.port_b = (uint16_t)v;
            break;
        case OPT_SKEW_NS: {
            char *end;
            long long ns;

            errno = 0;
            ns = strtoll(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || end == optarg || ns > 10000000000LL ||
                ns < -10000000000LL) {
                sk_error("bad --skew-ns '%s': nanoseconds, -10^10..10^10", optarg);
                ret = -EINVAL;
            }
            o->lines.skew_ns = ns;
            break;
        }
        case OPT_IMPAIR_B:
            ret = parse_impair(optarg, o->lines.impair_b, &o->lines.n_impair_b);
            break;
        case OPT_RECOVERY_PEER_MAC:
            ret = parse_mac(optarg, o->recovery.peer_mac);
            o->recovery.have_peer_mac = 1;
            break;
        case OPT_RECOVERY_RATE:
            ret = parse_u64("--recovery-rate", optarg, 0, 100000000, &v);
            o->recovery.rate_rps = (double)v;
            break;
        case OPT_HELP:
            usage(stderr);
            return 1;
        case OPT_COUNT:
            ret = parse_u64("--count", optarg, 1, SK_MAX_COUNT, &o->count);
            have_count = 1;
            break;
        case OPT_RATE:
            ret = parse_u64("--rate", optarg, 0, MAX_RATE_PPS, &o->rate_pps);
            break;
        case OPT_BURST:
            ret = parse_u64("--burst", optarg, 1, SK_IO_MAX_BURST, &v);
            o->burst = (unsigned)v;
            break;
        case OPT_SEED:
            ret = parse_u64("--seed", optarg, 0, UINT64_MAX, &o->seed);
            break;
        case OPT_INTERVAL_MS:
            ret = parse_u64("--interval-ms", optarg, 1, SK_MAX_INTERVAL_MS, &o->interval_ms);
            break;
        case OPT_DRAIN_MS:
            ret = parse_u64("--drain-ms", optarg, 0, MAX_DRAIN_MS, &o->drain_ms);
            break;
        case OPT_TIMEOUT_S:
            ret = parse_seconds("--timeout-s", optarg, &o->timeout_s);
            break;
        }
        if (ret < 0)
            return ret;
    }
    if (optind < argc) {
        sk_error("unexpected argument '%s': see %s --help", argv[optind],
                 SK_ENGINE_NAME);
        return -EINVAL;
    }
    ret = check_file_prefix(o->file_prefix);
    if (ret < 0 || !is_run)
        return ret;

    if (o->n_impair > 0) {
        char msg[256];

        if (sk_impair_validate(o->impair, o->n_impair, msg, sizeof(msg)) != 0) {
            sk_error("bad --impair: %s", msg);
            return -EINVAL;
        }
    }
    ret = check_malform(o);
    if (ret < 0)
        return ret;
    if (!o->have_impair_seed)
        o->impair_seed = o->seed;
    if (o->truth_path != NULL && (o->n_impair == 0 || o->truth_path[0] == '\0')) {
        sk_error("--truth needs --impair (and a path): the ground truth is "
                 "what the impairments did");
        return -EINVAL;
    }
    ret = check_pacing(o, have_count);
    if (ret < 0)
        return ret;
    if (o->tx_dev == NULL || o->rx_dev == NULL || o->tx_dev[0] == '\0' ||
        o->rx_dev[0] == '\0') {
        sk_error("missing --%s: give a DPDK vdev string, @ring, or udp:IP:PORT",
                 o->tx_dev == NULL || o->tx_dev[0] == '\0' ? "tx-dev" : "rx-dev");
        return -EINVAL;
    }
    ret = check_receiver_only(o);
    if (ret == 0)
        ret = check_flows(o);
    if (ret == 0 && o->recovery.addr == NULL &&
        (o->recovery.netns != NULL || o->recovery.max_messages != 0 ||
         o->recovery.rate_rps != 0 || o->recovery.have_peer_mac)) {
        sk_error("--recovery-* options need --recovery udp:A.B.C.D:PORT");
        ret = -EINVAL;
    }
    if (ret == 0)
        ret = check_lines(o);
    if (ret == 0 && o->recovery.addr != NULL &&
        (o->stream_path == NULL || strcmp(o->tx_dev, SK_NO_GENERATOR) == 0)) {
        sk_error("--recovery needs --stream and a generator: the server answers "
                 "from the stream the generator sends");
        ret = -EINVAL;
    }
    if (ret == 0 && strcmp(o->tx_dev, SK_NO_GENERATOR) != 0)
        ret = check_dev("tx-dev", o->tx_dev, o->tx_ops);
    if (ret == 0 && strcmp(o->rx_dev, SK_NO_RECEIVER) != 0)
        ret = check_dev("rx-dev", o->rx_dev, o->rx_ops);
    if (ret == 0)
        ret = apply_uring_opts(o);
    if (ret < 0)
        return ret;
    if (strcmp(o->rx_dev, SK_NO_RECEIVER) == 0 && o->phased) {
        sk_error("--phased with --rx-dev none: there is no receive phase; "
                 "drop --phased");
        return -EINVAL;
    }
    if (o->phased && (o->tx_ops != &sk_io_dpdk || o->rx_ops != &sk_io_dpdk)) {
        sk_error("--phased needs dpdk on both sides: a kernel socket opened "
                 "after the generator finished would receive nothing");
        return -EINVAL;
    }
    if ((strcmp(o->tx_dev, SK_IO_RING_SPEC) == 0) !=
        (strcmp(o->rx_dev, SK_IO_RING_SPEC) == 0)) {
        sk_error("@ring on one side only: @ring is a crossed pair, give it to "
                 "both --tx-dev and --rx-dev");
        return -EINVAL;
    }
    if (o->phased && strcmp(o->tx_dev, SK_IO_RING_SPEC) == 0) {
        sk_error("--phased with @ring: the ring pair cannot hold a whole run; "
                 "drop --phased (it is for file links such as net_pcap)");
        return -EINVAL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct sk_run_opts o = {
        .burst = SK_DEFAULT_BURST,
        .seed = SK_DEFAULT_SEED,
        .drain_ms = SK_DEFAULT_DRAIN_MS,
        .interval_ms = SK_DEFAULT_INTERVAL_MS,
        .timeout_s = SK_DEFAULT_TIMEOUT_S,
        .tx_ops = &sk_io_dpdk,
        .rx_ops = &sk_io_dpdk,
    };
    FILE *json = NULL;
    int fd, quiet, ret, is_run;
    pid_t parent = getppid();

    /* Die with whoever started us (simkit), even when it is SIGKILLed: SIGTERM
     * stops the run cleanly (ports closed). A parent that died before the
     * prctl took effect shows as a changed getppid(): we were re-parented. */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) == 0 && getppid() != parent)
        return SK_EXIT_INTERRUPTED;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stderr);
        return argc < 2 ? SK_EXIT_USAGE : SK_EXIT_OK;
    }
    is_run = strcmp(argv[1], "run") == 0;
    if (!is_run && strcmp(argv[1], "probe") != 0) {
        sk_error("unknown command '%s': use probe or run", argv[1]);
        return SK_EXIT_USAGE;
    }
    ret = parse_args(argc - 1, argv + 1, is_run, &o);
    if (ret != 0)
        return ret > 0 ? SK_EXIT_OK : SK_EXIT_USAGE;

    /* Keep the real stdout for the JSON. Libraries that printf (DPDK prints
     * its whole usage text on a bad EAL argument) write to stderr with
     * --verbose and nowhere otherwise, so an error stays one line. */
    fd = dup(STDOUT_FILENO);
    if (fd >= 0)
        json = fdopen(fd, "w");
    quiet = o.verbose ? STDERR_FILENO : open("/dev/null", O_WRONLY);
    if (json == NULL || quiet < 0 || dup2(quiet, STDOUT_FILENO) < 0) {
        sk_error("cannot set up stdout for the JSON report: %s: check the "
                 "process's file descriptors", strerror(errno));
        return SK_EXIT_INTERNAL;
    }
    install_signals();

    ret = is_run ? sk_cmd_run(&o, json) : sk_cmd_probe(o.file_prefix, o.verbose, json);
    fclose(json);
    free(o.steps);
    return ret;
}
