// superellipsoid (issue 17): rounded boxes, cylinders and stars of several exponents,
// transformed, and one in an intersection (POV-Ray's inside test: f < 0).
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 4, -10> look_at <0, 0.3, 0> angle 50 }
light_source { <-5, 9, -7> rgb 1 }
plane { y, -1 pigment { checker rgb 0.8 rgb 0.6 } }
superellipsoid { <0.25, 0.25> pigment { rgb <0.9, 0.4, 0.2> } finish { phong 0.6 } translate <-3, 0, 0> }
superellipsoid { <1, 0.2> pigment { rgb <0.3, 0.7, 0.3> } rotate <-30, 20, 0> translate <-0.8, 0.2, 0> }
superellipsoid { <2.5, 2.5> pigment { rgb <0.9, 0.8, 0.2> } scale <1, 1.3, 1> translate <1.4, 0.3, 0> }
intersection {
  superellipsoid { <0.5, 1> }
  sphere { <0, 1, 0>, 1.3 }
  pigment { rgb <0.3, 0.5, 0.9> }
  rotate 40 * y translate <3.4, 0, 0>
}
