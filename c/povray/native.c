/* native.c -- povray-render: the single-process reference renderer.
 *
 * parse -> serialize -> deserialize -> render, i.e. the same path as the distributed
 * render (the sandboxed client receives the serialized scene), so the bytes are identical.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aa_cli.h"
#include "antialias.h"
#include "parse.h"
#include "png.h"
#include "render.h"

static const char USAGE[] =
    "usage: povray-render SCENE.pov -W WIDTH -H HEIGHT -o OUT.png [--tile N]\n"
    "                     [--dump-scene FILE] [-L DIR]... [--clock K] [+A[THR] +AMn +Rn +J[AMT]]\n"
    "\n"
    "Render a POV-Ray 3.7 subset scene in one process (the reference for the distributed\n"
    "render: same parser, same serialized scene, same raytracer core).\n"
    "\n"
    "  -W, -H N           image size in pixels (1..65536)\n"
    "  -o FILE            output PNG\n"
    "  --tile N           render in N x N tiles (default: whole rows); the bytes do not\n"
    "                     depend on it\n"
    "  --dump-scene FILE  also write the serialized scene (the job's shared input)\n"
    POV_PARSE_CLI_HELP
    POV_AA_CLI_HELP
    "\n"
    "examples:\n"
    "  povray-render examples/demo.pov -W 640 -H 480 -o demo.png\n"
    "  povray-render examples/demo.pov -W 640 -H 480 -o demo.png +A0.1 +AM2 +R3 -J\n";

static void *xmalloc(size_t n) { return malloc(n ? n : 1); }

typedef struct {
    uint8_t *img;
    uint32_t W, x0;
} sink;

static void on_row(void *user, uint32_t y, const uint8_t *rgb, uint32_t n)
{
    sink *s = user;
    memcpy(s->img + ((size_t)y * s->W + s->x0) * 3, rgb, n);
}

static int parse_dim(const char *opt, const char *v, uint32_t *out)
{
    char *end;
    errno = 0;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || errno || *end || n < 1 || n > (long)POV_MAX_DIM) {
        fprintf(stderr, "povray-render: %s needs an integer in 1..%u, got '%s'\n", opt,
                POV_MAX_DIM, v ? v : "");
        return -1;
    }
    *out = (uint32_t)n;
    return 0;
}

int main(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *dump = NULL;
    uint32_t W = 0, H = 0, tile = 0;
    pov_parse_opts popts;
    pov_parse_opts_init(&popts, 0, 0);
    pov_aa_cli aacli;
    pov_aa_cli_init(&aacli);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used = 0, known = pov_parse_cli_opt(&popts, "povray-render", a, v, &used);
        if (known == 0)
            known = pov_aa_cli_opt(&aacli, "povray-render", a, v, &used);
        if (known < 0)
            return 2;
        if (known) {
            i += used - 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (!strcmp(a, "-W")) {
            if (parse_dim("-W", v, &W)) return 2;
            i++;
        } else if (!strcmp(a, "-H")) {
            if (parse_dim("-H", v, &H)) return 2;
            i++;
        } else if (!strcmp(a, "--tile")) {
            if (parse_dim("--tile", v, &tile)) return 2;
            i++;
        } else if (!strcmp(a, "-o")) {
            if (!v) { fprintf(stderr, "povray-render: -o needs a file name\n"); return 2; }
            out = v;
            i++;
        } else if (!strcmp(a, "--dump-scene")) {
            if (!v) { fprintf(stderr, "povray-render: --dump-scene needs a file name\n"); return 2; }
            dump = v;
            i++;
        } else if ((a[0] == '-' || a[0] == '+') && a[1]) {
            fprintf(stderr, "povray-render: unknown option '%s'\n%s", a, USAGE);
            return 2;
        } else if (!in) {
            in = a;
        } else {
            fprintf(stderr, "povray-render: more than one scene given ('%s')\n", a);
            return 2;
        }
    }
    if (!in || !W || !H || !out) {
        fprintf(stderr, "povray-render: need SCENE, -W, -H and -o\n%s", USAGE);
        return 2;
    }
    char err[4096];
    scene parsed;
    popts.image_width = W;
    popts.image_height = H;
    if (pov_parse_file_opts(in, &popts, &parsed, err, sizeof err) < 0) {
        fprintf(stderr, "povray-render: %s\n", err);
        return 1;
    }
    size_t blen;
    uint8_t *blob = scene_serialize(&parsed, &blen);
    scene_free(&parsed);
    if (!blob) {
        fprintf(stderr, "povray-render: out of memory serializing the scene\n");
        return 1;
    }
    if (dump) {
        FILE *f = fopen(dump, "wb");
        if (!f || fwrite(blob, 1, blen, f) != blen || fclose(f) != 0) {
            fprintf(stderr, "povray-render: %s: cannot write: %s\n", dump, strerror(errno));
            return 1;
        }
    }
    scene s;
    const char *derr = NULL;
    if (scene_deserialize(blob, blen, &s, xmalloc, &derr) < 0) {
        fprintf(stderr, "povray-render: internal error: %s\n", derr);
        return 1;
    }
    render_ctx ctx;
    if (render_prepare(&ctx, &s, xmalloc) < 0) {
        fprintf(stderr, "povray-render: out of memory preparing the scene\n");
        return 1;
    }
    uint8_t *img = calloc((size_t)W * H, 3);
    uint8_t *row = malloc((size_t)W * 3);
    if (!img || !row) {
        fprintf(stderr, "povray-render: out of memory for a %ux%u image\n", W, H);
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint32_t tw = tile ? tile : W, th = tile ? tile : H;
    aa_opts aa = pov_aa_cli_result(&aacli);
    void *work = aa.method ? malloc(aa_work_bytes(&aa, tw)) : NULL;
    if (aa.method && !work) {
        fprintf(stderr, "povray-render: out of memory for anti-aliasing\n");
        return 1;
    }
    for (uint32_t y0 = 0; y0 < H; y0 += th) {
        for (uint32_t x0 = 0; x0 < W; x0 += tw) {
            tile_spec t = {W, H, x0, y0, W - x0 < tw ? W - x0 : tw, H - y0 < th ? H - y0 : th, aa};
            sink sk = {img, W, x0};
            if (aa.method)
                aa_render_tile(&ctx, &t, work, on_row, &sk);
            else
                render_tile(&ctx, W, H, x0, y0, t.w, t.h, row, on_row, &sk);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if (png_write_file(out, img, W, H, err, sizeof err) < 0) {
        fprintf(stderr, "povray-render: %s\n", err);
        return 1;
    }
    fprintf(stderr, "povray-render: %s %ux%u: %u objects, %u lights, render %.3f s (%.2f Mpixel/s)\n",
            in, W, H, s.n_prims, s.n_lights, secs, secs > 0 ? (double)W * H / secs / 1e6 : 0.0);
    return 0;
}
