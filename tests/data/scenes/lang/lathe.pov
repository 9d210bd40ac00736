// lathe (issue 17): linear, quadratic, cubic and Bezier splines turned around y,
// transformed, and one in a difference (its inside test).
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 5, -11> look_at <0, 0.5, 0> angle 50 }
light_source { <-5, 10, -7> rgb 1 }
plane { y, -1 pigment { checker rgb 0.8 rgb 0.6 } }
lathe { linear_spline 5, <0, -1>, <1, -1>, <0.6, 0>, <1, 1.2>, <0, 1.2>
  pigment { rgb <0.9, 0.4, 0.2> } translate <-4, 0, 0> }
lathe { quadratic_spline 6, <0, -1.2>, <0.2, -1>, <1, -0.5>, <0.4, 0.5>, <0.8, 1.5>, <0, 1.6>
  pigment { rgb <0.3, 0.7, 0.3> } translate <-1.5, 0, 0> }
lathe { cubic_spline 7, <0, -1.5>, <0.1, -1>, <0.9, -0.8>, <0.5, 0.2>, <0.9, 1>, <0.1, 1.4>, <0, 2>
  pigment { rgb <0.9, 0.8, 0.2> } rotate 20 * z translate <1, 0, 0> }
lathe { bezier_spline 8, <0.2, -1>, <1.5, -1>, <0.2, 0>, <0.8, 0.5>, <0.8, 0.5>, <1.2, 1>, <0.4, 1.5>, <0.2, 1.5>
  pigment { rgb <0.7, 0.3, 0.8> } translate <3.8, 0, 0> }
difference {
  box { <-1.2, -1, 2>, <1.2, 1, 3> }
  lathe { linear_spline 4, <0, -2>, <0.6, -2>, <0.6, 2>, <0, 2> translate <0, 0, 2> }
  pigment { rgb <0.3, 0.5, 0.9> }
}
