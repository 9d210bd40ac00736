// assumed_gamma other than 1: colours are in that gamma, the PNG is sRGB (POV-Ray 3.7).
#version 3.7;
global_settings { assumed_gamma 2.2 }
camera { location <0, 1, -4> look_at <0, 0.5, 0> }
light_source { <-3, 5, -4> color rgb 1 }
background { rgb <0.3, 0.5, 0.7> }
sphere { <0, 0.6, 0>, 0.6 pigment { srgb <0.8, 0.3, 0.2> } finish { phong 0.5 } }
box { <-2, -0.1, -1>, <2, 0, 2> pigment { rgb 0.5 } }
