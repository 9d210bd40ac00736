// orthographic camera, a shadowless light, no_shadow and hollow objects.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { orthographic location <0, 3, -6> look_at <0, 0.5, 0> angle 35 }
light_source { <-4, 6, -5> color rgb 0.8 shadowless }
light_source { <4, 6, -5> color rgb 0.6 }
plane { y, 0 pigment { checker rgb 0.9 rgb <0.3, 0.5, 0.3> } }
sphere { <-1, 0.7, 0>, 0.7 pigment { rgb <1, 0.4, 0.1> } no_shadow }
sphere { <1, 0.7, 0>, 0.7 pigment { rgb <0.1, 0.4, 1> } hollow }
