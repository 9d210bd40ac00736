/* extent.c -- min_extent(OBJECT) and max_extent(OBJECT) (POV-Ray 3.7's reference manual,
 * "Vector Functions"): the corners of the object's bounding box. The box follows the CSG
 * tree of the object list: a primitive's box (its object-space box with its 8 corners
 * transformed, as render.c bounds it), a union the union of its children's boxes, an
 * intersection (and so difference and clipped_by) the overlap of its children's, anything
 * inverted or unbounded POV-Ray's "infinite" box of +-1e10 (BOUND_HUGE / 2).
 */
#include <math.h>
#include <string.h>

#include "lang.h"
#include "objects.h"
#include "prims.h"
#include "render.h"

#define EXTENT_HUGE 1.0e10

typedef struct { double lo[3], hi[3]; } box3;

static box3 infinite_box(void)
{
    box3 b = {{-EXTENT_HUGE, -EXTENT_HUGE, -EXTENT_HUGE}, {EXTENT_HUGE, EXTENT_HUGE, EXTENT_HUGE}};
    return b;
}

static double axis(vec3 v, int a) { return a == 0 ? v.x : a == 1 ? v.y : v.z; }

static box3 prim_box(const parser *P, const prim *src)
{
    prim q = *src; /* its data (blob, lathe, text ...) is still the parser's */
    const prim *p = &q;
    q.d = P->data ? P->data + q.data_first : NULL;
    vec3 lo, hi;
    if (!prim_class_of(p->type)->bounds(p, &lo, &hi))
        return infinite_box();
    box3 b = {{HUGE_VAL, HUGE_VAL, HUGE_VAL}, {-HUGE_VAL, -HUGE_VAL, -HUGE_VAL}};
    for (int i = 0; i < 8; i++) {
        vec3 c = {i & 1 ? hi.x : lo.x, i & 2 ? hi.y : lo.y, i & 4 ? hi.z : lo.z};
        if (p->has_trans)
            c = xf_point(&p->fwd, c);
        for (int a = 0; a < 3; a++) {
            b.lo[a] = b.lo[a] < axis(c, a) ? b.lo[a] : axis(c, a);
            b.hi[a] = b.hi[a] > axis(c, a) ? b.hi[a] : axis(c, a);
        }
    }
    return b;
}

static box3 node_box(const parser *P, const plist *l, uint32_t ni, int depth)
{
    const csg_node *nd = &l->nodes[ni];
    if (nd->invert || depth > POV_CSG_MAX_DEPTH)
        return infinite_box();
    if (nd->kind == CSG_LEAF)
        return prim_box(P, &l->v[nd->first].p);
    box3 b = infinite_box();
    for (uint32_t k = 0; k < nd->n; k++) {
        box3 c = node_box(P, l, l->kids[nd->first + k], depth + 1);
        for (int a = 0; a < 3 && k > 0; a++) {
            if (nd->kind == CSG_AND) { /* the overlap */
                b.lo[a] = c.lo[a] > b.lo[a] ? c.lo[a] : b.lo[a];
                b.hi[a] = c.hi[a] < b.hi[a] ? c.hi[a] : b.hi[a];
            } else { /* the union */
                b.lo[a] = c.lo[a] < b.lo[a] ? c.lo[a] : b.lo[a];
                b.hi[a] = c.hi[a] > b.hi[a] ? c.hi[a] : b.hi[a];
            }
        }
        if (k == 0)
            b = c;
    }
    return b;
}

/* min_extent (max 0) or max_extent (max 1) of an object value: a corner, as a 3-vector */
value object_extent(parser *P, const value *obj, int max, int line)
{
    if (obj->kind != V_OBJECT)
        perr(P, line, "%s needs an object, got a %s", max ? "max_extent" : "min_extent",
             kind_name(obj->kind));
    const plist *l = obj->obj;
    box3 b = l->n_nodes ? node_box(P, l, l->root, 0) : infinite_box();
    value v;
    memset(&v, 0, sizeof v);
    v.kind = V_VEC;
    v.n = 3;
    for (int a = 0; a < 3; a++)
        v.c[a] = max ? b.hi[a] : b.lo[a];
    return v;
}
