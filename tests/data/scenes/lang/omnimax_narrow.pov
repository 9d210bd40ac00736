// The omnimax camera (issue 16) with right x * 1.2 up y.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { omnimax location <0, 1, -3> right x * 1.2 up y look_at <0, 1.2, 0> }
light_source { <-5, 8, -6> color rgb 1 }
background { color rgb <0.2, 0.3, 0.5> }
plane { y, 0 pigment { checker color rgb 1 color rgb <0.1, 0.1, 0.1> } }
sphere { <-1.2, 1, 0>, 1 pigment { color rgb <0.9, 0.2, 0.1> } finish { phong 0.8 } }
box { <0.4, 0, -0.6>, <1.8, 1.4, 0.8> rotate y * 30 pigment { color rgb <0.2, 0.8, 0.3> } }
