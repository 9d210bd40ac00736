// trace(OBJECT, A, B, N): small spheres placed where rays from above and from the side
// meet a declared CSG object and a lathe (horizontal rays), cones along the normals; a
// ray that misses leaves N zero. A #local set from a macro whose value ends inside it.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 6, -12> look_at <0, 1.5, 0> angle 45 }
light_source { <-10, 20, -15>, rgb 1 }
plane { y, -0.01 pigment { rgb 0.7 } }
#declare Ground = difference {
    box { <-3, 0, -1>, <3, 1, 1> }
    cylinder { <0, 1, -1.1>, <0, 1, 1.1>, 0.8 }
}
#declare Vase = lathe { cubic_spline 7, <0, 0>, <0.2, 0>, <0.9, 0.5>, <0.5, 1.5>, <0.4, 2.5>,
                        <0.7, 3>, <0.8, 3.2> translate <2, 1, 0> }
object { Ground pigment { rgb <0.6, 0.5, 0.4> } }
object { Vase pigment { rgb <0.3, 0.5, 0.8> } }
#macro Hit(O, A, B)
    #local N = <0, 0, 0>;
    #local P = trace(O, A, B, N);
    #if (vlength(N) > 0)
        P;
    #else
        <0, -5, 0>;
    #end
#end
#declare X = -2.7;
#while (X < 0.6)
    #declare N = <0, 0, 0>;
    #declare P = trace(Ground, <X, 5, 0>, -y, N);
    sphere { P, 0.08 pigment { rgb <1, 0.2, 0.1> } }
    cone { P, 0.05, P + N * 0.6, 0 pigment { rgb <0.1, 0.9, 0.2> } }
    #declare X = X + 0.4;
#end
#declare Y = 1.2;
#while (Y < 4)
    #local Q = Hit(Vase, <-5, Y, 0>, <1, 0, 0>)
    sphere { Q, 0.07 pigment { rgb <1, 0.9, 0.1> } }
    #declare Y = Y + 0.35;
#end
#declare M = <1, 1, 1>;
#declare Miss = trace(Ground, <0, 5, 0>, y, M);
sphere { <-3.5, 2, 0> + Miss + M, 0.3 pigment { rgb <0.9, 0.9, 0.9> } }
