// spherical camera: angle 270 across, 120 up and down (the second angle)
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { spherical location <0, 1.5, -3> look_at <0, 0.5, 0> angle 270, 120 }
background { rgb <0.2, 0.3, 0.5> }
light_source { <5, 10, -10> rgb 1 }
plane { y, 0 pigment { checker rgb 1 rgb <0.1, 0.5, 0.1> } }
sphere { <0, 1, 0>, 1 pigment { rgb <0.9, 0.2, 0.1> } finish { phong 0.5 } }
box { <-3, 0, 2>, <-2, 2, 3> pigment { rgb <0.2, 0.2, 0.9> } }
sphere { <2.5, 0.5, -1>, 0.5 pigment { rgb <1, 1, 0.2> } }
