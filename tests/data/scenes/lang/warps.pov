// warp { } (issue 17): black_hole (falloff, strength, inverse, repeat, turbulence), the
// mapping warps planar, spherical, cylindrical (orientation, dist_exp), toroidal
// (major_radius) and cubic, several warps in one pattern with transforms between them, and
// a warp in a normal.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 0, -10> look_at 0 angle 60 }
light_source { <-5, 5, -10> rgb 1 }
#declare M = color_map { [0 rgb <0.1, 0.2, 0.5>] [0.5 rgb 1] [1 rgb <0.6, 0.2, 0.1>] }
#declare F = finish { ambient 0.5 diffuse 0.6 }
box { <-5, 1.1, 0>, <-1.8, 3.6, 0.1> finish { F }
  pigment { gradient x color_map { M } scale 0.3
    warp { black_hole <0, 0, 0>, 0.3 falloff 3 strength 0.75 inverse repeat <1.2, 1.1, 0>
           turbulence <0.3, 0.2, 0> }
    warp { black_hole <-3.4, 2.3, 0>, 0.8 falloff 2 strength 1.5 } } }
box { <-1.6, 1.1, 0>, <1.6, 3.6, 0.1> finish { F }
  pigment { brick rgb 1 rgb 0 scale 0.05 warp { planar z, 0.3 } rotate 20*z } }
sphere { <3.3, 2.3, 0>, 1.3 finish { F }
  pigment { hexagon rgb 1 rgb <0.2, 0.4, 0.8> rgb 0.5 scale <0.05, 0.1, 1> rotate 90*x warp { spherical } } }
cylinder { <-3.4, -3.5, 0>, <-3.4, 0.6, 0>, 1.1 finish { F }
  pigment { gradient x color_map { M } scale 0.1
    warp { cylindrical orientation y dist_exp 1 } translate <-3.4, 0, 0> } }
torus { 1.0, 0.45 rotate -80*x translate <0, -1.5, 0> finish { F }
  pigment { gradient y color_map { M } scale <0.1, 0.1, 1>
    warp { toroidal major_radius 1.0 } rotate -80*x translate <0, -1.5, 0> } }
box { <1.8, -3.5, 0>, <5, 0.6, 0.1> finish { F }
  pigment { brick rgb 1 rgb <0.7, 0.3, 0.2> scale 0.08
    warp { repeat x * 0.5 flip x } rotate 10*z warp { repeat y * 0.7 offset <0.2, 0, 0> }
    warp { cubic } translate <0.3, 0.1, 0> }
  normal { bumps 0.6 scale 0.2 warp { turbulence 0.5 } warp { black_hole <3.4, -1.5, 0>, 1 } } }
