// julia_fractal (issue 17): quaternion sqr and cube, hypercomplex sqr, a slice, max_iteration
// and precision, transforms, and a julia fractal cut by a box (its inside test).
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 0, -7> look_at 0 angle 55 }
light_source { <-4, 6, -8> rgb 1 }
background { rgb <0.2, 0.25, 0.3> }
julia_fractal { <-0.083, 0.0, -0.83, -0.025> quaternion sqr max_iteration 8 precision 20
  pigment { rgb <0.9, 0.6, 0.4> } finish { phong 0.5 } translate <-1.8, 1.1, 0> }
julia_fractal { <-0.2, 0.6, 0.2, 0.2> quaternion cube max_iteration 6 precision 20
  pigment { rgb <0.5, 0.8, 0.5> } rotate <20, 30, 0> translate <1.8, 1.1, 0> }
julia_fractal { <-0.745, 0, 0.113, 0.05> hypercomplex max_iteration 9 precision 20
  slice <0, 0, 0.2, 1>, 0.1
  pigment { rgb <0.6, 0.6, 0.9> } scale <1, 1.4, 1> translate <-1.8, -1.3, 0> }
intersection {
  julia_fractal { <0.2, 0.1, 0.59, -0.2> quaternion sqr max_iteration 7 precision 20 }
  box { <-2, -2, -0.1>, <2, 2, 2> }
  pigment { rgb <0.9, 0.8, 0.4> } rotate -30*y translate <1.8, -1.3, 0> }
