// julia and magnet patterns (issue 17): julia of exponents 2 to 4, magnet 1 and 2 of both
// kinds (mandel and julia), with interior and exterior colourings, as POV-Ray's pattern.cpp.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { orthographic location <0, 0, -5> look_at 0 right 6*x up 4.5*y }
#default { finish { ambient 1 diffuse 0 } }
#declare M = color_map { [0 rgb 0] [0.25 rgb <0.2, 0.3, 1>] [0.5 rgb <0.1, 0.8, 1>] [1 rgb 1] }
box { <-3, 0.75, 0>, <-1, 2.25, 0.1> pigment { julia <0.3, 0.44>, 30 interior 1, 1 color_map { M } scale 0.6 translate <-2, 1.5, 0> } }
box { <-1, 0.75, 0>, <1, 2.25, 0.1> pigment { julia <-0.5, 0.5>, 20 exponent 3 exterior 2, 0.5 color_map { M } scale 0.6 translate <0, 1.5, 0> } }
box { <1, 0.75, 0>, <3, 2.25, 0.1> pigment { julia <0.2, 0.6>, 15 exponent 4 exterior 6, 0.3 color_map { M } scale 0.6 translate <2, 1.5, 0> } }
box { <-3, -0.75, 0>, <-1, 0.75, 0.1> pigment { magnet 1 mandel 40 interior 1, 20 exterior 5, 1 color_map { M } scale 0.7 translate <-1, 0, 0> } }
box { <-1, -0.75, 0>, <1, 0.75, 0.1> pigment { magnet 1 julia <1.2, 0.4>, 30 exterior 1, 1 color_map { M } scale 0.5 } }
box { <1, -0.75, 0>, <3, 0.75, 0.1> pigment { magnet 2 mandel 40 interior 1, 200 color_map { M } scale 0.8 translate <2, 0, 0> } }
box { <-3, -2.25, 0>, <3, -0.75, 0.1> pigment { magnet 2 julia <1.3, -0.5>, 25 exterior 3, 0.8 color_map { M } scale 0.6 translate <0, -1.5, 0> } }
