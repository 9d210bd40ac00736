/* client.c -- povray-client.elf: the sandboxed tile renderer (ABI v1 program on c/rt).
 *
 * Shared input ('S') = the serialized scene; each fragment ('F') = a 32-byte tile
 * {"TILE", version 1, W, H, x0, y0, w, h} (little-endian u32), or a 48-byte version 2 that
 * adds the anti-aliasing options (scene.h, antialias.c). For each tile: its rows
 * (w*3 RGB8 bytes each, top to bottom) streamed in 'D' frames as they are finished -- a
 * frame carries the rows done since the last one, sent once about FRAME_TARGET_BYTES have
 * gathered (always whole rows, at least one), the rest when the tile is done -- then 'E'.
 * Batching rows saves the sandbox two write()s and the worker one frame per row. A bad
 * scene or tile gets 'X' with a message (retrying elsewhere would not help).
 */
#include "rt.h"
#include "antialias.h"
#include "render.h"

static void *arena_alloc(size_t n)
{
    return rt_alloc(n);
}

#define FRAME_TARGET_BYTES 32768u

typedef struct {
    uint8_t *buf;     /* whole rows waiting to be sent */
    uint32_t cap;     /* bytes: a multiple of the row size */
    uint32_t used;
} row_batch;

static void flush_rows(row_batch *b)
{
    if (b->used) {
        rt_abi_data(b->buf, b->used);
        b->used = 0;
    }
}

static void send_row(void *user, uint32_t y, const uint8_t *rgb, uint32_t n)
{
    row_batch *b = user;
    (void)y;
    memcpy(b->buf + b->used, rgb, n);
    b->used += n;
    if (b->used + n > b->cap)
        flush_rows(b);
}

/* rows per frame for a tile of width w: about FRAME_TARGET_BYTES, at least one row */
static uint32_t batch_bytes(uint32_t w)
{
    uint32_t row = w * 3;
    uint32_t rows = FRAME_TARGET_BYTES / row;
    return (rows ? rows : 1) * row;
}

int main(void)
{
    const uint8_t *data;
    uint32_t len;
    if (rt_abi_shared(&data, &len) < 0)
        return 2;
    static scene s;
    static render_ctx ctx;
    const char *scene_err = 0;
    if (scene_deserialize(data, len, &s, arena_alloc, &scene_err) == 0) {
        if (render_prepare(&ctx, &s, arena_alloc) < 0)
            scene_err = "out of memory preparing the scene";
    }
    uint8_t *row = 0;
    uint32_t row_cap = 0;
    row_batch batch = {0, 0, 0};
    uint32_t batch_cap = 0;
    void *aa_work = 0;
    size_t aa_cap = 0;
    for (;;) {
        int r = rt_abi_next(&data, &len);
        if (r == 0)
            return 0;
        if (r < 0)
            return 3;
        if (scene_err) {
            rt_abi_error(scene_err);
            continue;
        }
        tile_spec t;
        const char *terr = 0;
        if (tile_decode(data, len, &t, &terr) < 0) {
            rt_abi_error(terr);
            continue;
        }
        if (t.w * 3 > row_cap) {
            /* the arena only grows: keep the largest row buffer */
            row = rt_alloc((size_t)t.w * 3);
            if (!row) {
                row_cap = 0;
                rt_abi_error("out of memory for the row buffer");
                continue;
            }
            row_cap = t.w * 3;
        }
        uint32_t want = batch_bytes(t.w);
        if (want > batch_cap) {
            batch.buf = rt_alloc(want);
            if (!batch.buf) {
                batch_cap = 0;
                rt_abi_error("out of memory for the frame buffer");
                continue;
            }
            batch_cap = want;
        }
        batch.cap = want;
        batch.used = 0;
        if (t.aa.method && aa_work_bytes(&t.aa, t.w) > aa_cap) {
            aa_cap = aa_work_bytes(&t.aa, t.w);
            aa_work = rt_alloc(aa_cap);
            if (!aa_work) {
                aa_cap = 0;
                rt_abi_error("out of memory for anti-aliasing");
                continue;
            }
        }
        if (t.aa.method)
            aa_render_tile(&ctx, &t, aa_work, send_row, &batch);
        else
            render_tile(&ctx, t.W, t.H, t.x0, t.y0, t.w, t.h, row, send_row, &batch);
        flush_rows(&batch);
        rt_abi_end();
    }
}
