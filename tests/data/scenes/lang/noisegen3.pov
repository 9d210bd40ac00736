// noise_generator 3 (issue 17): POV-Ray 3.7's Perlin solid noise, set globally and per
// pattern, through bozo, granite, wrinkles, turbulence and a bumps normal; generators 1 and
// 2 beside it for comparison.
#version 3.7;
global_settings { assumed_gamma 1.0 noise_generator 3 }
camera { location <0, 0, -7> look_at 0 angle 60 }
light_source { <-5, 6, -9> rgb 1 }
#declare M = color_map { [0 rgb <0.1, 0.2, 0.6>] [0.5 rgb <0.9, 0.9, 0.8>] [1 rgb <0.6, 0.2, 0.1>] }
box { <-3.4, 0.2, 0>, <-1.2, 2.2, 0.1> pigment { bozo color_map { M } scale 0.4 } }
box { <-1.1, 0.2, 0>, <1.1, 2.2, 0.1> pigment { granite color_map { M } scale 2 } }
box { <1.2, 0.2, 0>, <3.4, 2.2, 0.1> pigment { wrinkles color_map { M } scale 0.5 } }
box { <-3.4, -2.2, 0>, <-1.2, -0.2, 0.1>
  pigment { gradient x color_map { M } turbulence 0.8 octaves 4 scale 0.7 } }
box { <-1.1, -2.2, 0>, <1.1, -0.2, 0.1> pigment { bozo noise_generator 1 color_map { M } scale 0.4 } }
sphere { <2.3, -1.2, 0>, 1.05 pigment { rgb <0.8, 0.7, 0.5> } normal { bumps 0.8 scale 0.2 } }
