// warp { repeat } (issue 17): a pattern repeated along one axis, with offset and flip, between
// transforms given before and after it, as POV-Ray's warps.cpp applies it.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 0, -6> look_at 0 angle 60 }
light_source { <-5, 9, -7> rgb 1 }
#declare P = pigment { gradient x color_map { [0 rgb <1,0,0>] [0.5 rgb <0,1,0>] [1 rgb <0,0,1>] } scale 0.7 rotate 20*z }
plane { z, 2 pigment { P warp { repeat x*1.5 } translate <0.3, 0, 0> } }
sphere { <-1.5, 0, 0>, 1 pigment { P warp { repeat y*0.8 offset <0.2, 0, 0.3> } } }
sphere { <1.5, 0, 0>, 1 pigment { P scale 0.5 warp { repeat -x*0.6 flip <1, 1, 0> } scale 2 } }
box { <-1, -2.5, -1>, <1, -1.6, 1> pigment { agate scale 0.3 warp { repeat z*0.5 flip x offset y } } }
