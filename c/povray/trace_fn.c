/* trace_fn.c -- the scene language's trace(OBJECT, A, B [, N]) (POV-Ray 3.7's reference,
 * "Vector Functions"): the first point where a ray from A in direction B meets the declared
 * OBJECT (its CSG, clipping and transforms as rendered), <0, 0, 0> when it meets nothing;
 * the optional identifier N is set to the object's normal there (<0, 0, 0> on a miss).
 * Parse time only (the buyer's side): the object is put in a scene of its own and traced
 * with the renderer's own intersection code; the last object's prepared scene is kept, as
 * scenes trace one object many times in a loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"
#include "objects.h"
#include "render.h"
#include "fn.h"
#include "warp.h"

/* Allocations of one prepared object scene, freed together. */
#define TRACE_ALLOCS 16
static void *trace_allocs[TRACE_ALLOCS];
static size_t n_trace_allocs;

static void *trace_alloc(size_t n)
{
    if (n_trace_allocs == TRACE_ALLOCS)
        return NULL;
    void *p = calloc(1, n);
    if (p)
        trace_allocs[n_trace_allocs++] = p;
    return p;
}

static struct {
    prim *orig;         /* the object prepared, as it was (compared, not its address: a */
    size_t n, n_nodes;  /* list freed and another made at the same place must not match) */
    csg_node *nodes;
    scene s;
    render_ctx ctx;
} cached;

static int same_object(const plist *l)
{
    if (!cached.orig || cached.n != l->n || cached.n_nodes != l->n_nodes)
        return 0;
    for (size_t i = 0; i < l->n; i++)
        if (memcmp(&cached.orig[i], &l->v[i].p, sizeof(prim)) != 0)
            return 0;
    return memcmp(cached.nodes, l->nodes, l->n_nodes * sizeof *l->nodes) == 0;
}

static void drop_cached(void)
{
    for (size_t i = 0; i < n_trace_allocs; i++)
        free(trace_allocs[i]);
    n_trace_allocs = 0;
    free(cached.s.prims);
    free(cached.s.nodes);
    free(cached.s.kids);
    free(cached.s.conds);
    free(cached.orig);
    free(cached.nodes);
    memset(&cached, 0, sizeof cached);
}

static const render_ctx *prepared(parser *P, const plist *l, int line)
{
    if (same_object(l)) {
        scene *s = &cached.s; /* the data and function pools may have grown (and moved) */
        s->data = P->data;
        s->n_data = (uint32_t)P->ndata;
        for (size_t i = 0; i < l->n; i++)
            s->prims[i].d = P->data ? P->data + s->prims[i].data_first : NULL;
        fn_pool_view(P, s);
        warp_pool_view(P, s);
        fn_bind(s);
        warp_bind(s);
        return &cached.ctx;
    }
    drop_cached();
    cached.orig = calloc(l->n + 1, sizeof *cached.orig);
    cached.nodes = calloc(l->n_nodes + 1, sizeof *cached.nodes);
    if (!cached.orig || !cached.nodes)
        perr(P, line, "out of memory");
    for (size_t i = 0; i < l->n; i++)
        cached.orig[i] = l->v[i].p;
    memcpy(cached.nodes, l->nodes, l->n_nodes * sizeof *l->nodes);
    cached.n = l->n;
    cached.n_nodes = l->n_nodes;
    scene *s = &cached.s;
    s->n_prims = (uint32_t)l->n;
    s->prims = calloc(l->n + 1, sizeof *s->prims);
    if (!s->prims)
        perr(P, line, "out of memory");
    for (size_t i = 0; i < l->n; i++)
        s->prims[i] = l->v[i].p;
    plist_to_scene(P, l, s);
    s->data = P->data;
    s->n_data = (uint32_t)P->ndata;
    for (size_t i = 0; i < l->n; i++)
        s->prims[i].d = P->data ? P->data + s->prims[i].data_first : NULL;
    s->max_trace_level = 1;
    s->irid_wavelength = v3(1, 1, 1);
    s->noise_generator = 2;
    fn_pool_view(P, s);
    warp_pool_view(P, s);
    if (render_prepare(&cached.ctx, s, trace_alloc) != 0)
        perr(P, line, "trace(): cannot prepare the object (out of memory)");
    return &cached.ctx;
}

/* Is primitive i's surface turned inside out in the object (under an odd number of
   inversions: a difference's later children, inverse)? POV-Ray's normal then points the
   other way. -1: not under node ni. */
static int leaf_inverted(const plist *l, uint32_t ni, uint32_t i, int inv, int depth)
{
    const csg_node *nd = &l->nodes[ni];
    inv ^= (int)nd->invert;
    if (nd->kind == CSG_LEAF)
        return nd->first == i ? inv : -1;
    for (uint32_t k = 0; k < nd->n && depth < POV_CSG_MAX_DEPTH; k++) {
        int r = leaf_inverted(l, l->kids[nd->first + k], i, inv, depth + 1);
        if (r >= 0)
            return r;
    }
    return -1;
}

static void set_vector(parser *P, const char *name, vec3 v)
{
    value val = vvec(v);
    symbol *s = find_sym(P, name);
    if (s && s->v.kind != V_MACRO && s->v.kind != V_FUNCTION)
        s->v = val;
    else
        set_sym(P, name, val, 0);
}

static const plist *declared_object(parser *P, const char *fn)
{
    token id = next(P);
    symbol *s = id.kind == T_IDENT ? find_sym(P, id.text) : NULL;
    if (s && s->v.kind == V_BROKEN)
        perr(P, id.line, "'%s' cannot be used: %s", id.text, s->v.str);
    if (!s || s->v.kind != V_OBJECT)
        perr(P, id.line, "%s() needs a declared object first, got '%s'", fn, id.text);
    return s->v.obj;
}

/* Is P inside node ni of the object's CSG tree (inverted an odd number of times: outside)? */
static int node_inside(const render_ctx *ctx, const plist *l, uint32_t ni, vec3 P, int inv,
                       int depth)
{
    const csg_node *nd = &l->nodes[ni];
    inv ^= (int)nd->invert;
    if (nd->kind == CSG_LEAF)
        return render_prim_inside(ctx, nd->first, P) != inv;
    int all = (nd->kind == CSG_AND) != inv; /* OR inverted: the AND of inverted children */
    for (uint32_t k = 0; k < nd->n && depth < POV_CSG_MAX_DEPTH; k++) {
        int in = node_inside(ctx, l, l->kids[nd->first + k], P, inv, depth + 1);
        if (all != in)
            return in;
    }
    return all;
}

/* inside(OBJECT, <P>): 1 when P is inside the object, by its primitives' inside tests
   combined as its CSG tree combines them (POV-Ray's Inside_Object), else 0 */
value inside_call(parser *P, const token *t)
{
    expect(P, "(", "after inside");
    const plist *obj = declared_object(P, "inside");
    opt_comma(P);
    vec3 p = parse_vector(P);
    expect(P, ")", "after inside's arguments");
    return fval(node_inside(prepared(P, obj, t->line), obj, obj->root, p, 0, 0) ? 1.0 : 0.0);
}

value trace_call(parser *P, const token *t)
{
    expect(P, "(", "after trace");
    const plist *obj = declared_object(P, "trace");
    opt_comma(P);
    vec3 a = parse_vector(P);
    opt_comma(P);
    vec3 b = parse_vector(P);
    char normal[64] = "";
    if (is_punct(P, ","))
        next(P);
    if (!is_punct(P, ")")) {
        token n = next(P);
        if (n.kind != T_IDENT)
            perr(P, n.line, "trace(): the fourth argument must be an identifier, got '%s'",
                 n.text);
        snprintf(normal, sizeof normal, "%s", n.text);
    }
    expect(P, ")", "after trace's arguments");
    if (vlen(b) == 0.0)
        perr(P, t->line, "trace(): the direction is zero");
    double dist;
    uint32_t pi;
    vec3 n = v3(0, 0, 0), hit = v3(0, 0, 0);
    if (render_first_hit(prepared(P, obj, t->line), a, vnorm(b), &dist, &pi, &n)) {
        hit = vadd(a, vscale(vnorm(b), dist));
        if (leaf_inverted(obj, obj->root, pi, 0, 0) == 1)
            n = vscale(n, -1.0);
    } else {
        n = v3(0, 0, 0);
    }
    if (normal[0])
        set_vector(P, normal, n);
    return vvec(hit);
}
