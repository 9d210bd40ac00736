/* ttf.c -- TrueType glyph outlines for the text primitive (hosted C, parser only).
 *
 * Reads the tables POV-Ray 3.7's text object uses from a .ttf file (Apple/Microsoft
 * TrueType reference: offset table, head, maxp, hhea, hmtx, cmap formats 4 and 0, loca,
 * glyf simple glyphs, kern format 0) and turns a string into the text primitive's data:
 * per character a box and a run of quadratic segments, in units of the em square, each
 * character moved by the advances (plus kerning and the text's offset) of those before.
 * Every segment is cut where its y turns, so that each is monotone in y: the renderer's
 * inside test then counts crossings with the half-open rule and no double counts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objects.h"
#include "ttf.h"

typedef struct {
    const uint8_t *b;
    size_t n;
    parser *P;
    int line;
    const char *name;
} font;

static void bad_font(const font *f, const char *why)
{
    perr(f->P, f->line, "font '%s': %s", f->name, why);
}

static uint32_t be(const font *f, size_t at, int bytes)
{
    if (at > f->n || (size_t)bytes > f->n - at)
        bad_font(f, "truncated or damaged TrueType file");
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | f->b[at + (size_t)i];
    return v;
}
static uint32_t u16(const font *f, size_t at) { return be(f, at, 2); }
static int32_t s16(const font *f, size_t at) { return (int16_t)be(f, at, 2); }
static uint32_t u32(const font *f, size_t at) { return be(f, at, 4); }

/* Offset of a table; 0 when it is absent and not required. */
static size_t table(const font *f, const char *tag, int required)
{
    uint32_t n = u16(f, 4);
    for (uint32_t i = 0; i < n; i++) {
        size_t rec = 12 + 16 * (size_t)i;
        uint32_t off = u32(f, rec + 8); /* checks that the record is inside the file */
        if (!memcmp(f->b + rec, tag, 4))
            return off;
    }
    if (required) {
        char msg[64];
        snprintf(msg, sizeof msg, "no '%s' table", tag);
        bad_font(f, msg);
    }
    return 0;
}

/* cmap, in POV-Ray 3.7's order for ASCII text: Macintosh Roman (1,0), Microsoft Unicode
   (3,1), Unicode (0,3), Microsoft symbol (3,0) (characters at 0xF000 + code); formats 0, 4
   and 6. */
typedef struct {
    size_t at;   /* the subtable */
    int format;
    int symbol;
} charmap;

static charmap find_cmap(const font *f)
{
    static const uint32_t pref[4][2] = {{1, 0}, {3, 1}, {0, 3}, {3, 0}};
    size_t cm = table(f, "cmap", 1);
    uint32_t n = u16(f, cm + 2);
    for (int want = 0; want < 4; want++) {
        for (uint32_t i = 0; i < n; i++) {
            size_t rec = cm + 4 + 8 * (size_t)i;
            if (u16(f, rec) != pref[want][0] || u16(f, rec + 2) != pref[want][1])
                continue;
            size_t at = cm + u32(f, rec + 4);
            int format = (int)u16(f, at);
            if (format == 0 || format == 4 || format == 6)
                return (charmap){at, format, want == 3};
        }
    }
    bad_font(f, "no usable character map (cmap format 0, 4 or 6)");
    return (charmap){0, 0, 0};
}

static uint32_t glyph_index(const font *f, const charmap *cm, uint32_t c)
{
    if (cm->format == 0)
        return c < 256 ? be(f, cm->at + 6 + c, 1) : 0; /* one byte each */
    if (cm->format == 6) {
        uint32_t first = u16(f, cm->at + 6), count = u16(f, cm->at + 8);
        return c >= first && c - first < count ? u16(f, cm->at + 10 + 2 * (c - first)) : 0;
    }
    if (cm->symbol)
        c += 0xF000;
    uint32_t segx2 = u16(f, cm->at + 6);
    size_t ends = cm->at + 14, starts = ends + segx2 + 2, deltas = starts + segx2;
    size_t ranges = deltas + segx2;
    for (uint32_t k = 0; k < segx2; k += 2) {
        if (c > u16(f, ends + k))
            continue;
        uint32_t start = u16(f, starts + k);
        if (c < start)
            return 0;
        uint32_t delta = u16(f, deltas + k), ro = u16(f, ranges + k);
        if (!ro)
            return (c + delta) & 0xFFFF;
        uint32_t g = u16(f, ranges + k + ro + 2 * (c - start));
        return g ? (g + delta) & 0xFFFF : 0;
    }
    return 0;
}

/* ------------------------------------------------------------------ outlines */
typedef struct {
    double *v;   /* 6 numbers per segment: x0 y0 x1 y1 x2 y2 (quadratic) */
    size_t n, cap;
    parser *P;
} segs;

static void seg_push(segs *s, double x0, double y0, double x1, double y1, double x2,
                     double y2)
{
    if (s->n + 6 > s->cap) {
        s->cap = s->cap ? s->cap * 2 : 192;
        s->v = xrealloc(s->P, s->v, s->cap * sizeof *s->v);
    }
    double *o = s->v + s->n;
    o[0] = x0, o[1] = y0, o[2] = x1, o[3] = y1, o[4] = x2, o[5] = y2;
    s->n += 6;
}

/* A quadratic, cut at the extremum of y so that every piece is monotone in y. */
static void add_quad(segs *s, double x0, double y0, double x1, double y1, double x2,
                     double y2)
{
    double den = y0 - 2.0 * y1 + y2;
    double t = den != 0.0 ? (y0 - y1) / den : -1.0;
    if (!(t > 1e-9 && t < 1.0 - 1e-9)) {
        seg_push(s, x0, y0, x1, y1, x2, y2);
        return;
    }
    /* de Casteljau at t */
    double ax = x0 + t * (x1 - x0), ay = y0 + t * (y1 - y0);
    double bx = x1 + t * (x2 - x1), by = y1 + t * (y2 - y1);
    double mx = ax + t * (bx - ax), my = ay + t * (by - ay);
    seg_push(s, x0, y0, ax, ay, mx, my);
    seg_push(s, mx, my, bx, by, x2, y2);
}

static void add_line(segs *s, double x0, double y0, double x2, double y2)
{
    seg_push(s, x0, y0, 0.5 * (x0 + x2), 0.5 * (y0 + y2), x2, y2);
}

typedef struct {
    double x, y;
    int on;
} tpoint;

/* One closed contour of TrueType points (on-curve and quadratic control points). */
static void add_contour(segs *s, const tpoint *p, int n, double k, double dx, double dy)
{
    if (n < 2)
        return;
    int first = 0;
    while (first < n && !p[first].on)
        first++;
    double sx, sy; /* the start: an on-curve point, or the middle of two control points */
    if (first == n) {
        sx = 0.5 * (p[0].x + p[1].x), sy = 0.5 * (p[0].y + p[1].y);
        first = 0;
    } else {
        sx = p[first].x, sy = p[first].y;
    }
    double cx = sx, cy = sy, qx = 0.0, qy = 0.0;
    int have_ctrl = 0;
    for (int i = 1; i <= n; i++) {
        const tpoint *q = &p[(first + i) % n];
        double px = i == n ? sx : q->x, py = i == n ? sy : q->y;
        int on = i == n ? 1 : q->on;
        if (on) {
            if (have_ctrl)
                add_quad(s, dx + k * cx, dy + k * cy, dx + k * qx, dy + k * qy, dx + k * px,
                         dy + k * py);
            else if (px != cx || py != cy)
                add_line(s, dx + k * cx, dy + k * cy, dx + k * px, dy + k * py);
            cx = px, cy = py;
            have_ctrl = 0;
        } else if (have_ctrl) { /* two control points: an on-curve point between them */
            double mx = 0.5 * (qx + px), my = 0.5 * (qy + py);
            add_quad(s, dx + k * cx, dy + k * cy, dx + k * qx, dy + k * qy, dx + k * mx,
                     dy + k * my);
            cx = mx, cy = my, qx = px, qy = py;
        } else {
            qx = px, qy = py;
            have_ctrl = 1;
        }
    }
}

/* The glyph's points: flags, then x and y deltas (TrueType 'glyf', simple glyphs). */
static int read_points(const font *f, size_t at, int npts, tpoint *pts)
{
    uint8_t *flags = xalloc(f->P, (size_t)npts + 1);
    for (int i = 0; i < npts;) {
        uint8_t fl = (uint8_t)be(f, at++, 1);
        int rep = fl & 8 ? (int)be(f, at++, 1) : 0;
        for (int r = 0; r <= rep && i < npts; r++)
            flags[i++] = fl;
    }
    for (int axis = 0; axis < 2; axis++) {
        int32_t v = 0;
        uint8_t shortf = axis ? 4 : 2, same = axis ? 32 : 16;
        for (int i = 0; i < npts; i++) {
            if (flags[i] & shortf) {
                int32_t d = (int32_t)be(f, at++, 1);
                v += flags[i] & same ? d : -d;
            } else if (!(flags[i] & same)) {
                v += s16(f, at);
                at += 2;
            }
            if (axis)
                pts[i].y = v;
            else
                pts[i].x = v;
            pts[i].on = flags[i] & 1;
        }
    }
    return 0;
}

typedef struct {
    size_t glyf, loca;
    int long_loca;
    uint32_t nglyphs;
} glyph_tables;

static void add_glyph(const font *f, const glyph_tables *gt, uint32_t g, segs *s, double k,
                      double dx, double dy)
{
    if (g >= gt->nglyphs)
        return;
    size_t a = gt->long_loca ? u32(f, gt->loca + 4 * (size_t)g) : 2 * u16(f, gt->loca + 2 * (size_t)g);
    size_t b = gt->long_loca ? u32(f, gt->loca + 4 * (size_t)g + 4)
                             : 2 * u16(f, gt->loca + 2 * (size_t)g + 2);
    if (b <= a)
        return; /* an empty glyph (space) */
    size_t at = gt->glyf + a;
    int32_t nc = s16(f, at);
    if (nc < 0)
        bad_font(f, "composite glyphs are not supported");
    size_t ends = at + 10;
    int npts = nc ? (int)u16(f, ends + 2 * (size_t)(nc - 1)) + 1 : 0;
    size_t ins = u16(f, ends + 2 * (size_t)nc);
    tpoint *pts = xalloc(f->P, sizeof *pts * ((size_t)npts + 1));
    read_points(f, ends + 2 * (size_t)nc + 2 + ins, npts, pts);
    int start = 0;
    for (int c = 0; c < nc; c++) {
        int end = (int)u16(f, ends + 2 * (size_t)c);
        if (end < start || end >= npts)
            bad_font(f, "contour ends out of order");
        add_contour(s, pts + start, end - start + 1, k, dx, dy);
        start = end + 1;
    }
}

/* The horizontal kerning of a pair (kern format 0 tables; POV-Ray's rules: an override
   table replaces, others add, a minimum table bounds it from below). */
static int32_t kerning(const font *f, size_t kern, uint32_t left, uint32_t right, uint32_t em)
{
    int32_t value = 0, minimum = -(int32_t)em;
    if (!kern || u16(f, kern) != 0)
        return 0;
    uint32_t ntab = u16(f, kern + 2);
    size_t at = kern + 4;
    for (uint32_t t = 0; t < ntab; t++) {
        uint32_t len = u16(f, at + 2), cov = u16(f, at + 4);
        if ((cov >> 8) == 0 && (cov & 1) && !(cov & 4)) { /* format 0, horizontal */
            uint32_t npairs = u16(f, at + 6);
            for (uint32_t i = 0; i < npairs; i++) {
                size_t pr = at + 14 + 6 * (size_t)i;
                uint32_t l = u16(f, pr);
                if (l == left && u16(f, pr + 2) == right) {
                    int32_t v = s16(f, pr + 4);
                    if (cov & 2)
                        minimum = v;
                    else
                        value = cov & 8 ? v : value + v;
                    break;
                }
                if (l > left)
                    break;
            }
        }
        if (!len)
            break;
        at += len;
    }
    return value > minimum ? value : minimum;
}

typedef struct {
    size_t hmtx;
    uint32_t nmetrics;
} hmetrics;

static uint32_t advance(const font *f, const hmetrics *h, uint32_t g)
{
    if (!h->nmetrics)
        return 0;
    return u16(f, h->hmtx + 4 * (size_t)(g < h->nmetrics ? g : h->nmetrics - 1));
}

static int32_t left_bearing(const font *f, const hmetrics *h, uint32_t g)
{
    if (g < h->nmetrics)
        return s16(f, h->hmtx + 4 * (size_t)g + 2);
    return s16(f, h->hmtx + 4 * (size_t)h->nmetrics + 2 * (size_t)(g - h->nmetrics));
}

/* The glyph's xMin (its 'glyf' header; 0 for an empty glyph). */
static int32_t glyph_xmin(const font *f, const glyph_tables *gt, uint32_t g)
{
    if (g >= gt->nglyphs)
        return 0;
    size_t a = gt->long_loca ? u32(f, gt->loca + 4 * (size_t)g) : 2 * u16(f, gt->loca + 2 * (size_t)g);
    size_t b = gt->long_loca ? u32(f, gt->loca + 4 * (size_t)g + 4)
                             : 2 * u16(f, gt->loca + 2 * (size_t)g + 2);
    return b > a ? s16(f, gt->glyf + a + 2) : 0;
}

/* Append one character's box and segment run; its segments are s->v[first ..]. */
static void close_char(segs *s, size_t first, double **boxes, size_t *nbox, size_t *capbox,
                       parser *P)
{
    size_t nseg = (s->n - first) / 6;
    if (!nseg)
        return;
    double lo[2] = {1e300, 1e300}, hi[2] = {-1e300, -1e300};
    for (size_t i = first; i < s->n; i += 2) {
        for (int a = 0; a < 2; a++) {
            lo[a] = s->v[i + a] < lo[a] ? s->v[i + a] : lo[a];
            hi[a] = s->v[i + a] > hi[a] ? s->v[i + a] : hi[a];
        }
    }
    if (*nbox + 6 > *capbox) {
        *capbox = *capbox ? *capbox * 2 : 96;
        *boxes = xrealloc(P, *boxes, *capbox * sizeof **boxes);
    }
    double *b = *boxes + *nbox;
    b[0] = lo[0], b[1] = lo[1], b[2] = hi[0], b[3] = hi[1];
    b[4] = (double)(first / 6), b[5] = (double)nseg;
    *nbox += 6;
}

void ttf_text(parser *P, int line, const char *fontname, const char *str, vec3 offset,
              prim *p)
{
    char path[4096];
    size_t len = 0;
    font f = {0, 0, P, line, fontname};
    char withext[1024];
    const char *base = strrchr(fontname, '/');
    if (!strchr(base ? base : fontname, '.')) { /* POV-Ray adds .ttf to a bare name */
        snprintf(withext, sizeof withext, "%s.ttf", fontname);
        fontname = withext;
        f.name = withext;
    }
    f.b = (const uint8_t *)lang_find_file(P, fontname, line, "font file", &len, path,
                                          sizeof path);
    f.n = len;
    size_t head = table(&f, "head", 1), maxp = table(&f, "maxp", 1);
    size_t hhea = table(&f, "hhea", 1), hmtx = table(&f, "hmtx", 1);
    glyph_tables gt = {table(&f, "glyf", 1), table(&f, "loca", 1), s16(&f, head + 50) != 0,
                       u16(&f, maxp + 4)};
    size_t kern = table(&f, "kern", 0);
    uint32_t em = u16(&f, head + 18), nmetrics = u16(&f, hhea + 34);
    if (!em)
        bad_font(&f, "unitsPerEm is 0");
    charmap cm = find_cmap(&f);
    hmetrics hm = {hmtx, nmetrics};
    double k = 1.0 / em, tx = 0.0, ty = 0.0; /* POV-Ray's total offset */
    segs s = {0, 0, 0, P};
    double *boxes = NULL;
    size_t nbox = 0, capbox = 0;
    uint32_t prev = 0;
    /* POV-Ray 3.7's layout: the first glyph starts at its left edge (moved by -xMin), the
       next at its advance minus its left bearing; each later one at the running offset plus
       its left bearing minus its xMin plus the kerning, then the offset grows by its advance
       plus the kerning; the text's offset is added after every character. */
    for (const unsigned char *c = (const unsigned char *)str; *c; c++) {
        uint32_t g = glyph_index(&f, &cm, *c);
        int32_t xmin = glyph_xmin(&f, &gt, g), lsb = left_bearing(&f, &hm, g);
        uint32_t adv = advance(&f, &hm, g);
        double dx, dy;
        size_t first = s.n;
        if (c == (const unsigned char *)str) {
            dx = -xmin * k, dy = 0.0;
            tx = (double)((int32_t)adv - lsb) * k;
        } else {
            int32_t kx = kerning(&f, kern, prev, g, em);
            dx = tx + (double)(lsb - xmin + kx) * k, dy = ty;
            tx += (double)((int32_t)adv + kx) * k;
        }
        add_glyph(&f, &gt, g, &s, k, dx, dy);
        close_char(&s, first, &boxes, &nbox, &capbox, P);
        tx += offset.x;
        ty += offset.y;
        prev = g;
    }
    size_t nchar = nbox / 6, total = 1 + nbox + s.n;
    double *d = xalloc(P, total * sizeof *d);
    d[0] = (double)nchar;
    if (nbox)
        memcpy(d + 1, boxes, nbox * sizeof *d);
    if (s.n)
        memcpy(d + 1 + nbox, s.v, s.n * sizeof *d);
    prim_set_data(P, p, d, total);
    free(s.v);
    free(boxes);
}
