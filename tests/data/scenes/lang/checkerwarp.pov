// A plain checker with turbulence and warps (issue 17): it becomes the checker pattern with
// a colour map of its two colours, so warps move it as POV-Ray moves it.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 0, -6> look_at 0 }
light_source { <-3, 5, -8> rgb 1 }
box { <-2.8, 0.2, 0>, <-0.2, 2.2, 0.1> pigment { checker rgb 1 rgb <0.8, 0.2, 0.1> scale 0.3 turbulence 0.4 } }
box { <0.2, 0.2, 0>, <2.8, 2.2, 0.1> pigment { checker rgb <0.2, 0.3, 0.9> rgbt <1, 1, 0, 0.5> scale 0.25 warp { black_hole <1.5, 1.2, 0>, 0.8 strength 1.5 } } }
box { <-2.8, -2.2, 0>, <-0.2, -0.2, 0.1> pigment { checker scale 0.2 rotate 30*z warp { turbulence 0.3 } warp { repeat x*0.7 } } }
sphere { <1.5, -1.2, 0>, 1 pigment { checker rgb 1 rgb 0 scale <0.1, 0.2, 1> warp { spherical } } }
