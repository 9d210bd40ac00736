/* client.c -- povray-client.elf: the sandboxed tile renderer (ABI v1 program on c/rt).
 *
 * Shared input ('S') = the serialized scene; each fragment ('F') = a 32-byte tile
 * {"TILE", version 1, W, H, x0, y0, w, h} (little-endian u32). For each tile: one 'D'
 * frame per finished row (w*3 RGB8 bytes), then 'E'. A bad scene or tile gets 'X' with a
 * message (retrying elsewhere would not help).
 */
#include "rt.h"
#include "render.h"

static void *arena_alloc(size_t n)
{
    return rt_alloc(n);
}

static void send_row(void *user, uint32_t y, const uint8_t *rgb, uint32_t n)
{
    (void)user;
    (void)y;
    rt_abi_data(rgb, n);
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
        render_tile(&ctx, t.W, t.H, t.x0, t.y0, t.w, t.h, row, send_row, 0);
        rt_abi_end();
    }
}
