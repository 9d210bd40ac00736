#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 2, -6> look_at <0, 0.3, 0> angle 45 }
light_source { <5, 8, -6> rgb 1 }
// a pattern's turbulence warps the point once before the four slope samples
plane { y, -1 pigment { rgb 0.8 } normal { bozo 0.8 turbulence 0.6 scale 0.3 } }
sphere { <-1, 0.2, 0>, 1 pigment { rgb <1, 0.5, 0.3> } normal { spotted 0.6 turbulence <0.3, 0.5, 0.2> octaves 3 scale 0.2 } finish { phong 0.7 } }
sphere { <1.3, 0.2, 0>, 0.9 pigment { rgb <0.3, 0.6, 1> } normal { granite 0.4 turbulence 0.2 scale 2 } }
