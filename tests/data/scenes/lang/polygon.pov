// polygon (issue 17): 2D and 3D points, a square with a hole, a star (even-odd), an outline
// left open (POV-Ray closes it), tilted and transformed polygons.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 4, -10> look_at <0, 0.3, 0> angle 50 }
light_source { <-5, 9, -7> rgb 1 }
plane { y, -1 pigment { checker rgb 0.8 rgb 0.6 } }
polygon { 10, <-1, -1>, <1, -1>, <1, 1>, <-1, 1>, <-1, -1>,
  <-0.5, -0.5>, <0.5, -0.5>, <0.5, 0.5>, <-0.5, 0.5>, <-0.5, -0.5>
  pigment { rgb <0.9, 0.4, 0.2> } finish { phong 0.6 } rotate <-20, 30, 0> translate <-3, 0.3, 0> }
polygon { 6, <0, 1.2>, <0.7, -1>, <-1.1, 0.4>, <1.1, 0.4>, <-0.7, -1>, <0, 1.2>
  pigment { rgb <0.3, 0.7, 0.3> } rotate <10, -20, 0> translate <-0.6, 0.4, 0> }
polygon { 4, <0, -1, 0>, <1, 0, 1>, <0, 1, 1.5>, <-1, 0, 0.5>
  pigment { rgb <0.9, 0.8, 0.2> } translate <1.6, 0.3, 0> }
polygon { 5, <-1, -0.5, -1>, <1, -0.5, -1>, <1.2, -0.5, 1>, <0, -0.5, 1.5>, <-1, -0.5, 1>
  pigment { rgb <0.6, 0.3, 0.8> } scale <1, 1, 0.8> translate <3.6, -0.3, 0> }
