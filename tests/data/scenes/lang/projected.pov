// projected_through (issue 17): a light reaches a point only through its object, shadowed by
// what lies before it (not by the object itself, drawn or not); a declared object, one
// written in place and moved by the light's transform, an area light and a shadowless one
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 3, -8> look_at <0, 1, 0> }
plane { y, 0 pigment { rgb 0.9 } }
plane { z, 2 pigment { rgb <0.5, 0.6, 0.8> } }
#declare Mask = union { torus { 0.8, 0.15 rotate x * 90 } box { <-0.2, -0.6, -0.1>, <0.2, 0.6, 0.1> } }
object { Mask translate <-1.5, 2, -2> pigment { rgb <1, 0.8, 0> } }
light_source { <-1.5, 2, -6> rgb 1.5 projected_through { Mask translate <-1.5, 2, -2> } }
light_source { <0, 0, 0> rgb <0.3, 0.9, 0.3>
               projected_through { sphere { <0, 0, 1.5>, 0.5 } } translate <1.5, 1.5, -6> }
light_source { <3, 5, -5> rgb <0.6, 0.3, 0.3> area_light <1, 0, 0>, <0, 1, 0>, 3, 3
               projected_through { box { <1.5, 2.5, -3>, <2.5, 3.5, -2.9> } } }
light_source { <-3, 1, -5> rgb 0.4 shadowless
               projected_through { cylinder { <-3, 0.5, -4>, <-3, 1.5, -4>, 0.4 } } }
sphere { <1.5, 0.6, 0>, 0.5 pigment { rgb <1, 0.3, 0.2> } }
box { <-2.2, 0, 0.5>, <-1.8, 1.8, 0.8> pigment { rgb 1 } }
light_source { <0, 8, -4> rgb 0.3 }
