/* antialias.h -- POV-Ray 3.7's anti-aliasing (+A, +AM1/+AM2, +R, +J) for one tile
 * (freestanding-safe). The tile's bytes do not depend on the tiling: see antialias.c.
 */
#ifndef POV_ANTIALIAS_H
#define POV_ANTIALIAS_H

#include "render.h"

/* POV-Ray's defaults: +A0.3, +AM1, +R3, jitter on with amount 1.0 */
#define POV_AA_DEFAULT_THRESHOLD 0.3f
#define POV_AA_DEFAULT_DEPTH 3u
#define POV_AA_DEFAULT_JITTER 1.0f
/* POV-Ray 3.7's render blocks (Render_Block_Size 32): method 1 decides per block */
#define POV_AA_BLOCK 32u

/* Bytes of work memory aa_render_tile needs for a tile w pixels wide. */
size_t aa_work_bytes(const aa_opts *aa, uint32_t w);

/* Render tile t with its anti-aliasing (t->aa.method 1 or 2); work holds
   aa_work_bytes(&t->aa, t->w) bytes, 8-byte aligned. Rows go to on_row top to bottom. */
void aa_render_tile(const render_ctx *ctx, const tile_spec *t, void *work, row_fn on_row,
                    void *user);

#endif
