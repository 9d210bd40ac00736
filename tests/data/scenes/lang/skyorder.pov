// A sky_sphere transform written before its pigment still moves the pigment (issue 17).
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 0, -4> look_at <0, 0, 0> angle 90 }
sky_sphere { rotate z*40 pigment { gradient y color_map { [0 rgb <0, 0, 0.3>] [1 rgb <1, 0.8, 0.2>] } scale 0.5 } translate y*0.1 }
