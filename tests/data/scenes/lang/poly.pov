#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 4, -7> look_at <0, 0, 0> angle 45 }
light_source { <5, 10, -8> rgb 1 }
plane { y, -1.2 pigment { checker rgb 0.9 rgb 0.3 } }
torus { 1, 0.3 pigment { rgb <1, 0.5, 0.2> } finish { phong 0.5 } translate <-2, 0, 0> }
torus { 0.8, 0.25 sturm pigment { rgb <0.2, 0.5, 1> } rotate x * 60 translate <0.5, 0.2, 1> scale <1, 1.3, 1> }
quartic {
  < 1, 0, 0, 0, 2, 0, 0, 2, 0, -2.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 0, 0, 2, 0, 1.5, 0, 0, 0, 0, 1, 0, -2.5, 0, 0.5625 >
  sturm
  pigment { rgb <0.3, 1, 0.3> }
  translate <2, 0, -1>
}
intersection {
  cubic { <1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0> }
  box { -1, 1 }
  pigment { rgb 1 }
  scale 0.6 translate <0.5, -0.5, -2>
}
poly { 2, <1, 0, 0, 0, 1, 0, 0, 1, 0, -0.25> pigment { rgb <1, 1, 0> } translate <-1, 1, -2> }
// bounded_by: a ray that misses the bound misses the object (POV-Ray tests it first)
torus { 0.6, 0.2
  bounded_by { box { <-1, -1, -1>, <1, 1, 0> } }
  pigment { rgb <1, 0.2, 0.4> }
  rotate x * -70 translate <1.5, 1.6, 0>
}
// an infinite object keeps its bound: only rays through the sphere see the hyperboloid
poly { 2, <1, 0, 0, 0, -1, 0, 0, 1, 0, -0.05>
  bounded_by { sphere { 0, 0.6 } }
  pigment { rgb <0.6, 0.3, 1> }
  translate <-2.3, 1.5, 0>
}
// quadric { <A, B, C>, <D, E, F>, <G, H, I>, J }
intersection { quadric { <1, -1, 1>, <0.2, 0, 0>, <0, 0.3, 0>, -0.2 } sphere { 0, 0.5 } pigment { rgb <0.2, 1, 1> } translate <0, 1.8, -1> }
