/* cpushare_buyer.c -- the buyer protocol (docs/buyer-protocol.md) over a Unix or TCP socket.
 *
 * frame := u32 LE payload length | u8 type | payload
 * Fields are little-endian integers, IEEE doubles and u32-length-prefixed byte strings.
 */
#define _GNU_SOURCE
#include "cpushare_buyer.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* message types (keep in sync with cpushare_mq/buyer_protocol.py) */
enum {
    REQ_HELLO = 0x01, REQ_SUBMIT = 0x02, REQ_PROGRAM = 0x03, REQ_SHARED = 0x04,
    REQ_FRAGMENTS = 0x05, REQ_SUBMIT_END = 0x06, REQ_ATTACH = 0x07, REQ_NEXT = 0x08,
    REQ_ACK = 0x09, REQ_PROGRESS = 0x0A, REQ_STATUS = 0x0B, REQ_CANCEL = 0x0C, REQ_CLOSE = 0x0D,
    REP_HELLO = 0x81, REP_SUBMITTED = 0x82, REP_ATTACHED = 0x83, REP_RESULT = 0x84,
    REP_CHUNK = 0x85, REP_RESULT_END = 0x86, REP_BATCH_END = 0x87, REP_PROGRESS = 0x88,
    REP_STATUS = 0x89, REP_OK = 0x8A, REP_BYE = 0x8B, REP_ERROR = 0xFF,
};
enum { BATCH_MORE = 0, BATCH_FINISHED = 1, BATCH_TIMEOUT = 2 };

#define MAX_FRAME      ((64u << 20) + 4096u)
#define BATCH_BYTES    (1u << 20)
#define BATCH_COUNT    65536u
#define MAX_RESULT     ((uint64_t)1 << 32)
#define FOREVER_MS     0xFFFFFFFFu
#define REPLY_GRACE_MS 60000          /* how long past the hub-side timeout we wait */
#define NEXT_MAX       64u            /* results asked for per NEXT, at most ... */
#define NEXT_BYTES     (8u << 20)     /* ... and about this many bytes of them */

/* A result read with its NEXT's batch, waiting to be handed out. */
struct queued {
    uint64_t seq;
    uint32_t index;
    int ok;
    uint8_t *data; size_t len;
    char *reason;
};

struct cps_client {
    int fd;
    char err[512];
    char job_id[128];
    int attached;
    int finished;      /* the hub said: job ended, everything delivered */
    int unacked;       /* last_seq was handed to the caller but not acknowledged yet */
    uint64_t last_seq;
    uint8_t *frame; size_t frame_cap;     /* the last frame read */
    uint8_t *res;                         /* the result handed out last (owned) */
    char *reason;                         /* its failure reason (owned) */
    struct queued *q; size_t q_len, q_pos, q_cap; /* results of the last NEXT not handed out */
    uint32_t batch;                       /* results to ask for per NEXT */
    uint8_t *out; size_t out_len, out_cap; /* a request being built */
};

/* ------------------------------------------------------------------ errors */

static int fail(cps_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(cps_client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return -1;
}

const char *cps_errmsg(const cps_client *c)
{
    return c ? c->err : "no client (cps_connect failed)";
}

/* ------------------------------------------------------------------ little-endian helpers */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* A request under construction in c->out (the 5-byte header is filled in by send_out). */
static int out_reserve(cps_client *c, size_t more)
{
    if (c->out_len + more <= c->out_cap) return 0;
    size_t cap = c->out_cap ? c->out_cap : 256;
    while (cap < c->out_len + more) cap *= 2;
    uint8_t *p = realloc(c->out, cap);
    if (!p) return fail(c, "realloc(%zu): out of memory", cap);
    c->out = p;
    c->out_cap = cap;
    return 0;
}
static int out_begin(cps_client *c)
{
    c->out_len = 0;
    if (out_reserve(c, 5)) return -1;
    c->out_len = 5;
    return 0;
}
static int out_bytes(cps_client *c, const void *p, size_t n)
{
    if (out_reserve(c, n)) return -1;
    if (n) memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}
static int out_u8(cps_client *c, uint8_t v) { return out_bytes(c, &v, 1); }
static int out_u32(cps_client *c, uint32_t v)
{
    uint8_t b[4];
    put_u32(b, v);
    return out_bytes(c, b, 4);
}
static int out_u64(cps_client *c, uint64_t v)
{
    uint8_t b[8];
    put_u64(b, v);
    return out_bytes(c, b, 8);
}
static int out_f64(cps_client *c, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    return out_u64(c, v);
}
static int out_str(cps_client *c, const void *s, size_t n)
{
    if (n > 0xFFFFFFFFu) return fail(c, "string of %zu bytes is too long", n);
    if (out_u32(c, (uint32_t)n)) return -1;
    return out_bytes(c, s, n);
}

/* ------------------------------------------------------------------ socket I/O */

static int write_all(cps_client *c, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return fail(c, "send: %s (errno %d)", strerror(errno), errno);
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Wait until fd is readable. 1 ready, 0 timeout, -1 error. timeout_ms < 0 = forever. */
static int wait_readable(cps_client *c, int timeout_ms)
{
    struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
    for (;;) {
        int r = poll(&pfd, 1, timeout_ms);
        if (r < 0) {
            if (errno == EINTR) continue;
            return fail(c, "poll: %s (errno %d)", strerror(errno), errno);
        }
        return r > 0;
    }
}

static int read_exact(cps_client *c, void *buf, size_t n, int timeout_ms, const char *what)
{
    uint8_t *p = buf;
    size_t got = 0;
    while (got < n) {
        int r = wait_readable(c, timeout_ms);
        if (r < 0) return -1;
        if (r == 0) return fail(c, "no answer from the hub within %d ms (reading %s)", timeout_ms, what);
        ssize_t k = recv(c->fd, p + got, n - got, 0);
        if (k < 0) {
            if (errno == EINTR) continue;
            return fail(c, "recv: %s (errno %d)", strerror(errno), errno);
        }
        if (k == 0)
            return fail(c, "the hub closed the connection (%s: got %zu of %zu bytes)", what, got, n);
        got += (size_t)k;
    }
    return 0;
}

/* Read one frame into c->frame. Returns 0 and sets type and len, or -1. An ERROR frame is
   turned into -1 with the hub's message. */
static int read_frame(cps_client *c, uint8_t *type, size_t *len, int timeout_ms)
{
    uint8_t hdr[5];
    if (read_exact(c, hdr, 5, timeout_ms, "frame header")) return -1;
    uint32_t n = get_u32(hdr);
    if (n > MAX_FRAME) return fail(c, "the hub sent a %u-byte frame, over the %u-byte cap", n, MAX_FRAME);
    if (n + 1u > c->frame_cap) {
        uint8_t *p = realloc(c->frame, n + 1u);
        if (!p) return fail(c, "realloc(%u): out of memory", n + 1u);
        c->frame = p;
        c->frame_cap = n + 1u;
    }
    if (read_exact(c, c->frame, n, timeout_ms, "frame payload")) return -1;
    c->frame[n] = 0;
    *type = hdr[4];
    *len = n;
    if (hdr[4] == REP_ERROR) {
        if (n < 6) return fail(c, "the hub sent a malformed ERROR frame");
        uint32_t mlen = get_u32(c->frame + 2);
        if (mlen > n - 6) mlen = (uint32_t)(n - 6);
        return fail(c, "hub error %u: %.*s", (unsigned)(c->frame[0] | c->frame[1] << 8),
                    (int)mlen, (const char *)c->frame + 6);
    }
    return 0;
}

/* After a failed send the hub has probably told us why before closing: read that. */
static int explain_send_failure(cps_client *c)
{
    char saved[sizeof c->err];
    memcpy(saved, c->err, sizeof saved);
    uint8_t type;
    size_t len;
    if (read_frame(c, &type, &len, 1000) == 0 || strncmp(c->err, "hub error", 9) != 0)
        memcpy(c->err, saved, sizeof saved);
    return -1;
}

static int send_out(cps_client *c, uint8_t type)
{
    put_u32(c->out, (uint32_t)(c->out_len - 5));
    c->out[4] = type;
    if (write_all(c, c->out, c->out_len)) return explain_send_failure(c);
    return 0;
}

/* A frame whose payload is a caller's buffer (no copy). */
static int send_raw(cps_client *c, uint8_t type, const void *data, size_t n)
{
    if (n > MAX_FRAME) return fail(c, "payload of %zu bytes is over the %u-byte frame cap", n, MAX_FRAME);
    uint8_t hdr[5];
    put_u32(hdr, (uint32_t)n);
    hdr[4] = type;
    if (write_all(c, hdr, 5) || write_all(c, data, n)) return explain_send_failure(c);
    return 0;
}

static int expect(cps_client *c, uint8_t want, size_t *len, int timeout_ms, const char *req)
{
    uint8_t type;
    if (read_frame(c, &type, len, timeout_ms)) return -1;
    if (type != want)
        return fail(c, "protocol error: the hub answered %s with message type 0x%02x, expected 0x%02x",
                    req, type, want);
    return 0;
}

/* ------------------------------------------------------------------ payload parsing */

typedef struct { const uint8_t *p; size_t n; int bad; } rd;

static const uint8_t *rd_take(rd *r, size_t k)
{
    if (r->bad || k > r->n) { r->bad = 1; return NULL; }
    const uint8_t *p = r->p;
    r->p += k;
    r->n -= k;
    return p;
}
static uint64_t rd_u64(rd *r) { const uint8_t *p = rd_take(r, 8); return p ? get_u64(p) : 0; }
static uint32_t rd_u32(rd *r) { const uint8_t *p = rd_take(r, 4); return p ? get_u32(p) : 0; }
static uint8_t rd_u8(rd *r) { const uint8_t *p = rd_take(r, 1); return p ? p[0] : 0; }
static const uint8_t *rd_str(rd *r, uint32_t *len)
{
    *len = rd_u32(r);
    return rd_take(r, *len);
}

/* ------------------------------------------------------------------ connect */

static int parse_and_connect(cps_client *c, const char *addr)
{
    if (strncmp(addr, "tcp://", 6) == 0) {
        const char *hp = addr + 6;
        const char *colon = strrchr(hp, ':');
        if (!colon || colon == hp || !colon[1])
            return fail(c, "bad hub address %s: expected tcp://HOST:PORT", addr);
        char host[256];
        size_t hl = (size_t)(colon - hp);
        if (hl >= sizeof host) return fail(c, "bad hub address %s: host name too long", addr);
        memcpy(host, hp, hl);
        host[hl] = 0;
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
        int e = getaddrinfo(host, colon + 1, &hints, &res);
        if (e) return fail(c, "getaddrinfo(%s): %s", addr, gai_strerror(e));
        int last = 0;
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
            if (c->fd < 0) { last = errno; continue; }
            if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
                int one = 1;
                setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                freeaddrinfo(res);
                return 0;
            }
            last = errno;
            close(c->fd);
            c->fd = -1;
        }
        freeaddrinfo(res);
        return fail(c, "connect(%s): %s (errno %d)", addr, strerror(last), last);
    }
    const char *path = strncmp(addr, "unix:", 5) == 0 ? addr + 5 : addr;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (!*path) return fail(c, "bad hub address %s: empty socket path", addr);
    if (strlen(path) >= sizeof sa.sun_path)
        return fail(c, "socket path %s is longer than %zu bytes", path, sizeof sa.sun_path - 1);
    strcpy(sa.sun_path, path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return fail(c, "socket(AF_UNIX): %s (errno %d)", strerror(errno), errno);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(c->fd);
        c->fd = -1;
        return fail(c, "connect(%s): %s (errno %d)%s", path, strerror(e), e,
                    e == ENOENT || e == ECONNREFUSED ? " -- is the hub running?" : "");
    }
    return 0;
}

/* The buyer API token a TCP connection presents: the first line of the file named by
   $CPUSHARE_API_TOKEN (the hub's DATABASE.api-token); none for a Unix socket, and none when
   the variable is unset (the hub then says what is missing). */
static int read_token(cps_client *c, const char *addr, char *tok, size_t cap)
{
    tok[0] = 0;
    const char *path = getenv("CPUSHARE_API_TOKEN");
    if (strncmp(addr, "tcp://", 6) != 0 || !path || !*path)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(c, "cannot read the buyer API token file %s ($CPUSHARE_API_TOKEN): %s (errno %d)",
                    path, strerror(errno), errno);
    if (!fgets(tok, (int)cap, f))
        tok[0] = 0;
    fclose(f);
    tok[strcspn(tok, " \t\r\n")] = 0;
    if (!tok[0])
        return fail(c, "%s ($CPUSHARE_API_TOKEN) holds no buyer API token", path);
    return 0;
}

static int hello(cps_client *c, const char *addr)
{
    size_t len;
    char token[256];
    if (read_token(c, addr, token, sizeof token)) return -1;
    if (out_begin(c) || out_bytes(c, "CPSB", 4) || out_u32(c, CPS_PROTOCOL_VERSION) ||
        out_str(c, "cpushare_buyer.c", 16) || out_str(c, token, strlen(token)) ||
        send_out(c, REQ_HELLO))
        return -1;
    if (expect(c, REP_HELLO, &len, REPLY_GRACE_MS, "HELLO")) return -1;
    if (len < 8 || memcmp(c->frame, "CPSB", 4) != 0)
        return fail(c, "the peer is not a cpushare hub buyer socket (bad HELLO reply)");
    if (get_u32(c->frame + 4) != CPS_PROTOCOL_VERSION)
        return fail(c, "the hub speaks buyer protocol version %u, this client %u",
                    get_u32(c->frame + 4), CPS_PROTOCOL_VERSION);
    return 0;
}

cps_client *cps_connect(const char *addr, char *err, size_t errlen)
{
    if (!addr || !*addr) addr = getenv("CPUSHARE_API");
    if (!addr || !*addr) {
        if (err && errlen) snprintf(err, errlen, "no hub address: pass one or set CPUSHARE_API");
        return NULL;
    }
    cps_client *c = calloc(1, sizeof *c);
    if (!c) {
        if (err && errlen) snprintf(err, errlen, "calloc: out of memory");
        return NULL;
    }
    c->fd = -1;
    if (parse_and_connect(c, addr) || hello(c, addr)) {
        if (err && errlen) snprintf(err, errlen, "%s", c->err);
        if (c->fd >= 0) close(c->fd);
        free(c->out);
        free(c->frame);
        free(c);
        return NULL;
    }
    return c;
}

/* ------------------------------------------------------------------ requests */

static void drop_queue(cps_client *c)
{
    for (size_t i = c->q_pos; i < c->q_len; i++) {
        free(c->q[i].data);
        free(c->q[i].reason);
    }
    c->q_len = c->q_pos = 0;
}

static int follow(cps_client *c, const char *job_id)
{
    drop_queue(c);   /* never acknowledged: the hub delivers them again on the next attach */
    c->batch = 1;
    snprintf(c->job_id, sizeof c->job_id, "%s", job_id);
    c->attached = 1;
    c->finished = 0;
    c->unacked = 0;
    c->last_seq = 0;
    return 0;
}

static int send_fragments(cps_client *c, const cps_job_spec *s)
{
    uint32_t i = 0;
    while (i < s->n_fragments) {
        uint32_t count = 0;
        size_t bytes = 0;
        while (i + count < s->n_fragments && count < BATCH_COUNT &&
               (count == 0 || bytes + 4 + s->fragment_lens[i + count] <= BATCH_BYTES))
            bytes += 4 + (size_t)s->fragment_lens[i + count++];
        if (out_begin(c) || out_u32(c, count)) return -1;
        for (uint32_t k = 0; k < count; k++) {
            const void *f = s->fragments[i + k];
            uint32_t fl = s->fragment_lens[i + k];
            if (fl && !f) return fail(c, "fragment %u: NULL data with length %u", i + k, fl);
            if (out_str(c, f, fl)) return -1;
        }
        if (send_out(c, REQ_FRAGMENTS)) return -1;
        i += count;
    }
    return 0;
}

int cps_submit(cps_client *c, const cps_job_spec *s, char *job_id, size_t job_id_len)
{
    if (!s) return fail(c, "cps_submit: spec is NULL");
    if (!s->program || !s->program_len) return fail(c, "cps_submit: the program is empty");
    if (s->shared_len && !s->shared) return fail(c, "cps_submit: shared is NULL with shared_len %zu", s->shared_len);
    if (s->n_fragments && (!s->fragments || !s->fragment_lens))
        return fail(c, "cps_submit: fragments or fragment_lens is NULL");
    const char *name = s->name ? s->name : "";
    if (out_begin(c) || out_u32(c, s->n_fragments) || out_u32(c, s->redundancy) ||
        out_u32(c, s->quorum) || out_f64(c, s->cpu_s) || out_f64(c, s->wall_s) ||
        out_u32(c, s->max_attempts) || out_u32(c, (uint32_t)s->priority) || out_u64(c, 0) ||
        out_str(c, name, strlen(name)) || send_out(c, REQ_SUBMIT))
        return -1;
    if (send_raw(c, REQ_PROGRAM, s->program, s->program_len) ||
        send_raw(c, REQ_SHARED, s->shared, s->shared_len) || send_fragments(c, s))
        return -1;
    if (out_begin(c) || send_out(c, REQ_SUBMIT_END)) return -1;
    size_t len;
    if (expect(c, REP_SUBMITTED, &len, -1, "SUBMIT")) return -1;
    rd r = { c->frame, len, 0 };
    uint32_t n;
    const uint8_t *id = rd_str(&r, &n);
    if (r.bad || n == 0 || n >= sizeof c->job_id) return fail(c, "malformed SUBMITTED reply");
    if (job_id && job_id_len) {
        if (n >= job_id_len) return fail(c, "job id of %u bytes does not fit a %zu-byte buffer", n, job_id_len);
        memcpy(job_id, id, n);
        job_id[n] = 0;
    }
    char tmp[sizeof c->job_id];
    memcpy(tmp, id, n);
    tmp[n] = 0;
    return follow(c, tmp);
}

static int attach(cps_client *c, const char *job_id, uint8_t from_start)
{
    if (!job_id || !*job_id) return fail(c, "cps_attach: empty job id");
    size_t jl = strlen(job_id);
    if (jl >= sizeof c->job_id) return fail(c, "cps_attach: job id too long");
    if (c->unacked && c->attached) {  /* the previous job's last result was consumed */
        if (out_begin(c) || out_u64(c, c->last_seq) || send_out(c, REQ_ACK)) return -1;
        c->unacked = 0;
    }
    size_t len;
    if (out_begin(c) || out_str(c, job_id, jl) || out_u8(c, from_start) || send_out(c, REQ_ATTACH) ||
        expect(c, REP_ATTACHED, &len, REPLY_GRACE_MS, "ATTACH"))
        return -1;
    return follow(c, job_id);
}

int cps_attach(cps_client *c, const char *job_id) { return attach(c, job_id, 0); }

int cps_attach_all(cps_client *c, const char *job_id) { return attach(c, job_id, 1); }

/* Reads one RESULT (its CHUNK*, RESULT_END) into the queue. */
static int read_result(cps_client *c, size_t len)
{
    rd r = { c->frame, len, 0 };
    uint64_t seq = rd_u64(&r);
    uint32_t index = rd_u32(&r);
    uint8_t ok = rd_u8(&r);
    uint64_t size = rd_u64(&r);
    uint32_t rlen;
    const uint8_t *reason = rd_str(&r, &rlen);
    uint32_t nlen;
    rd_str(&r, &nlen);   /* the fragment's name (protocol 4); this client names by index */
    if (r.bad || r.n) return fail(c, "malformed RESULT frame");
    if (size > MAX_RESULT) return fail(c, "result of %llu bytes is too large", (unsigned long long)size);
    if (c->q_len == c->q_cap) {
        size_t cap = c->q_cap ? 2 * c->q_cap : 16;
        struct queued *q = realloc(c->q, cap * sizeof *q);
        if (!q) return fail(c, "realloc: out of memory");
        c->q = q;
        c->q_cap = cap;
    }
    struct queued *e = &c->q[c->q_len];
    e->seq = seq;
    e->index = index;
    e->ok = ok ? 1 : 0;
    e->reason = malloc((size_t)rlen + 1);
    e->data = malloc((size_t)size + 1);
    if (!e->reason || !e->data) {
        free(e->reason);
        free(e->data);
        return fail(c, "malloc(%llu): out of memory", (unsigned long long)size + 1);
    }
    memcpy(e->reason, reason, rlen);
    e->reason[rlen] = 0;
    c->q_len++;               /* from here on drop_queue() frees it */
    size_t got = 0;
    for (;;) {
        uint8_t type;
        size_t n;
        if (read_frame(c, &type, &n, REPLY_GRACE_MS)) return -1;
        if (type == REP_RESULT_END) break;
        if (type != REP_CHUNK) return fail(c, "protocol error: 0x%02x inside a result", type);
        if (n > size - got) return fail(c, "protocol error: result longer than announced %llu bytes",
                                        (unsigned long long)size);
        memcpy(e->data + got, c->frame, n);
        got += n;
    }
    if (got != size)
        return fail(c, "protocol error: result of %zu bytes, announced %llu", got, (unsigned long long)size);
    e->data[got] = 0;
    e->len = got;
    return 0;
}

/* Sends NEXT and reads its whole answer (RESULT* BATCH_END) into the queue: the hub sends
   only what is ready, so this waits only while nothing is. Returns results read or -1. */
static int fetch_batch(cps_client *c, int timeout_ms)
{
    uint32_t t = timeout_ms < 0 ? FOREVER_MS : (uint32_t)timeout_ms;
    if (out_begin(c) || out_u32(c, t) || out_u32(c, c->batch ? c->batch : 1) ||
        send_out(c, REQ_NEXT))
        return -1;
    int wait = timeout_ms < 0 ? -1 : timeout_ms + REPLY_GRACE_MS;
    int got = 0;
    for (;;) {
        uint8_t type;
        size_t len;
        if (read_frame(c, &type, &len, got ? REPLY_GRACE_MS : wait)) return -1;
        if (type == REP_RESULT) {
            if (read_result(c, len)) return -1;
            got++;
            continue;
        }
        if (type != REP_BATCH_END || len != 1)
            return fail(c, "protocol error: the hub answered NEXT with message type 0x%02x", type);
        if (c->frame[0] == BATCH_FINISHED) c->finished = 1;
        return got;
    }
}

/* Ask for about NEXT_BYTES of results per NEXT, judging by the last one's size. */
static void adapt_batch(cps_client *c, size_t last_len)
{
    size_t n = NEXT_BYTES / (last_len + 1);
    c->batch = n < 1 ? 1 : n > NEXT_MAX ? NEXT_MAX : (uint32_t)n;
}

int cps_next_result(cps_client *c, cps_result *out, int timeout_ms)
{
    if (!c->attached) return fail(c, "cps_next_result: no job (call cps_submit or cps_attach first)");
    if (!out) return fail(c, "cps_next_result: out is NULL");
    if (c->unacked) {   /* asking for the next one consumes the last one */
        if (out_begin(c) || out_u64(c, c->last_seq) || send_out(c, REQ_ACK)) return -1;
        c->unacked = 0;
    }
    free(c->res);
    free(c->reason);
    c->res = NULL;
    c->reason = NULL;
    if (c->q_pos == c->q_len) {
        c->q_pos = c->q_len = 0;
        if (c->finished) return 0;
        int got = fetch_batch(c, timeout_ms);
        if (got < 0) return -1;
        if (got == 0) return c->finished ? 0 : -2;   /* -2: nothing within timeout_ms */
    }
    struct queued *e = &c->q[c->q_pos++];
    c->res = e->data;
    c->reason = e->reason;
    out->index = e->index;
    out->ok = e->ok;
    out->data = e->data;
    out->len = e->len;
    out->reason = e->reason;
    c->last_seq = e->seq;
    c->unacked = 1;
    adapt_batch(c, e->len);
    return 1;
}

int cps_get_progress(cps_client *c, cps_progress *out)
{
    if (!c->attached) return fail(c, "cps_get_progress: no job (call cps_submit or cps_attach first)");
    size_t len;
    if (out_begin(c) || out_str(c, "", 0) || send_out(c, REQ_PROGRESS) ||
        expect(c, REP_PROGRESS, &len, REPLY_GRACE_MS, "PROGRESS"))
        return -1;
    rd r = { c->frame, len, 0 };
    uint32_t n;
    rd_str(&r, &n);   /* job id */
    rd_str(&r, &n);   /* name */
    rd_str(&r, &n);   /* state */
    out->total = rd_u64(&r);
    out->pending = rd_u64(&r);
    uint64_t leased = rd_u64(&r), voting = rd_u64(&r);
    out->running = leased + voting;
    out->done = rd_u64(&r);
    out->failed = rd_u64(&r);
    const uint8_t *w = rd_str(&r, &n);   /* waiting */
    if (r.bad) return fail(c, "malformed PROGRESS reply");
    size_t wn = n < sizeof out->waiting - 1 ? n : sizeof out->waiting - 1;
    memcpy(out->waiting, w, wn);
    out->waiting[wn] = '\0';
    for (size_t i = 0; i < wn; i++)      /* one line: no control characters from the hub */
        if ((unsigned char)out->waiting[i] < 0x20 || out->waiting[i] == 0x7f) out->waiting[i] = ' ';
    return 0;
}

int cps_cancel(cps_client *c)
{
    if (!c->attached) return fail(c, "cps_cancel: no job (call cps_submit or cps_attach first)");
    size_t len;
    if (out_begin(c) || out_str(c, "", 0) || send_out(c, REQ_CANCEL) ||
        expect(c, REP_OK, &len, REPLY_GRACE_MS, "CANCEL"))
        return -1;
    return 0;
}

void cps_close(cps_client *c)
{
    if (!c) return;
    if (c->fd >= 0) {
        size_t len;
        int ok = 1;
        if (c->unacked && c->attached)
            ok = !(out_begin(c) || out_u64(c, c->last_seq) || send_out(c, REQ_ACK));
        if (ok && !out_begin(c) && !send_out(c, REQ_CLOSE))
            expect(c, REP_BYE, &len, 5000, "CLOSE");
        close(c->fd);
    }
    drop_queue(c);
    free(c->q);
    free(c->out);
    free(c->frame);
    free(c->res);
    free(c->reason);
    free(c);
}
