#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 2, -8> look_at <0, 0.5, 0> angle 50 }
light_source { <5, 8, -6> rgb 1 }
background { rgb <0.3, 0.5, 0.9> }
fog { fog_type 2 distance 3 color rgb <0.9, 0.9, 1> fog_offset 0.5 fog_alt 0.8 }
fog { distance 60 color rgbft <1, 0.8, 0.6, 0.3, 0.2> turbulence <0.3, 0.5, 0.2> octaves 4 omega 0.6 lambda 2.5 turb_depth 0.7 }
plane { y, -1 pigment { checker rgb 0.9 rgb 0.2 } }
sphere { <0, 0.5, 2>, 1.5 pigment { rgb <1, 0.3, 0.2> } finish { reflection 0.3 } }
sphere { <-3, 0, 8>, 1 pigment { rgb <0.2, 1, 0.3> } }
