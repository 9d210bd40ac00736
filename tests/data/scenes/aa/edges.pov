// Anti-aliasing test scene (issue 16): hard edges, a checker floor, highlights.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 2, -6> look_at <0, 0.6, 0> angle 50 }
light_source { <-5, 8, -6> color rgb 1 }
background { color rgb <0.2, 0.3, 0.5> }
plane { y, 0 pigment { checker color rgb 1 color rgb <0.1, 0.1, 0.1> } }
sphere { <-1.2, 1, 0>, 1 pigment { color rgb <0.9, 0.2, 0.1> } finish { phong 0.8 } }
box { <0.4, 0, -0.6>, <1.8, 1.4, 0.8> rotate y * 30 pigment { color rgb <0.2, 0.8, 0.3> } }
cylinder { <-2.5, 0, 1.5>, <2.5, 2.2, 1.5>, 0.05 pigment { color rgb <1, 1, 0.2> } }
