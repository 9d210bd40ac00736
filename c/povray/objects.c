/* objects.c -- the parser's object lists and their CSG tree (hosted C); see objects.h.
 *
 * CSG as POV-Ray 3.7 defines it (reference manual, "Constructive Solid Geometry"): a
 * surface of an intersection's child counts where the point is inside every other child;
 * difference { A B C } is intersection { A inverse B inverse C }; a merge's child counts
 * where the point is outside every other child; a union keeps every surface. Here each
 * child's primitives get those as conditions (nodes of the tree); the object's own node
 * (its inside test) is AND / OR of its children's.
 */
#include <stdlib.h>
#include <string.h>

#include "objects.h"
#include "prims.h"

#define GROW(P, arr, n, cap)                                              \
    do {                                                                  \
        if ((n) == (cap)) {                                               \
            (cap) = (cap) ? (cap) * 2 : 16;                               \
            (arr) = xrealloc((P), (arr), (cap) * sizeof *(arr));          \
        }                                                                 \
    } while (0)

static uint32_t add_node(parser *P, plist *l, csg_node nd)
{
    if (l->n_nodes >= UINT32_MAX / 2)
        perr(P, P->line, "too many objects");
    GROW(P, l->nodes, l->n_nodes, l->cap_nodes);
    l->nodes[l->n_nodes] = nd;
    return (uint32_t)l->n_nodes++;
}

uint32_t plist_push_prim(parser *P, plist *l, const prim *p)
{
    GROW(P, l->v, l->n, l->cap);
    memset(&l->v[l->n], 0, sizeof l->v[l->n]);
    l->v[l->n].p = *p;
    l->v[l->n].cond_head = -1;
    l->v[l->n].bound = -1;
    csg_node leaf = {CSG_LEAF, 0, (uint32_t)l->n, 0};
    l->n++;
    return add_node(P, l, leaf);
}

uint32_t plist_invert(parser *P, plist *l, uint32_t ni)
{
    csg_node nd = l->nodes[ni];
    nd.invert ^= 1u;
    return add_node(P, l, nd);
}

uint32_t plist_group(parser *P, plist *l, uint32_t kind, const uint32_t *nodes, size_t n)
{
    if (n == 1)
        return nodes[0]; /* n == 0: an empty union (inside nowhere) or intersection */
    size_t first = l->n_kids;
    for (size_t i = 0; i < n; i++) {
        GROW(P, l->kids, l->n_kids, l->cap_kids);
        l->kids[l->n_kids++] = nodes[i];
    }
    csg_node nd = {kind, 0, (uint32_t)first, (uint32_t)n};
    return add_node(P, l, nd);
}

/* POV-Ray (Remove_Bounds, on by default) drops a manual bound from objects it can bound
   itself: only the infinite primitives keep it. */
void plist_set_bound(plist *l, size_t from, size_t to, uint32_t ni)
{
    for (size_t i = from; i < to; i++) {
        prim *p = &l->v[i].p;
        vec3 lo, hi;
        if (!(p->flags & PRIM_NO_SURFACE) && l->v[i].bound < 0 &&
            !prim_class_of(p->type)->bounds(p, &lo, &hi))
            l->v[i].bound = (int32_t)ni;
    }
}

void plist_add_cond(parser *P, plist *l, size_t from, size_t to, uint32_t ni)
{
    for (size_t i = from; i < to; i++) {
        if (l->v[i].p.flags & PRIM_NO_SURFACE)
            continue;
        GROW(P, l->cells, l->n_cells, l->cap_cells);
        l->cells[l->n_cells] = (cond_cell){ni, l->v[i].cond_head};
        l->v[i].cond_head = (int32_t)l->n_cells++;
    }
}

uint32_t plist_append(parser *P, plist *l, const plist *src)
{
    uint32_t prim_off = (uint32_t)l->n, node_off = (uint32_t)l->n_nodes;
    uint32_t kid_off = (uint32_t)l->n_kids, cell_off = (uint32_t)l->n_cells;
    for (size_t i = 0; i < src->n; i++) {
        GROW(P, l->v, l->n, l->cap);
        l->v[l->n] = src->v[i];
        if (src->v[i].cond_head >= 0)
            l->v[l->n].cond_head += (int32_t)cell_off;
        if (src->v[i].bound >= 0)
            l->v[l->n].bound += (int32_t)node_off;
        l->n++;
    }
    for (size_t i = 0; i < src->n_nodes; i++) {
        csg_node nd = src->nodes[i];
        nd.first += nd.kind == CSG_LEAF ? prim_off : kid_off;
        add_node(P, l, nd);
    }
    for (size_t i = 0; i < src->n_kids; i++) {
        GROW(P, l->kids, l->n_kids, l->cap_kids);
        l->kids[l->n_kids++] = src->kids[i] + node_off;
    }
    for (size_t i = 0; i < src->n_cells; i++) {
        cond_cell c = src->cells[i];
        c.node += node_off;
        if (c.next >= 0)
            c.next += (int32_t)cell_off;
        GROW(P, l->cells, l->n_cells, l->cap_cells);
        l->cells[l->n_cells++] = c;
    }
    return src->root + node_off;
}

void csg_children_add(parser *P, csg_children *c, size_t from, uint32_t node)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->from = xrealloc(P, c->from, c->cap * sizeof *c->from);
        c->node = xrealloc(P, c->node, c->cap * sizeof *c->node);
    }
    c->from[c->n] = from;
    c->node[c->n] = node;
    c->n++;
}

void csg_children_free(csg_children *c)
{
    free(c->from);
    free(c->node);
    memset(c, 0, sizeof *c);
}

/* Child i of c occupies l->v[c->from[i] .. end_of(i)). */
static size_t end_of(const plist *l, const csg_children *c, size_t i)
{
    return i + 1 < c->n ? c->from[i + 1] : l->n;
}

/* Each child gets "inside" (or, with neg, "not inside") every other child from 'start'. */
static void cross_conditions(parser *P, plist *l, const csg_children *c, const uint32_t *cond,
                             size_t start)
{
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = start; j < c->n; j++)
            if (j != i)
                plist_add_cond(P, l, c->from[i], end_of(l, c, i), cond[j]);
}

uint32_t csg_combine(parser *P, plist *l, const char *word, const csg_children *c)
{
    if (c->n == 0) /* an empty CSG block: nothing drawn, inside nowhere */
        return plist_group(P, l, CSG_OR, 0, 0);
    uint32_t *inv = xalloc(P, c->n * sizeof *inv);
    if (!strcmp(word, "union") || !strcmp(word, "mesh"))
        return plist_group(P, l, CSG_OR, c->node, c->n);
    if (!strcmp(word, "intersection")) {
        cross_conditions(P, l, c, c->node, 0);
        return plist_group(P, l, CSG_AND, c->node, c->n);
    }
    for (size_t i = 0; i < c->n; i++)
        inv[i] = plist_invert(P, l, c->node[i]);
    if (!strcmp(word, "merge")) {
        cross_conditions(P, l, c, inv, 0);
        return plist_group(P, l, CSG_OR, c->node, c->n);
    }
    /* difference { A B C } = intersection { A inverse B inverse C } */
    inv[0] = c->node[0];
    cross_conditions(P, l, c, inv, 0);
    return plist_group(P, l, CSG_AND, inv, c->n);
}

void prim_set_data(parser *P, prim *p, const double *v, size_t n)
{
    if (P->ndata + n > UINT32_MAX / 2)
        perr(P, P->line, "too much object data");
    while (P->ndata + n > P->capdata) {
        P->capdata = P->capdata ? P->capdata * 2 : 256;
        P->data = xrealloc(P, P->data, P->capdata * sizeof *P->data);
    }
    memcpy(P->data + P->ndata, v, n * sizeof *v);
    p->data_first = (uint32_t)P->ndata;
    p->data_n = (uint32_t)n;
    P->ndata += n;
}

void plist_keep(parser *P, plist *l)
{
    pool_keep_ptr(P, l->v);
    pool_keep_ptr(P, l->nodes);
    pool_keep_ptr(P, l->kids);
    pool_keep_ptr(P, l->cells);
}

void plist_free(plist *l)
{
    free(l->v);
    free(l->nodes);
    free(l->kids);
    free(l->cells);
    memset(l, 0, sizeof *l);
}

/* Mark node ni and everything below it. */
static void mark(const plist *l, uint32_t ni, uint8_t *used)
{
    if (used[ni])
        return;
    used[ni] = 1;
    const csg_node *nd = &l->nodes[ni];
    if (nd->kind != CSG_LEAF)
        for (uint32_t k = 0; k < nd->n; k++)
            mark(l, l->kids[nd->first + k], used);
}

/* Depth of every used node (children come first); an error past POV_CSG_MAX_DEPTH. */
static void check_depth(parser *P, const plist *l, const uint8_t *used, uint8_t *depth)
{
    for (size_t i = 0; i < l->n_nodes; i++) {
        if (!used[i])
            continue;
        const csg_node *nd = &l->nodes[i];
        int d = 1;
        if (nd->kind != CSG_LEAF)
            for (uint32_t k = 0; k < nd->n; k++)
                if (depth[l->kids[nd->first + k]] + 1 > d)
                    d = depth[l->kids[nd->first + k]] + 1;
        if (d > POV_CSG_MAX_DEPTH)
            perr(P, P->line, "CSG nested more than %d deep", POV_CSG_MAX_DEPTH);
        depth[i] = (uint8_t)d;
    }
}

void plist_to_scene(parser *P, const plist *l, scene *out)
{
    uint8_t *used = xalloc(P, l->n_nodes + 1), *depth = xalloc(P, l->n_nodes + 1);
    uint32_t *renum = xalloc(P, (l->n_nodes + 1) * sizeof *renum);
    size_t nconds = 0, nkids = 0, nnodes = 0;
    for (size_t i = 0; i < l->n; i++) {
        for (int32_t c = l->v[i].cond_head; c >= 0; c = l->cells[c].next, nconds++)
            mark(l, l->cells[c].node, used);
        if (l->v[i].bound >= 0)
            mark(l, (uint32_t)l->v[i].bound, used);
    }
    check_depth(P, l, used, depth);
    for (size_t i = 0; i < l->n_nodes; i++)
        if (used[i]) {
            renum[i] = (uint32_t)nnodes++;
            if (l->nodes[i].kind != CSG_LEAF)
                nkids += l->nodes[i].n;
        }
    out->nodes = malloc((nnodes + 1) * sizeof *out->nodes);
    out->kids = malloc((nkids + 1) * sizeof *out->kids);
    out->conds = malloc((nconds + 1) * sizeof *out->conds);
    if (!out->nodes || !out->kids || !out->conds)
        perr(P, P->line, "out of memory");
    out->n_nodes = out->n_kids = out->n_conds = 0;
    for (size_t i = 0; i < l->n_nodes; i++) {
        if (!used[i])
            continue;
        csg_node nd = l->nodes[i];
        if (nd.kind != CSG_LEAF) {
            uint32_t first = out->n_kids;
            for (uint32_t k = 0; k < nd.n; k++)
                out->kids[out->n_kids++] = renum[l->kids[nd.first + k]];
            nd.first = first;
        }
        out->nodes[out->n_nodes++] = nd;
    }
    for (size_t i = 0; i < l->n; i++) {
        prim *p = &out->prims[i];
        p->cond_first = out->n_conds;
        for (int32_t c = l->v[i].cond_head; c >= 0; c = l->cells[c].next)
            out->conds[out->n_conds++] = renum[l->cells[c].node];
        p->cond_n = out->n_conds - p->cond_first;
        p->bound = l->v[i].bound >= 0 ? renum[l->v[i].bound] + 1 : 0;
    }
}
