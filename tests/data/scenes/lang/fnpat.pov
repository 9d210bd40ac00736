// function patterns (issue 16): `pigment { function { } }` with a colour map, a pattern
// function and a pigment function used inside other functions, a function made by a macro
// from its parameters (as math.inc's fn_Gradient), pigment_pattern, and functions.inc's
// internal functions (f_sphere, f_rounded_box, f_torus, f_noise3d) in isosurfaces.
#version 3.7;
#include "functions.inc"
global_settings { assumed_gamma 1 }
camera { location <0, 4, -10> look_at <0, 0.3, 0> angle 52 }
light_source { <-5, 9, -7> rgb 1 }
#declare Ring = function { sin(6 * sqrt(x*x + z*z)) * 0.5 + 0.5 }
#macro Stretched(F, S) function { F(x * S, y, z) } #end
#declare Ring2 = Stretched(Ring, 0.5)
plane { y, -1 pigment { function { Ring2(x, y, z) } color_map { [0 rgb <0.2, 0.3, 0.6>] [1 rgb 0.9] } } }
#declare Pat = function { pattern { agate } }
#declare Pig = function { pigment { checker rgb <1, 0, 0> rgb <0, 0, 1> scale 0.5 } }
sphere { 0, 1 pigment { function { Pat(x, y, z) * 0.7 + Pig(x, y, z).red * 0.3 }
  color_map { [0 rgb <0.9, 0.7, 0.2>] [1 rgb <0.2, 0.5, 0.1>] } } translate <-3, 0.2, 0> }
isosurface { function { f_rounded_box(x, y, z, 0.3, 0.8, 0.6, 0.8) + 0.05 * f_noise3d(4 * x, 4 * y, 4 * z) }
  contained_by { box { -1, 1 } } max_gradient 2
  pigment { function { abs(Pig(x, y, z).gray - 0.3) } } rotate 20 * y translate <-0.7, 0, 0> }
isosurface { function { f_torus(x, y, z, 0.8, 0.25) } contained_by { box { <-1.1, -0.3, -1.1>, <1.1, 0.3, 1.1> } }
  pigment { pigment_pattern { checker rgb 1 rgb 0.2 scale 0.25 } color_map { [0 rgb <0.3, 0.8, 0.4>] [1 rgb <0.1, 0.2, 0.6>] } }
  rotate -50 * x translate <1.5, 0.4, 0> }
isosurface { function { f_sphere(x, y, z, 0.7) - f_noise3d(2 * x, 2 * y, 2 * z) * 0.3 }
  contained_by { sphere { 0, 1 } } pigment { rgb <0.8, 0.4, 0.7> } translate <3.5, 0, 0.5> }
