#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 2, -7> look_at <0, 0.3, 0> angle 45 }
light_source { <5, 8, -6> rgb 1 }
#declare Wr = normal { wrinkles 0.8 scale 0.3 }
plane { y, -1 pigment { rgb 0.8 } normal { bozo 0.6 scale 0.5 } }
sphere { <-2, 0, 0>, 0.9 pigment { rgb <1, 0.4, 0.2> } normal { dents 1.2 scale 0.25 } }
sphere { <0, 0, 0>, 0.9 texture { pigment { rgb <0.3, 0.6, 1> } normal { Wr } finish { phong 0.8 } } }
box { -0.8, 0.8 pigment { rgb <0.4, 1, 0.4> } normal { gradient x 0.5 scale 0.3 } rotate y * 30 translate <2, 0, 0> }
sphere { <1, 0, -2>, 0.5 pigment { rgb 1 } normal { marble 0.8 turbulence 0.5 scale 0.4 } finish { specular 0.5 } }
sphere { <-1, 0.2, -2>, 0.5 pigment { rgb 1 } normal { granite 0.4 accuracy 0.05 } }
