// POV-Ray's own normals of waves, ripples (number_of_waves) and quilted.
#version 3.7;
global_settings { assumed_gamma 1.0 number_of_waves 5 }
camera { location <0, 3.5, -9> look_at <0, 0.8, 0> }
light_source { <-5, 9, -8> color rgb 1 }
background { rgb <0.2, 0.3, 0.5> }
sphere { <-2.5, 1, 0>, 1 pigment { rgb <1, 0.8, 0.6> } normal { waves 0.6 frequency 3 scale 0.3 } finish { phong 0.6 } }
sphere { <0, 1, 0>, 1 pigment { rgb <0.6, 0.8, 1> } normal { ripples 0.8 scale 0.2 turbulence 0.2 } finish { phong 0.6 } }
sphere { <2.5, 1, 0>, 1 pigment { rgb <0.8, 1, 0.6> } normal { quilted 0.7 control0 0.2 control1 0.8 scale 0.25 } finish { phong 0.6 } }
plane { y, 0 pigment { rgb 0.7 } normal { ripples 0.5 phase 0.3 scale 0.5 } }
