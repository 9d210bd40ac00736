// sor (issue 17): a closed vase, an open glass, a transformed one and one cut by a box
// (POV-Ray's inside test), with a base and cap disc.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 4, -10> look_at <0, 0.5, 0> angle 50 }
light_source { <-5, 9, -7> rgb 1 }
plane { y, -1 pigment { checker rgb 0.8 rgb 0.6 } }
sor { 7, <0, -0.2>, <0.6, 0>, <1, 0.5>, <0.4, 1.2>, <0.5, 1.8>, <0.7, 2>, <0.8, 2.2>
  pigment { rgb <0.9, 0.4, 0.2> } finish { phong 0.6 } translate <-3, -1, 0> }
sor { 6, <0, 0>, <0.2, 0>, <0.8, 0.6>, <0.5, 1.4>, <0.9, 2>, <1, 2.2> open
  pigment { rgb <0.3, 0.7, 0.3> } translate <-0.8, -1, 0> }
sor { 5, <0.3, -1>, <0.5, 0>, <0.9, 1>, <0.3, 2>, <0.2, 3>
  pigment { rgb <0.9, 0.8, 0.2> } rotate <0, 0, 30> scale 0.8 translate <1.4, -0.5, 0> }
difference {
  sor { 6, <0, -0.5>, <1, 0>, <1.2, 0.8>, <0.6, 1.4>, <0.3, 2>, <0, 2.5> }
  box { <-2, 1, -2>, <0, 3, 0> }
  pigment { rgb <0.6, 0.3, 0.8> } rotate 30 * y translate <3.5, -1, 0.5>
}
