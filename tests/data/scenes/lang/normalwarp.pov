// warps in normals (issue 17): turbulence and repeat warps on a normal's pattern, between its
// transforms, as POV-Ray's Warp_EPoint moves the point and Warp_Normal turns the normal.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 3, -7> look_at <0, 0.3, 0> angle 50 }
light_source { <-5, 9, -7> rgb 1 }
plane { y, -1 pigment { rgb 0.8 } normal { quilted 0.6 scale 0.25 warp { turbulence 0.3 octaves 2 } rotate 10*y } }
sphere { <-1.5, 0.3, 0>, 1 pigment { rgb <0.9, 0.5, 0.3> } finish { phong 0.8 } normal { gradient x 1 scale 0.3 warp { repeat y*0.5 flip x } rotate 30*z } }
sphere { <1.5, 0.3, 0>, 1 pigment { rgb <0.3, 0.6, 0.9> } finish { phong 0.8 } normal { bumps 0.8 scale 0.2 warp { turbulence <0.5, 0.2, 0.1> } scale <1, 2, 1> } }
