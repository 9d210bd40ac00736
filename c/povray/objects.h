/* objects.h -- the parser's object lists (hosted C, parser only): the flattened primitives
 * of an object or of the whole scene, with the CSG tree (scene.h's csg_node) that decides
 * which parts of their surfaces count. objects.c builds and copies them; parse.c parses.
 */
#ifndef POV_OBJECTS_H
#define POV_OBJECTS_H

#include "lang.h"

/* A patterned texture as parsed: the pattern and its entries (values ascending). */
typedef struct tmapdef {
    pigment pat;
    uint32_t n;
    double *v;
    texture *e;
} tmapdef;

struct texture {
    int has_pig, has_fin, has_nrm;
    pigment pig;
    finish fin;
    tnormal nrm;
    const texture *below; /* a layered texture: the layer under this one (NULL: none). Layers
                             are never changed once made: a transform copies the chain. */
    const tmapdef *map;   /* a patterned texture (pig, fin, nrm unused), or NULL; never
                             changed once made either */
};

typedef struct {
    prim p;
    const texture *below; /* the layers under p's own surface (a layered texture) */
    const tmapdef *map;   /* a patterned texture instead of p's surface, or NULL */
    const texture *inside; /* interior_texture { }, or NULL */
    int textured;
    int32_t cond_head; /* first cell of its CSG conditions in plist.cells, -1 = none */
    int32_t bound;     /* bounded_by node of the same plist, -1 = none */
} pprim;

typedef struct {
    uint32_t node;  /* a node of the same plist */
    int32_t next;   /* next cell, -1 = end */
} cond_cell;

struct plist {
    pprim *v;
    size_t n, cap;
    int is_group;   /* a union: its texture goes to the children without one */
    uint32_t root;  /* the node of the whole list as one object (declared objects) */
    csg_node *nodes;
    size_t n_nodes, cap_nodes;
    uint32_t *kids;
    size_t n_kids, cap_kids;
    cond_cell *cells;
    size_t n_cells, cap_cells;
};

/* An object's children while a CSG block is parsed: where each starts in the list and
   its node. */
typedef struct {
    size_t *from;
    uint32_t *node;
    size_t n, cap;
} csg_children;

/* Push a primitive (and its leaf node); returns the leaf node. */
uint32_t plist_push_prim(parser *P, plist *l, const prim *p);
/* Append a copy of src (its nodes and conditions relocated); returns src's root there. */
uint32_t plist_append(parser *P, plist *l, const plist *src);
/* A new node that is node ni inverted. */
uint32_t plist_invert(parser *P, plist *l, uint32_t ni);
/* A new AND/OR node over the given nodes. */
uint32_t plist_group(parser *P, plist *l, uint32_t kind, const uint32_t *nodes, size_t n);
/* Every surface primitive of l->v[from .. to) without one gets the bound node ni. */
void plist_set_bound(plist *l, size_t from, size_t to, uint32_t ni);
/* Every surface primitive of l->v[from .. to) gets the condition "inside node ni". */
void plist_add_cond(parser *P, plist *l, size_t from, size_t to, uint32_t ni);
void csg_children_add(parser *P, csg_children *c, size_t from, uint32_t node);
void csg_children_free(csg_children *c);
/* Combine the children (the list's primitives from c->from[0] on) as the CSG word says
   (union, merge, intersection, difference); returns the object's node. */
uint32_t csg_combine(parser *P, plist *l, const char *word, const csg_children *c);
/* Keep the list's arrays until the end of the parse (declared objects). */
void plist_keep(parser *P, plist *l);
void plist_free(plist *l);
/* prims_parse.c: the primitives' parsers, one per entry of POV_PRIMITIVES */
typedef struct {
    uint32_t type;
    const char *name;
    void (*parse)(parser *P, prim *p, const token *kw);
} prim_parser;
const prim_parser *prim_parser_of(const char *w); /* NULL for a word that is none */

/* Append n numbers to the scene's data pool; sets p->data_first/data_n. */
void prim_set_data(parser *P, prim *p, const double *v, size_t n);

/* The scene's CSG tables from the final list: only the nodes some condition uses. */
void plist_to_scene(parser *P, const plist *l, scene *out);

#endif
