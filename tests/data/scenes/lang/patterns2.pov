// agate, crackle (form, metric, offset, solid), cells and POV-Ray's default colour maps.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 3.5, -9> look_at <0, 0.8, 0> }
light_source { <-5, 9, -8> color rgb 1 }
background { rgb <0.2, 0.3, 0.5> }
#declare Map = color_map { [0 rgb <0.1, 0.1, 0.3>] [0.4 rgb <0.9, 0.5, 0.1>] [0.7 rgb <1, 1, 0.8>] [1 rgb <0.2, 0.6, 0.2>] }
#declare Pats = array[12] {
  pigment { agate color_map { Map } scale 0.5 },
  pigment { agate agate_turb 0.5 turbulence 0.3 octaves 3 },
  pigment { crackle color_map { Map } scale 0.4 },
  pigment { crackle form <1, 0, 0> metric 1 scale 0.3 },
  pigment { crackle form <0.5, 0.5, 0> metric 3 offset 0.2 color_map { Map } scale 0.3 },
  pigment { crackle solid scale 0.3 },
  pigment { cells scale 0.2 },
  pigment { cells color_map { Map } scale 0.25 turbulence 0.3 },
  pigment { bozo scale 0.3 },
  pigment { marble turbulence 0.8 },
  pigment { wood scale 0.2 },
  pigment { crackle turbulence 0.4 color_map { Map } scale 0.5 }
}
#for (I, 0, 11)
  sphere { 0, 0.6 pigment { Pats[I] } translate <-2.7 + mod(I, 4) * 1.8, 0.6 + div(I, 4) * 1.3, div(I, 4) * 0.8> }
#end
plane { y, 0 pigment { crackle form <-1, 1, 0> color_map { [0 rgb 0.1] [0.05 rgb 1] } scale 0.7 } }
