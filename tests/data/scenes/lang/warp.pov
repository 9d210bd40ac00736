// warp { turbulence } between a pattern's transforms (crackle, gradient, bozo with a pigment_map, onion).
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 3.5, -9> look_at <0, 0.8, 0> }
light_source { <-5, 9, -8> color rgb 1 }
background { rgb <0.2, 0.3, 0.5> }
sphere { <-2.5, 1, 0>, 1 pigment { crackle scale 0.5 warp { turbulence 0.6 } color_map { [0 rgb 0] [0.05 rgb 1] } } }
sphere { <0, 1, 0>, 1 pigment { gradient x warp { turbulence <0.5, 0.2, 0.1> octaves 3 omega 0.6 lambda 2.5 } scale 0.3 rotate y * 30 } }
sphere { <2.5, 1, 0>, 1 pigment { bozo scale 0.2 warp { turbulence 0.4 } translate x turbulence 0.2 pigment_map { [0.3 rgb <1, 0, 0>] [0.7 checker rgb 1 rgb 0 scale 0.2] } } }
plane { y, 0 pigment { onion warp { turbulence 0.3 } scale 0.5 } }
