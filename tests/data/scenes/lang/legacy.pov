// A pre-3.7 scene without assumed_gamma: POV-Ray 3.7 turns gamma correction off.
#version 3.6;
camera { location <0, 1, -4> look_at <0, 0.5, 0> }
light_source { <-3, 5, -4> color rgb 1 }
background { color rgbft <0.3, 0.5, 0.7, 0, 0> }
sphere { <0, 0.6, 0>, 0.6 pigment { color red 0.8 green 0.4 blue 0.2 } finish { specular 0.4 } }
box { <-2, -0.1, -1>, <2, 0, 2> pigment { rgb <0.5, 0.5, 0.5> * 1.2 - 0.1 } }
