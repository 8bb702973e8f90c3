/*
 * recovery.c - the MoldUDP64 re-request server (--recovery udp:A.B.C.D:PORT).
 *
 * MoldUDP64 1.00: a listener that sees a sequence gap sends a Request Packet
 * (session 10 bytes, sequence u64 BE, requested message count u16 BE: 20
 * bytes) to the re-request server, which answers with a standard Downstream
 * Packet holding those messages, unicast to the request's source address
 * (so a client may receive retransmissions on the socket it listens on).
 *
 * The server is a thread of the engine: it answers from the stream the
 * generator sends (mapped once, stream.c), message by message, and only
 * messages the generator has already sent (a real server cannot serve the
 * future). Its socket is opened in the generator's network namespace (the
 * exchange's side of the DUT path), a kernel UDP socket: the request path is
 * not the hot path, and a kernel socket answers DPDK and kernel DUTs alike.
 * Limits as real servers have them: messages per answer (--recovery-max-
 * messages; also what fits a 1472-byte payload) and requests per second
 * (--recovery-rate, a token bucket of one second's worth; a request over the
 * limit is counted and not answered).
 *
 * Ground truth: the generator marks every message of a datagram the
 * impairments kept from the DUT (dropped, or made malformed); a gap is a
 * maximal run of such messages. The report says per gap whether and when it
 * was requested (from the send time of its first message to the first request
 * that covers any of it), when it was served, and whether the receiver got
 * every message of it from the DUT (recovered).
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "engine.h"
#include "../core/checksum.h"
#include "../core/compiler.h"
#include "../io/udp.h"

#define RECOVERY_WAIT_MS 5          /* the server's longest blocking wait */
#define RECOVERY_MAX_PAYLOAD 1472   /* an answer fits one 1500-MTU datagram */
#define REQUEST_LEN (SK_MOLD_HEADER_LEN)
#define REQUEST_LOG_MAX (1u << 16)  /* requests kept for the per-gap verdicts */
#define GAPS_LISTED 256             /* gaps written out one by one */
#define NS_PER_S 1000000000ULL
#define IP_HDR_LEN 20
#define UDP_HDR_LEN 8
#define ANSWER_TTL 64

struct request {
    uint64_t tsc;
    uint64_t seq;      /* 0-based (MoldUDP64 sequence - first_seq) */
    uint32_t count;    /* requested */
    uint32_t served;   /* answered with (0: rate-limited or nothing to serve) */
};

struct sk_recovery {
    const struct sk_stream *s;
    struct sk_recovery_cfg cfg;
    uint64_t hz;
    int fd;
    int pkt_fd;              /* with peer_mac: answers leave as frames from here */
    struct sockaddr_ll peer; /* ... to this MAC, on the server's interface */
    struct sockaddr_in local;
    pthread_t thread;
    int running;
    atomic_int stop;
    uint8_t session[SK_MOLD_SESSION_LEN];
    uint8_t *impaired;       /* [messages]: kept from the DUT by the impairments */
    uint64_t *served_tsc;    /* [messages]: first answer that carried it (0: none) */
    struct request *log;
    uint32_t n_log;
    /* token bucket (requests), refilled at cfg.rate_rps */
    double tokens;
    uint64_t bucket_tsc;
    /* counters */
    uint64_t requests, bad_requests, rate_limited, unservable, answers, messages_served;
    uint8_t answer[IP_HDR_LEN + UDP_HDR_LEN + RECOVERY_MAX_PAYLOAD];
};

/* The interface holding the bound address (we are inside its namespace). */
static int iface_of(const struct sockaddr_in *addr)
{
    struct ifaddrs *all, *a;
    int index = 0;

    if (getifaddrs(&all) != 0)
        return 0;
    for (a = all; a != NULL && index == 0; a = a->ifa_next)
        if (a->ifa_addr != NULL && a->ifa_addr->sa_family == AF_INET &&
            ((struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr == addr->sin_addr.s_addr)
            index = (int)if_nametoindex(a->ifa_name);
    freeifaddrs(all);
    return index;
}

/* With peer_mac: a packet socket on the server's interface. The kernel then
 * needs no neighbour entry for the requester (a DPDK DUT answers no ARP). */
static int open_frames(struct sk_recovery *r, char *err, size_t errlen)
{
    socklen_t len = sizeof(r->local);
    int index;

    if (getsockname(r->fd, (struct sockaddr *)&r->local, &len) != 0 ||
        (index = iface_of(&r->local)) == 0) {
        snprintf(err, errlen, "--recovery %s: no interface holds that address here",
                 r->cfg.addr);
        return -EINVAL;
    }
    r->pkt_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
    if (r->pkt_fd < 0) {
        snprintf(err, errlen, "cannot open a packet socket for the recovery server: %s: "
                 "needs CAP_NET_RAW", strerror(errno));
        return errno == EPERM ? -ENODEV : -errno;
    }
    memset(&r->peer, 0, sizeof(r->peer));
    r->peer.sll_family = AF_PACKET;
    r->peer.sll_protocol = htons(ETH_P_IP);
    r->peer.sll_ifindex = index;
    r->peer.sll_halen = 6;
    memcpy(r->peer.sll_addr, r->cfg.peer_mac, 6);
    return 0;
}

/* IPv4 + UDP headers (UDP checksum 0: none, legal for IPv4) before payload. */
static void put_headers(struct sk_recovery *r, uint8_t *h, size_t payload,
                        const struct sockaddr_in *to)
{
    uint16_t total = (uint16_t)(IP_HDR_LEN + UDP_HDR_LEN + payload), csum;

    memset(h, 0, IP_HDR_LEN + UDP_HDR_LEN);
    h[0] = 0x45;
    h[2] = (uint8_t)(total >> 8);
    h[3] = (uint8_t)total;
    h[6] = 0x40; /* DF */
    h[8] = ANSWER_TTL;
    h[9] = IPPROTO_UDP;
    memcpy(h + 12, &r->local.sin_addr, 4);
    memcpy(h + 16, &to->sin_addr, 4);
    csum = (uint16_t)~sk_csum_fold(sk_csum_add(0, h, IP_HDR_LEN));
    h[10] = (uint8_t)(csum >> 8);
    h[11] = (uint8_t)csum;
    memcpy(h + IP_HDR_LEN, &r->local.sin_port, 2);
    memcpy(h + IP_HDR_LEN + 2, &to->sin_port, 2);
    h[IP_HDR_LEN + 4] = (uint8_t)((UDP_HDR_LEN + payload) >> 8);
    h[IP_HDR_LEN + 5] = (uint8_t)(UDP_HDR_LEN + payload);
}

int sk_recovery_open(struct sk_recovery **out, const struct sk_recovery_cfg *cfg,
                     const struct sk_stream *s, uint64_t hz, char *err, size_t errlen)
{
    struct timeval wait = {.tv_sec = 0, .tv_usec = RECOVERY_WAIT_MS * 1000};
    struct sk_recovery *r;
    char leave_err[SK_ERR_LEN];
    int saved = -1, ret, left;

    *out = NULL;
    if (s == NULL || s->count == 0 || s->lens[0] < s->payload_off + SK_MOLD_HEADER_LEN) {
        snprintf(err, errlen, "--recovery needs a --stream of MoldUDP64 datagrams "
                 "(proto itch): the server answers from it");
        return -EINVAL;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        goto nomem;
    r->fd = r->pkt_fd = -1;
    r->s = s;
    r->cfg = *cfg;
    r->hz = hz;
    r->impaired = calloc(s->messages ? s->messages : 1, 1);
    r->served_tsc = calloc(s->messages ? s->messages : 1, sizeof(*r->served_tsc));
    r->log = calloc(REQUEST_LOG_MAX, sizeof(*r->log));
    if (r->impaired == NULL || r->served_tsc == NULL || r->log == NULL)
        goto nomem;
    memcpy(r->session, s->frames[0] + s->payload_off, SK_MOLD_SESSION_LEN);
    r->tokens = cfg->rate_rps;
    if (cfg->netns != NULL) {
        ret = sk_netns_enter(cfg->netns, &saved, err, errlen);
        if (ret < 0)
            goto fail;
    }
    ret = sk_udp_socket_open(cfg->addr, SK_IO_RX, &r->fd, err, errlen);
    if (ret == 0 && cfg->have_peer_mac)
        ret = open_frames(r, err, errlen);
    left = sk_netns_leave(saved, leave_err, sizeof(leave_err));
    if (ret == 0 && left < 0) {
        snprintf(err, errlen, "%s", leave_err);
        ret = left;
    }
    if (ret < 0)
        goto fail;
    setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
    *out = r;
    return 0;
nomem:
    snprintf(err, errlen, "cannot allocate the recovery server's state: out of memory");
    ret = -ENOMEM;
fail:
    sk_recovery_free(r);
    return ret;
}

void sk_recovery_note_impaired(struct sk_recovery *r, uint64_t datagram)
{
    const struct sk_stream *s = r->s;

    if (datagram < s->count && s->msg_count[datagram] != 0)
        memset(r->impaired + s->msg_index[datagram], 1, s->msg_count[datagram]);
}

/* Take one token (a request may be answered) or say no. */
static int admit(struct sk_recovery *r, uint64_t now)
{
    if (r->cfg.rate_rps <= 0)
        return 1;
    if (r->bucket_tsc != 0 && now > r->bucket_tsc)
        r->tokens += (double)(now - r->bucket_tsc) / (double)r->hz * r->cfg.rate_rps;
    r->bucket_tsc = now;
    if (r->tokens > r->cfg.rate_rps)
        r->tokens = r->cfg.rate_rps; /* a burst of at most one second's worth */
    if (r->tokens < 1.0)
        return 0;
    r->tokens -= 1.0;
    return 1;
}

/* One Request Packet: answer with a Downstream Packet to its source. */
static void handle(struct sk_recovery *r, const uint8_t *p, ssize_t len,
                   const struct sockaddr_in *from, uint64_t now)
{
    const struct sk_stream *s = r->s;
    struct sk_stream_cursor cur = {.valid = 0};
    struct request *q = NULL;
    uint8_t *answer = r->answer + IP_HDR_LEN + UDP_HDR_LEN;
    const uint8_t *msg;
    uint64_t seq, idx, i;
    uint32_t count, k = 0, limit;
    size_t at = SK_MOLD_HEADER_LEN;
    uint16_t mlen;
    ssize_t sent;

    if (len != REQUEST_LEN || memcmp(p, r->session, SK_MOLD_SESSION_LEN) != 0 ||
        sk_be16(p + 18) == 0 || sk_be16(p + 18) == SK_MOLD_END_OF_SESSION) {
        r->bad_requests++;
        return;
    }
    seq = sk_get_be64(p + SK_MOLD_SESSION_LEN);
    count = sk_be16(p + 18);
    r->requests++;
    idx = seq >= s->first_seq ? seq - s->first_seq : UINT64_MAX;
    if (r->n_log < REQUEST_LOG_MAX) {
        q = &r->log[r->n_log++];
        *q = (struct request){.tsc = now, .seq = idx, .count = count, .served = 0};
    }
    if (!admit(r, now)) {
        r->rate_limited++;
        return;
    }
    limit = r->cfg.max_messages != 0 && r->cfg.max_messages < count ? r->cfg.max_messages
                                                                      : count;
    for (i = idx; k < limit && i < s->messages && idx != UINT64_MAX; i++, k++) {
        if (s->send_tsc[i] == 0)
            break; /* not sent yet: not the server's to give */
        msg = sk_stream_message(s, &cur, i, &mlen);
        if (msg == NULL || at + 2 + mlen > RECOVERY_MAX_PAYLOAD)
            break;
        answer[at] = (uint8_t)(mlen >> 8);
        answer[at + 1] = (uint8_t)mlen;
        memcpy(answer + at + 2, msg, mlen);
        at += 2 + (size_t)mlen;
        if (r->served_tsc[i] == 0)
            r->served_tsc[i] = now;
    }
    if (k == 0) {
        r->unservable++;
        return;
    }
    memcpy(answer, r->session, SK_MOLD_SESSION_LEN);
    for (i = 0; i < 8; i++)
        answer[SK_MOLD_SESSION_LEN + i] = (uint8_t)(seq >> (56 - 8 * i));
    answer[18] = (uint8_t)(k >> 8);
    answer[19] = (uint8_t)k;
    if (r->pkt_fd >= 0) {
        put_headers(r, r->answer, at, from);
        sent = sendto(r->pkt_fd, r->answer, IP_HDR_LEN + UDP_HDR_LEN + at, 0,
                      (const struct sockaddr *)&r->peer, sizeof(r->peer));
        sent = sent < 0 ? sent : sent - IP_HDR_LEN - UDP_HDR_LEN;
    } else {
        sent = sendto(r->fd, answer, at, 0, (const struct sockaddr *)from, sizeof(*from));
    }
    if (sent == (ssize_t)at) {
        r->answers++;
        r->messages_served += k;
        if (q != NULL)
            q->served = k;
    }
}

static void *serve(void *arg)
{
    struct sk_recovery *r = arg;
    uint8_t buf[SK_STREAM_MAX_FRAME];
    struct sockaddr_in from;
    socklen_t flen;
    ssize_t n;

    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        flen = sizeof(from);
        n = recvfrom(r->fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from, &flen);
        if (n < 0)
            continue; /* the wait ran out (or EINTR): look at the stop flag */
        handle(r, buf, n > (ssize_t)sizeof(buf) ? -1 : n, &from, sk_rdtsc());
    }
    return NULL;
}

int sk_recovery_start(struct sk_recovery *r)
{
    int ret = pthread_create(&r->thread, NULL, serve, r);

    if (ret != 0)
        return -ret;
    r->running = 1;
    return 0;
}

void sk_recovery_stop(struct sk_recovery *r)
{
    if (r == NULL || !r->running)
        return;
    atomic_store(&r->stop, 1);
    pthread_join(r->thread, NULL);
    r->running = 0;
}

void sk_recovery_free(struct sk_recovery *r)
{
    if (r == NULL)
        return;
    sk_recovery_stop(r);
    if (r->fd >= 0)
        close(r->fd);
    if (r->pkt_fd >= 0)
        close(r->pkt_fd);
    free(r->impaired);
    free(r->served_tsc);
    free(r->log);
    free(r);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least pct % of the n at or below it. */
static uint64_t rank(uint64_t n, unsigned pct)
{
    return (n * pct + 99) / 100 - 1;
}

static uint64_t ns_of(const struct sk_recovery *r, uint64_t ticks)
{
    return (uint64_t)((unsigned __int128)ticks * NS_PER_S / r->hz);
}

struct gap {
    uint64_t first, count;  /* 0-based messages */
    uint64_t request_tsc;   /* first request covering any of it (0: none) */
    uint64_t served_tsc;    /* when its last message was first served (0: not all) */
    int recovered;
};

/* Requests that covered no impaired message (needless) or only impaired
 * messages already served before they came (duplicate). */
static void classify_requests(const struct sk_recovery *r, uint64_t *needless,
                              uint64_t *duplicate)
{
    const struct sk_stream *s = r->s;
    uint64_t i, end;
    uint32_t q;
    int gap, fresh;

    *needless = *duplicate = 0;
    for (q = 0; q < r->n_log; q++) {
        const struct request *e = &r->log[q];

        if (e->seq >= s->messages) {
            (*needless)++;
            continue;
        }
        end = e->seq + e->count < s->messages ? e->seq + e->count : s->messages;
        gap = fresh = 0;
        for (i = e->seq; i < end; i++) {
            if (!r->impaired[i])
                continue;
            gap = 1;
            if (r->served_tsc[i] == 0 || r->served_tsc[i] >= e->tsc)
                fresh = 1;
        }
        if (!gap)
            (*needless)++;
        else if (!fresh)
            (*duplicate)++;
    }
}

/* The first request (in arrival order) that covers any of [first, first+count). */
static uint64_t first_request(const struct sk_recovery *r, uint64_t first, uint64_t count)
{
    uint32_t q;

    for (q = 0; q < r->n_log; q++) {
        const struct request *e = &r->log[q];

        if (e->seq < first + count && e->seq + e->count > first)
            return e->tsc;
    }
    return 0;
}

static void emit_gap(struct sk_json *j, const struct sk_recovery *r, const struct gap *g)
{
    const struct sk_stream *s = r->s;
    uint64_t sent = s->send_tsc[g->first];

    sk_json_begin_object(j, NULL);
    sk_json_uint(j, "seq", s->first_seq + g->first);
    sk_json_uint(j, "count", g->count);
    sk_json_bool(j, "requested", g->request_tsc != 0);
    if (g->request_tsc != 0)
        sk_json_uint(j, "request_latency_ns",
                     g->request_tsc > sent ? ns_of(r, g->request_tsc - sent) : 0);
    sk_json_bool(j, "served", g->served_tsc != 0);
    if (g->served_tsc != 0)
        sk_json_uint(j, "served_after_ns",
                     g->served_tsc > sent ? ns_of(r, g->served_tsc - sent) : 0);
    sk_json_bool(j, "recovered", g->recovered);
    sk_json_end_object(j);
}

void sk_recovery_emit(struct sk_json *j, const struct sk_recovery *r,
                      const uint8_t *delivered, uint64_t datagrams)
{
    const struct sk_stream *s = r->s;
    uint64_t offered = sk_stream_seqs(s, datagrams), i, n_gaps = 0, n_lat = 0;
    uint64_t requested = 0, recovered = 0, gap_messages = 0, needless, duplicate;
    uint64_t *lat = NULL, sent;
    struct gap g;
    int listed = 0;

    /* pass 1: count the gaps (for the latency array) */
    for (i = 0; i < offered; i++)
        if (r->impaired[i] && (i == 0 || !r->impaired[i - 1]))
            n_gaps++;
    lat = calloc(n_gaps ? n_gaps : 1, sizeof(*lat));
    classify_requests(r, &needless, &duplicate);

    sk_json_begin_object(j, "recovery");
    sk_json_string(j, "server", r->cfg.addr);
    sk_json_uint(j, "max_messages", r->cfg.max_messages);
    sk_json_double(j, "rate_rps", r->cfg.rate_rps);
    sk_json_begin_array(j, "gap_list");
    for (i = 0; i < offered; i++) {
        if (!r->impaired[i])
            continue;
        g = (struct gap){.first = i, .count = 0, .served_tsc = 0, .recovered = 1};
        for (; i < offered && r->impaired[i]; i++) {
            g.count++;
            if (g.served_tsc != UINT64_MAX)
                g.served_tsc = r->served_tsc[i] == 0 ? UINT64_MAX
                               : (r->served_tsc[i] > g.served_tsc ? r->served_tsc[i]
                                                                  : g.served_tsc);
            if (delivered == NULL || !delivered[i])
                g.recovered = 0;
        }
        if (g.served_tsc == UINT64_MAX)
            g.served_tsc = 0;
        g.request_tsc = first_request(r, g.first, g.count);
        gap_messages += g.count;
        recovered += g.recovered;
        if (g.request_tsc != 0) {
            sent = s->send_tsc[g.first];
            requested++;
            if (lat != NULL)
                lat[n_lat++] = g.request_tsc > sent ? ns_of(r, g.request_tsc - sent) : 0;
        }
        if (listed < GAPS_LISTED) {
            emit_gap(j, r, &g);
            listed++;
        }
    }
    sk_json_end_array(j);
    sk_json_uint(j, "gaps", n_gaps);
    sk_json_uint(j, "gap_messages", gap_messages);
    sk_json_uint(j, "gaps_listed", (uint64_t)listed);
    sk_json_uint(j, "requested", requested);
    sk_json_uint(j, "recovered", recovered);
    sk_json_uint(j, "unrecovered", n_gaps - recovered);
    sk_json_uint(j, "requests", r->requests);
    sk_json_uint(j, "bad_requests", r->bad_requests);
    sk_json_uint(j, "rate_limited", r->rate_limited);
    sk_json_uint(j, "unservable", r->unservable);
    sk_json_uint(j, "duplicate_requests", duplicate);
    sk_json_uint(j, "needless_requests", needless);
    sk_json_uint(j, "answers", r->answers);
    sk_json_uint(j, "messages_served", r->messages_served);
    if (lat != NULL)
        qsort(lat, n_lat, sizeof(*lat), cmp_u64);
    sk_json_begin_object(j, "request_latency_ns");
    sk_json_uint(j, "count", n_lat);
    sk_json_uint(j, "p50", n_lat ? lat[rank(n_lat, 50)] : 0);
    sk_json_uint(j, "p99", n_lat ? lat[rank(n_lat, 99)] : 0);
    sk_json_uint(j, "max", n_lat ? lat[n_lat - 1] : 0);
    sk_json_end_object(j);
    sk_json_end_object(j);
    free(lat);
}
