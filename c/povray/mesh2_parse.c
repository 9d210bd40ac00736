/* mesh2_parse.c -- mesh2 { vertex_vectors { N, <v>... } [normal_vectors { N, <n>... }]
 * [uv_vectors { N, <uv>... }] [texture_list { N, texture { }... }] face_indices { N,
 * <a, b, c> [, T]... } [normal_indices { N, <a, b, c>... }] [uv_indices { ... }]
 * [inside_vector V] MODIFIERS } (POV-Ray 3.7's reference, "Mesh2"), made into the same union
 * of triangles as a mesh: a face is a smooth triangle when it has normals that are not all
 * equal, degenerate faces are dropped as POV-Ray drops them, a face's texture index gives it
 * that texture of the list. Refused: three texture indices on one face (textures blended
 * across it). uv_vectors and uv_indices are read and checked; without uv_mapping (refused
 * elsewhere) they change nothing. Included by parse.c.
 */

#define MESH2_MAX 5000000 /* entries of one list */

typedef struct {
    vec3 *v, *n;
    size_t nv, nn, nuv, nfaces;
    uint32_t (*face)[4];  /* a, b, c, texture (UINT32_MAX: none) */
    uint32_t (*nface)[4]; /* normal_indices (NULL: face_indices index the normals too) */
    size_t nnfaces;
    texture *tex;
    size_t ntex;
} mesh2def;

static size_t mesh2_count(parser *P, const char *what)
{
    expect(P, "{", what);
    double n = parse_float(P, what);
    if (!(n >= 0 && n <= MESH2_MAX) || n != (double)(size_t)n)
        perr(P, P->line, "%s: the count must be a whole number 0..%d, got %g", what, MESH2_MAX, n);
    opt_comma(P);
    return (size_t)n;
}

static vec3 *mesh2_vectors(parser *P, const char *what, size_t *n_out)
{
    size_t n = mesh2_count(P, what);
    vec3 *v = xalloc(P, (n + 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i] = parse_vector(P);
        opt_comma(P);
    }
    expect(P, "}", what);
    *n_out = n;
    return v;
}

static uint32_t mesh2_index(parser *P, double x, size_t limit, const char *what)
{
    if (!(x >= 0 && x < (double)limit) || x != (double)(uint32_t)x)
        perr(P, P->line, "%s: index %g out of range 0..%zu", what, x, limit ? limit - 1 : 0);
    return (uint32_t)x;
}

/* face_indices / normal_indices / uv_indices: n triples of indices below limit (with the
   optional texture index of face_indices) */
static uint32_t (*mesh2_triples(parser *P, const char *what, size_t limit, mesh2def *m,
                                int faces, size_t *n_out))[4]
{
    size_t n = mesh2_count(P, what);
    uint32_t (*t)[4] = xalloc(P, (n + 1) * sizeof *t);
    for (size_t i = 0; i < n; i++) {
        vec3 v = parse_vector(P);
        t[i][0] = mesh2_index(P, v.x, limit, what);
        t[i][1] = mesh2_index(P, v.y, limit, what);
        t[i][2] = mesh2_index(P, v.z, limit, what);
        t[i][3] = UINT32_MAX;
        if (is_punct(P, ","))
            next(P);
        if (faces && m->ntex && peek(P)->kind == T_NUM) {
            t[i][3] = mesh2_index(P, parse_float(P, what), m->ntex, "a face's texture");
            if (is_punct(P, ","))
                next(P);
            if (peek(P)->kind == T_NUM)
                perr(P, P->line, "unsupported: three textures on one mesh2 face (blended "
                     "across it)");
        }
    }
    expect(P, "}", what);
    *n_out = n;
    return t;
}

static void mesh2_textures(parser *P, mesh2def *m)
{
    m->ntex = mesh2_count(P, "texture_list");
    m->tex = xalloc(P, (m->ntex + 1) * sizeof *m->tex);
    for (size_t i = 0; i < m->ntex; i++) {
        token t = next(P);
        if (t.kind != T_IDENT || strcmp(t.text, "texture"))
            perr(P, t.line, "texture_list: expected texture { }, got '%s'", t.text);
        m->tex[i] = P->sc->def;
        parse_texture_body(P, &m->tex[i]);
        opt_comma(P);
    }
    expect(P, "}", "texture_list");
}

/* The lists, in POV-Ray's order (each at most once). */
static void mesh2_lists(parser *P, mesh2def *m)
{
    static const char *const order[] = {"vertex_vectors", "normal_vectors", "uv_vectors",
                                        "texture_list", "face_indices", "normal_indices",
                                        "uv_indices"};
    size_t next_list = 0, nuvf = 0;
    while (peek(P)->kind == T_IDENT) {
        size_t k = next_list;
        while (k < 7 && !is_word(P, order[k]))
            k++;
        if (k == 7)
            break;
        token t = next(P);
        next_list = k + 1;
        if (k == 0)
            m->v = mesh2_vectors(P, t.text, &m->nv);
        else if (k == 1)
            m->n = mesh2_vectors(P, t.text, &m->nn);
        else if (k == 2)
            mesh2_vectors(P, t.text, &m->nuv);
        else if (k == 3)
            mesh2_textures(P, m);
        else if (k == 4)
            m->face = mesh2_triples(P, t.text, m->nv, m, 1, &m->nfaces);
        else if (k == 5)
            m->nface = mesh2_triples(P, t.text, m->nn, m, 0, &m->nnfaces);
        else
            mesh2_triples(P, t.text, m->nuv, m, 0, &nuvf);
    }
    if (!m->face)
        perr(P, P->line, "mesh2 needs vertex_vectors and face_indices");
    if (m->nface && m->nnfaces != m->nfaces)
        perr(P, P->line, "mesh2: %zu normal_indices for %zu faces", m->nnfaces, m->nfaces);
    for (size_t i = 0; m->nn && !m->nface && i < m->nfaces; i++)
        for (int k = 0; k < 3; k++)
            if (m->face[i][k] >= m->nn)
                perr(P, P->line, "mesh2: vertex %u has no normal (%zu normal_vectors; give "
                     "normal_indices)", m->face[i][k], m->nn);
}

/* POV-Ray's Mesh_Degenerate */
static int mesh2_degenerate(vec3 a, vec3 b, vec3 c)
{
    return vlen(vcross(vsub(a, b), vsub(c, b))) < POV_EPSILON;
}

static void put_triangle(parser *P, prim *p, vec3 a, vec3 b, vec3 c, const vec3 *n)
{
    double d[18] = {a.x, a.y, a.z, b.x, b.y, b.z, c.x, c.y, c.z};
    memset(p, 0, sizeof *p);
    p->type = OBJ_TRIANGLE;
    if (n && !(n[0].x == n[1].x && n[0].y == n[1].y && n[0].z == n[1].z && n[0].x == n[2].x &&
               n[0].y == n[2].y && n[0].z == n[2].z)) { /* a smooth triangle */
        for (int k = 0; k < 3; k++) {
            vec3 u = vlen(n[k]) > 0.0 ? vnorm(n[k]) : v3(1, 0, 0); /* POV-Ray: <1,0,0> */
            d[9 + 3 * k] = u.x, d[10 + 3 * k] = u.y, d[11 + 3 * k] = u.z;
        }
        p->r = 1.0;
        prim_set_data(P, p, d, 18);
    } else {
        p->r = 0.0;
        prim_set_data(P, p, d, 9);
    }
}

/* mesh2 { lists MODIFIERS }: its faces as the triangles of a union (b, a CSG block). */
static void parse_mesh2_body(parser *P, objbuild *b)
{
    mesh2def m;
    memset(&m, 0, sizeof m);
    mesh2_lists(P, &m);
    for (size_t i = 0; i < m.nfaces; i++) {
        const uint32_t *f = m.face[i];
        vec3 a = m.v[f[0]], bb = m.v[f[1]], c = m.v[f[2]];
        if (mesh2_degenerate(a, bb, c))
            continue;
        const uint32_t *g = m.nface ? m.nface[i] : f;
        vec3 n[3] = {m.nn ? m.n[g[0]] : a, m.nn ? m.n[g[1]] : a, m.nn ? m.n[g[2]] : a};
        prim p;
        put_triangle(P, &p, a, bb, c, m.nn ? n : NULL);
        size_t at = b->l->n;
        uint32_t nd = plist_push_prim(P, b->l, &p);
        if (f[3] != UINT32_MAX)
            apply_texture(&b->l->v[at], &m.tex[f[3]]);
        csg_children_add(P, &b->kids, at, nd);
    }
}
