/* cpushare-mq runtime: ABI v1 frames (see rt.h and docs/sandbox.md). */
#include "rt.h"

/* ---- ABI v1 frames ---- */

/* The shared input sits at the start of the frame buffer; fragments are read after it. */
static unsigned char rt_frame_buf[RT_MAX_FRAME_BYTES] __attribute__((aligned(16)));
static size_t rt_shared_len;
static int rt_shared_done;

/* Read one frame of the expected kind into rt_frame_buf + offset. */
static int rt_read_frame(unsigned char kind, size_t offset, uint32_t *len)
{
    unsigned char hdr[5];
    int r = rt_read_exact(hdr, sizeof hdr);
    if (r <= 0)
        return r;
    uint32_t n = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 |
                 (uint32_t)hdr[3] << 24;
    if (hdr[4] != kind || n > sizeof rt_frame_buf - offset)
        return -1;
    if (n > 0 && rt_read_exact(rt_frame_buf + offset, n) != 1)
        return -1;
    *len = n;
    return 1;
}

int rt_abi_shared(const uint8_t **data, uint32_t *len)
{
    uint32_t n = 0;
    if (rt_shared_done)
        return -1;
    if (rt_read_frame('S', 0, &n) != 1)
        return -1;
    rt_shared_done = 1;
    rt_shared_len = ((size_t)n + 15u) & ~(size_t)15u;
    *data = rt_frame_buf;
    *len = n;
    return 0;
}

int rt_abi_next(const uint8_t **data, uint32_t *len)
{
    uint32_t n = 0;
    if (!rt_shared_done)
        return -1;
    int r = rt_read_frame('F', rt_shared_len, &n);
    if (r != 1)
        return r;
    *data = rt_frame_buf + rt_shared_len;
    *len = n;
    return 1;
}

static void rt_frame_header(unsigned char kind, uint32_t n)
{
    unsigned char hdr[5] = {(unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16),
                            (unsigned char)(n >> 24), kind};
    rt_write_all(hdr, sizeof hdr);
}

void rt_abi_data(const void *p, uint32_t n)
{
    rt_frame_header('D', n);
    rt_write_all(p, n);
}

void rt_abi_end(void)
{
    rt_frame_header('E', 0);
}

void rt_abi_error(const char *msg)
{
    size_t n = rt_strlen(msg);
    if (n > 4096)
        n = 4096;
    rt_frame_header('X', (uint32_t)n);
    rt_write_all(msg, n);
}

int rt_abi_serve(rt_answer_fn answer, void *ctx)
{
    rt_bytes shared, frag;
    if (rt_abi_shared(&shared.data, &shared.len) != 0)
        return 2;
    for (;;) {
        int r = rt_abi_next(&frag.data, &frag.len);
        if (r <= 0)
            return r == 0 ? 0 : 2;
        const char *invalid = answer(shared, frag, ctx);
        if (invalid)
            rt_abi_error(invalid);
        else
            rt_abi_end();
    }
}

uint64_t rt_fnv1a64(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}
