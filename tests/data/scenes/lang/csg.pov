#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 3, -6> look_at <0, 0.5, 0> angle 45 }
light_source { <5, 10, -8> rgb 1 }
light_source { <-6, 4, -3> rgb 0.4 }
plane { y, -1 pigment { checker rgb 0.9 rgb 0.3 } }
difference {
  box { -1, 1 }
  sphere { 0, 1.3 }
  pigment { rgb <1, 0.4, 0.2> }
  translate <-2.2, 0, 1>
}
intersection {
  sphere { 0, 1 }
  cylinder { <0, 0, -2>, <0, 0, 2>, 0.6 inverse }
  plane { y, 0.5 }
  pigment { rgb <0.2, 0.7, 1> }
  finish { phong 0.6 }
}
merge {
  sphere { <-0.5, 0, 0>, 0.7 }
  sphere { <0.5, 0, 0>, 0.7 }
  pigment { rgb <0.3, 1, 0.3> }
  rotate y * 30
  translate <2.2, 0, 1>
}
sphere { <0, 2, 2>, 1 clipped_by { box { <-2, 1.6, 0>, <2, 4, 4> } } pigment { rgb 1 } }
difference {
  cylinder { <0,-1,0>, <0,0,0>, 0.5 }
  cone { <0,-1.1,0>, 0.1, <0, 0.1, 0>, 0.4 }
  translate <-1, 0, -1.5>
  pigment { rgb <1, 1, 0> }
  no_shadow
}
sphere { <1, -0.6, -1.8>, 0.4 no_image pigment { rgb 1 } }
