#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 2, -6> look_at <0, 0.3, 0> angle 45 }
light_source { <5, 8, -6> rgb 1 }
plane { y, -1 pigment { checker rgb 0.9 rgb 0.3 } }
sphere { <-1.5, 0, 0>, 1 pigment { rgbf <1, 0.5, 0.2, 0.6> } finish { phong 0.8 } }
sphere { <1.5, 0, 0>, 1 pigment { rgbt <0.2, 0.5, 1, 0.5> } }
box { <-0.5, -1, 1>, <0.5, 1.5, 2> pigment { gradient y color_map { [0 rgbf <1, 1, 1, 1>] [1 rgbt <1, 0, 0, 0.3>] } } }
