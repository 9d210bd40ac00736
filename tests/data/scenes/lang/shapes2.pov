// radial, spiral1, spiral2, quilted, hexagon, brick, mandel, waves, ripples, wrinkles, bumps, dents
// (pigments; hexagon and brick with colours, pigments or their default maps).
#version 3.7;
global_settings { assumed_gamma 1.0 number_of_waves 7 }
camera { location <0, 3.5, -9> look_at <0, 0.8, 0> }
light_source { <-5, 9, -8> color rgb 1 }
background { rgb <0.2, 0.3, 0.5> }
#declare Map = color_map { [0 rgb <0.1, 0.1, 0.3>] [0.4 rgb <0.9, 0.5, 0.1>] [0.7 rgb <1, 1, 0.8>] [1 rgb <0.2, 0.6, 0.2>] }
#declare Pats = array[16] {
  pigment { radial frequency 6 rotate x * 70 },
  pigment { spiral1 3 color_map { Map } scale 0.3 },
  pigment { spiral2 5 turbulence 0.2 color_map { Map } scale 0.2 rotate y * 30 },
  pigment { quilted control0 0.3 control1 0.9 color_map { Map } scale 0.3 },
  pigment { hexagon scale 0.15 rotate x * -60 },
  pigment { hexagon rgb 1, rgb <1, 0, 0> rgb <0, 0, 1> scale 0.1 rotate <-50, 20, 0> },
  pigment { brick rgb 0.8, rgb <0.6, 0.2, 0.1> brick_size <0.4, 0.15, 0.3> mortar 0.03 },
  pigment { mandel 30 scale 0.5 translate x * -0.5 },
  pigment { mandel 20 exponent 3 exterior 2, 0.5 interior 1, 1 color_map { Map } scale 0.6 },
  pigment { waves color_map { Map } scale 0.3 },
  pigment { ripples frequency 2 color_map { Map } scale 0.4 },
  pigment { wrinkles color_map { Map } scale 0.5 },
  pigment { bumps scale 0.2 },
  pigment { dents color_map { Map } scale 0.3 },
  pigment { hexagon pigment { bozo scale 0.1 } pigment { rgb <1, 1, 0> } pigment { crackle scale 0.1 } scale 0.3 rotate x * -80 },
  pigment { brick brick_size 0.3 mortar 0.05 scale 0.5 }
}
#for (I, 0, 15)
  sphere { 0, 0.55 pigment { Pats[I] } translate <-2.7 + mod(I, 4) * 1.8, 0.6 + div(I, 4) * 1.1, div(I, 4) * 0.9> }
#end
plane { y, 0 pigment { brick scale 0.1 } normal { radial 0.5 frequency 8 } }
