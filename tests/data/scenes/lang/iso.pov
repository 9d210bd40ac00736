// isosurface (issues 16 and 17): functions of x, y, z with user functions, parameters,
// declared numbers and the float functions; box and sphere containers, an open one, a
// threshold, max_trace, and one inside a CSG difference.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 4, -10> look_at <0, 0.3, 0> angle 52 }
light_source { <-5, 9, -7> rgb 1 }
plane { y, -1 pigment { checker rgb 0.8 rgb 0.6 } }
#declare R = 0.9;
#declare Sph = function(x, y, z, r) { sqrt(x*x + y*y + z*z) - r }
#declare Tor = function { sqrt(pow(sqrt(x*x + z*z) - 0.8, 2) + y*y) - 0.3 }
isosurface { function { Sph(x, y, z, R) + 0.1 * sin(6 * x) * cos(6 * y) }
  contained_by { box { -1.2, 1.2 } } max_gradient 2.5
  pigment { rgb <0.9, 0.4, 0.2> } finish { phong 0.5 } translate <-3, 0.2, 0> }
isosurface { function { Tor(x, y, z) } contained_by { sphere { 0, 1.3 } } accuracy 0.0005
  pigment { rgb <0.3, 0.7, 0.3> } rotate <-60, 0, 0> translate <-0.6, 0.3, 0> }
isosurface { function { abs(x) + abs(y) + abs(z) - 1 } threshold 0.1 open
  contained_by { box { <-1, -1, -1>, <1, 0.4, 1> } }
  pigment { rgb <0.9, 0.8, 0.2> } rotate <0, 30, 0> translate <1.6, 0, 0> }
difference {
  isosurface { function { max(abs(x) - 0.8, max(abs(y) - 0.8, abs(z) - 0.8)) - 0.2 * select(x, 0, x) }
    max_trace 4 contained_by { box { -1, 1 } } }
  sphere { <0, 0.8, -0.8>, 0.7 }
  pigment { rgb <0.6, 0.3, 0.8> } rotate 30 * y translate <3.6, 0, 0.8>
}
