// prism (issue 17): linear, quadratic, cubic and Bezier splines, linear and conic sweeps, an
// open one, a curve of two sub-curves (a hole), and one in a difference (its inside test).
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 6, -11> look_at <0, 0, 0> angle 50 }
light_source { <-5, 10, -7> rgb 1 }
plane { y, -1 pigment { checker rgb 0.8 rgb 0.6 } }
prism { linear_sweep linear_spline -1, 0.5, 10,
  <0, 0>, <1, 0>, <1, 1>, <0, 1>, <0, 0>, <0.3, 0.3>, <0.7, 0.3>, <0.7, 0.7>, <0.3, 0.7>, <0.3, 0.3>
  pigment { rgb <0.9, 0.4, 0.2> } scale 1.5 translate <-4, 0, -1> }
prism { quadratic_spline -1, 0, 6, <0, -1>, <1, 0>, <0, 1>, <-1, 0>, <0, -1>, <1, 0>
  pigment { rgb <0.3, 0.7, 0.3> } translate <-1, 0, 0> }
prism { conic_sweep cubic_spline 0, 1, 7, <0, 1>, <1, 0>, <0, -1>, <-1, 0>, <0, 1>, <1, 0>, <0, -1>
  pigment { rgb <0.9, 0.8, 0.2> } rotate 180 * x translate <1.5, 0, 0> scale <1, 1.5, 1> }
prism { bezier_spline -1, 0.8, 8, <0, 0>, <0, 1>, <1, 1>, <1, 0>, <1, 0>, <1, -1>, <0, -1>, <0, 0>
  open pigment { rgb <0.7, 0.3, 0.8> } translate <3.5, 0, 0> }
difference {
  box { <-1, -1, 2>, <1, 0.6, 3> }
  prism { linear_spline -2, 2, 4, <0, 0>, <0.8, 0>, <0.4, 0.8>, <0, 0> rotate 90 * x translate <-0.4, -0.2, 2> }
  pigment { rgb <0.3, 0.5, 0.9> }
}
