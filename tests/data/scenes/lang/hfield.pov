// height_field (issue 17): heights from a 16-bit grey PNG, an 8-bit grey one, an 8-bit
// colour one (red the high byte, green the low) and a palette (index times 256); smooth
// normals under a non-uniform scale; water_level; a float function and a pigment function;
// a height field in CSG (its inside test).
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 7, -9> look_at <0, 0, 0.5> angle 62 }
light_source { <-6, 12, -8> rgb 1 }
light_source { <8, 6, -4> rgb 0.35 shadowless }
background { rgb <0.3, 0.4, 0.6> }
plane { y, -0.01 pigment { checker rgb 0.9 rgb 0.6 } }

height_field { png "img/grey16.png" smooth
  pigment { rgb <0.9, 0.6, 0.3> } translate <-0.5, 0, -0.5> scale <3, 1.2, 2.5> translate <-3.6, 0, 2> }
height_field { png "img/grey8.png"
  pigment { rgb <0.4, 0.8, 0.5> } translate <-0.5, 0, -0.5> scale <3, 0.8, 2.5> translate <0, 0, 2> }
height_field { png "img/rgb8.png" water_level 0.2
  pigment { rgb <0.6, 0.6, 0.9> } translate <-0.5, 0, -0.5> scale <3, 1, 2.5> translate <3.6, 0, 2> }
height_field { function 40, 30 { 0.5 + 0.4 * sin(x * 9) * cos(y * 7) } smooth
  pigment { rgb <0.9, 0.9, 0.5> } translate <-0.5, 0, -0.5> scale <3, 1, 2> translate <-3.6, 0, -1.2> }
height_field { function 33, 33 { pigment { bozo scale 0.2 color_map { [0 rgb 0] [1 rgb 1] } } }
  pigment { rgb <0.9, 0.5, 0.8> } translate <-0.5, 0, -0.5> scale <2.5, 0.7, 2> translate <0, 0, -1.2> }
difference {
  box { <-1, 0, -1>, <1, 0.9, 1> }
  height_field { png "img/pal4.png" smooth scale <2.2, 60, 2.2> translate <-1.1, -0.05, -1.1> }
  pigment { rgb <0.8, 0.3, 0.3> } scale <1.3, 1, 1> translate <3.6, 0, -1.2> }
