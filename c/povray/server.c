/* server.c -- povray-server: render a scene on the cpushare hub's workers.
 *
 * Reads the .pov, parses and serializes it (the job's shared input), cuts the image into
 * tiles (the fragments), submits the job with the sandboxed client program through the C
 * buyer client, pastes tiles into the image as results arrive, writes the PNG, prints
 * progress on stderr ("progress DONE/TOTAL failed F" lines) and a summary on stdout.
 * Survives a lost hub connection by reconnecting and re-attaching to the job.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../buyer/cpushare_buyer.h"
#include "aa_cli.h"
#include "parse.h"
#include "png.h"
#include "scene.h"

static const char USAGE[] =
    "usage: povray-server SCENE.pov -W WIDTH -H HEIGHT -o OUT.png [--api ADDR]\n"
    "                     [--tile N] [--redundancy K] [--program PATH] [--max-attempts N]\n"
    "                     [-L DIR]... [--clock K] [+A[THR] +AMn +Rn +J[AMT]]\n"
    "\n"
    "Render a POV-Ray 3.7 subset scene on the workers of a cpushare hub: one fragment per\n"
    "N x N tile, run by povray-client.elf in each worker's sandbox.\n"
    "\n"
    "  --api ADDR         buyer socket of the hub: unix:PATH, a path, or tcp://127.0.0.1:PORT\n"
    "                     (default: $CPUSHARE_API)\n"
    "  --api-token FILE   the hub's buyer API token file, needed over TCP (the hub writes it\n"
    "                     beside its database: DATABASE.api-token; default $CPUSHARE_API_TOKEN)\n"
    "  -W, -H N           image size in pixels (1..65536)\n"
    "  -o FILE            output PNG (written only when every tile succeeded)\n"
    "  --tile N           tile size in pixels (default 32)\n"
    "  --redundancy K     run every tile on K workers and accept agreeing results (default 1)\n"
    "  --program PATH     the client ELF (default: povray-client.elf next to this program)\n"
    "  --max-attempts N   attempts per tile before it fails (default: the hub's)\n"
    "  --resume JOB       continue job JOB (same scene, size and tile) instead of submitting\n"
    POV_PARSE_CLI_HELP
    POV_AA_CLI_HELP
    "\n"
    "Progress goes to stderr, the summary to stdout; the exit status is 0 only when every\n"
    "tile was rendered.\n"
    "\n"
    "examples:\n"
    "  povray-server examples/demo.pov -W 640 -H 480 -o demo.png --api /tmp/hub.db.sock\n"
    "  povray-server examples/demo.pov -W 640 -H 480 -o demo.png --api /tmp/hub.db.sock +A +R4\n";

#define RECONNECT_TRIES 60
#define RECONNECT_SLEEP_US 500000

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int parse_uint(const char *opt, const char *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    errno = 0;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || errno || *end || n < (long)lo || n > (long)hi) {
        fprintf(stderr, "povray-server: %s needs an integer in %u..%u, got '%s'\n", opt, lo, hi,
                v ? v : "");
        return -1;
    }
    *out = (uint32_t)n;
    return 0;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "povray-server: %s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    if (!buf || ferror(f)) {
        fprintf(stderr, "povray-server: %s: cannot read\n", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* povray-client.elf in the directory of this executable */
static char *default_program(void)
{
    static char path[4096];
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return "povray-client.elf";
    self[n] = 0;
    snprintf(path, sizeof path, "%s/povray-client.elf", dirname(self));
    return path;
}

typedef struct {
    tile_spec *tiles;
    uint8_t (*frags)[POV_TILE_AA_BYTES];
    uint32_t frag_len; /* every tile's: 32, or 48 with anti-aliasing */
    uint8_t *state; /* 0 pending, 1 done, 2 failed */
    uint32_t n, done, failed;
} tiling;

static int cut_tiles(tiling *t, uint32_t W, uint32_t H, uint32_t size, aa_opts aa)
{
    uint32_t nx = (W + size - 1) / size, ny = (H + size - 1) / size;
    t->n = nx * ny;
    t->tiles = calloc(t->n, sizeof *t->tiles);
    t->frags = calloc(t->n, sizeof *t->frags);
    t->state = calloc(t->n, 1);
    if (!t->tiles || !t->frags || !t->state)
        return -1;
    uint32_t i = 0;
    for (uint32_t y0 = 0; y0 < H; y0 += size) {
        for (uint32_t x0 = 0; x0 < W; x0 += size, i++) {
            tile_spec *s = &t->tiles[i];
            s->W = W;
            s->H = H;
            s->x0 = x0;
            s->y0 = y0;
            s->w = W - x0 < size ? W - x0 : size;
            s->h = H - y0 < size ? H - y0 : size;
            s->aa = aa;
            t->frag_len = tile_encode(s, t->frags[i]);
        }
    }
    return 0;
}

static void paste(uint8_t *img, const tile_spec *s, const uint8_t *data)
{
    size_t row = (size_t)s->w * 3;
    for (uint32_t r = 0; r < s->h; r++)
        memcpy(img + ((size_t)(s->y0 + r) * s->W + s->x0) * 3, data + r * row, row);
}

static cps_client *reconnect(const char *hub, const char *job_id, cps_client *old)
{
    cps_close(old);
    char err[512] = "";
    for (int i = 0; i < RECONNECT_TRIES; i++) {
        usleep(RECONNECT_SLEEP_US);
        cps_client *c = cps_connect(hub, err, sizeof err);
        if (!c)
            continue;
        if (cps_attach(c, job_id) == 0) {
            fprintf(stderr, "povray-server: reconnected to the hub, following job %s\n", job_id);
            return c;
        }
        snprintf(err, sizeof err, "%s", cps_errmsg(c));
        cps_close(c);
    }
    fprintf(stderr, "povray-server: lost the hub and could not reconnect: %s\n", err);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *hub = NULL, *program = NULL, *resume = NULL;
    uint32_t W = 0, H = 0, tile = 32, redundancy = 1, max_attempts = 0;
    pov_parse_opts popts;
    pov_parse_opts_init(&popts, 0, 0);
    pov_aa_cli aacli;
    pov_aa_cli_init(&aacli);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used = 0, known = pov_parse_cli_opt(&popts, "povray-server", a, v, &used);
        if (known == 0)
            known = pov_aa_cli_opt(&aacli, "povray-server", a, v, &used);
        if (known < 0)
            return 2;
        if (known) {
            i += used - 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(USAGE, stdout);
            return 0;
        }
        int takes = 1;
        if (!strcmp(a, "-W")) {
            if (parse_uint("-W", v, 1, POV_MAX_DIM, &W)) return 2;
        } else if (!strcmp(a, "-H")) {
            if (parse_uint("-H", v, 1, POV_MAX_DIM, &H)) return 2;
        } else if (!strcmp(a, "--tile")) {
            if (parse_uint("--tile", v, 1, POV_MAX_DIM, &tile)) return 2;
        } else if (!strcmp(a, "--redundancy")) {
            if (parse_uint("--redundancy", v, 1, 16, &redundancy)) return 2;
        } else if (!strcmp(a, "--max-attempts")) {
            if (parse_uint("--max-attempts", v, 1, 1000, &max_attempts)) return 2;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--api") || !strcmp(a, "--program") ||
                   !strcmp(a, "--resume") || !strcmp(a, "--api-token")) {
            if (!v) {
                fprintf(stderr, "povray-server: %s needs a value\n", a);
                return 2;
            }
            if (!strcmp(a, "-o")) out = v;
            else if (!strcmp(a, "--api")) hub = v;
            else if (!strcmp(a, "--resume")) resume = v;
            else if (!strcmp(a, "--api-token")) {
                if (setenv("CPUSHARE_API_TOKEN", v, 1) != 0) {   /* read by cps_connect */
                    fprintf(stderr, "povray-server: setenv: %s (errno %d)\n", strerror(errno), errno);
                    return 2;
                }
            }
            else program = v;
        } else if (!strcmp(a, "--hub")) {
            fprintf(stderr, "povray-server: --hub was renamed --api (the hub's buyer API address; "
                            "--hub is the worker's flag for the hub's worker endpoint)\n");
            return 2;
        } else if ((a[0] == '-' || a[0] == '+') && a[1]) {
            fprintf(stderr, "povray-server: unknown option '%s'\n%s", a, USAGE);
            return 2;
        } else if (!in) {
            in = a;
            takes = 0;
        } else {
            fprintf(stderr, "povray-server: more than one scene given ('%s')\n", a);
            return 2;
        }
        i += takes;
    }
    if (!in || !W || !H || !out) {
        fprintf(stderr, "povray-server: need SCENE, -W, -H and -o\n%s", USAGE);
        return 2;
    }
    if (!hub && !getenv("CPUSHARE_API")) {
        fprintf(stderr, "povray-server: no hub given: use --api ADDR or set CPUSHARE_API\n");
        return 2;
    }
    if (!program)
        program = default_program();

    char err[4096];
    scene parsed;
    popts.image_width = W;
    popts.image_height = H;
    if (pov_parse_file_opts(in, &popts, &parsed, err, sizeof err) < 0) {
        fprintf(stderr, "povray-server: %s\n", err);
        return 1;
    }
    size_t scene_len;
    uint8_t *scene_blob = scene_serialize(&parsed, &scene_len);
    scene_free(&parsed);
    size_t elf_len;
    uint8_t *elf = read_file(program, &elf_len);
    tiling t = {0};
    uint8_t *img = calloc((size_t)W * H, 3);
    if (!scene_blob || !elf || !img || cut_tiles(&t, W, H, tile, pov_aa_cli_result(&aacli)) < 0) {
        if (elf)
            fprintf(stderr, "povray-server: out of memory\n");
        return 1;
    }
    const void **frag_ptrs = calloc(t.n, sizeof *frag_ptrs);
    uint32_t *frag_lens = calloc(t.n, sizeof *frag_lens);
    if (!frag_ptrs || !frag_lens) {
        fprintf(stderr, "povray-server: out of memory\n");
        return 1;
    }
    for (uint32_t i = 0; i < t.n; i++) {
        frag_ptrs[i] = t.frags[i];
        frag_lens[i] = t.frag_len;
    }

    cps_client *c = cps_connect(hub, err, sizeof err);
    if (!c) {
        fprintf(stderr, "povray-server: cannot connect to the hub: %s\n", err);
        return 1;
    }
    char name[256];
    char *inc = strdup(in);
    snprintf(name, sizeof name, "povray %s %ux%u", inc ? basename(inc) : "scene", W, H);
    free(inc);
    cps_job_spec spec = {
        .program = elf, .program_len = elf_len,
        .shared = scene_blob, .shared_len = scene_len,
        .n_fragments = t.n, .fragments = frag_ptrs, .fragment_lens = frag_lens,
        .redundancy = redundancy, .max_attempts = max_attempts, .name = name,
    };
    char job_id[128];
    double t0 = now_s();
    if (resume) {   /* every result from the start: this process has none of them yet */
        snprintf(job_id, sizeof job_id, "%s", resume);
        if (cps_attach_all(c, job_id) != 0) {
            fprintf(stderr, "povray-server: cannot resume job %s: %s\n", job_id, cps_errmsg(c));
            cps_close(c);
            return 1;
        }
        cps_progress p;
        if (cps_get_progress(c, &p) == 0 && p.total != t.n) {
            fprintf(stderr, "povray-server: job %s has %llu tiles, this command line makes %u: "
                    "resume with the same scene, -W, -H and --tile\n", job_id,
                    (unsigned long long)p.total, t.n);
            cps_close(c);
            return 2;
        }
    } else if (cps_submit(c, &spec, job_id, sizeof job_id) != 0) {
        fprintf(stderr, "povray-server: submitting the job failed: %s\n", cps_errmsg(c));
        cps_close(c);
        return 1;
    }
    fprintf(stderr, "povray-server: job %s: %u tiles of %ux%u, redundancy %u\n", job_id, t.n,
            tile, tile, redundancy);
    fprintf(stderr, "progress 0/%u failed 0\n", t.n);
    int fatal = 0;
    char waiting[256] = "";
    for (;;) {
        cps_result r;
        int rc = cps_next_result(c, &r, 1000);
        if (rc == 0)
            break;
        if (rc == -2) {   /* nothing for a second: ask the hub why, say it when it changes */
            cps_progress p;
            if (cps_get_progress(c, &p) == 0 && strcmp(p.waiting, waiting) != 0) {
                memcpy(waiting, p.waiting, sizeof waiting);
                fprintf(stderr, "waiting %s\n", waiting);
            }
            continue;
        }
        if (waiting[0]) {
            waiting[0] = '\0';
            fprintf(stderr, "waiting \n");
        }
        if (rc == -1) {
            fprintf(stderr, "povray-server: hub connection error: %s; reconnecting\n",
                    cps_errmsg(c));
            c = reconnect(hub, job_id, c);
            if (!c) {
                fatal = 1;
                break;
            }
            continue;
        }
        if (r.index >= t.n) {
            fprintf(stderr, "povray-server: hub sent a result for unknown tile %u\n", r.index);
            continue;
        }
        const tile_spec *s = &t.tiles[r.index];
        /* A tile delivered again supersedes the earlier result: the hub re-verified it (its
           worker was caught cheating) and another result won. Overwrite, count once. */
        uint8_t before = t.state[r.index];
        if (before != 0)
            fprintf(stderr, "povray-server: tile %u (%u,%u %ux%u) corrected by re-verification\n",
                    r.index, s->x0, s->y0, s->w, s->h);
        if (before == 1)
            t.done--;
        else if (before == 2)
            t.failed--;
        if (r.ok && r.len == (size_t)s->w * s->h * 3) {
            paste(img, s, r.data);
            t.state[r.index] = 1;
            t.done++;
        } else {
            t.state[r.index] = 2;
            t.failed++;
            if (r.ok)
                fprintf(stderr, "povray-server: tile %u (%u,%u %ux%u): result has %zu bytes, "
                        "expected %zu\n", r.index, s->x0, s->y0, s->w, s->h, r.len,
                        (size_t)s->w * s->h * 3);
            else
                fprintf(stderr, "povray-server: tile %u (%u,%u %ux%u) failed: %s\n", r.index,
                        s->x0, s->y0, s->w, s->h, r.reason ? r.reason : "(no reason)");
        }
        fprintf(stderr, "progress %u/%u failed %u\n", t.done, t.n, t.failed);
    }
    double wall = now_s() - t0;
    cps_close(c);
    uint32_t missing = t.n - t.done - t.failed;
    printf("job:        %s\n", job_id);
    printf("tiles:      %u (%ux%u), done %u, failed %u, missing %u\n", t.n, tile, tile, t.done,
           t.failed, missing);
    printf("wall time:  %.3f s\n", wall);
    printf("speed:      %.3f Mpixel/s\n", wall > 0 ? (double)W * H / wall / 1e6 : 0.0);
    if (fatal || t.failed || missing) {
        fprintf(stderr, "povray-server: %u of %u tiles failed or missing; %s not written\n",
                t.failed + missing, t.n, out);
        return 1;
    }
    if (png_write_file(out, img, W, H, err, sizeof err) < 0) {
        fprintf(stderr, "povray-server: %s\n", err);
        return 1;
    }
    printf("output:     %s (%ux%u)\n", out, W, H);
    return 0;
}
