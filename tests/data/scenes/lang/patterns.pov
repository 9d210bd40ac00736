// POV-Ray's patterns with its noise: color_map, turbulence, waves, sky_sphere.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 3.5, -9> look_at <0, 0.8, 0> }
light_source { <-5, 9, -8> color rgb 1 }
sky_sphere { pigment { gradient y color_map { [0 rgb <0.9, 0.9, 1>] [1 rgb <0.1, 0.2, 0.7>] } } }
#declare Map = color_map { [0 rgb <0.1, 0.1, 0.3>] [0.4 rgb <0.9, 0.5, 0.1>] [0.7 rgb <1, 1, 0.8>] [1 rgb <0.2, 0.6, 0.2>] }
#declare Pats = array[12] {
  pigment { gradient <1, 1, 0> color_map { Map } scale 0.4 },
  pigment { bozo color_map { Map } scale 0.3 },
  pigment { bozo turbulence 0.6 octaves 4 omega 0.6 lambda 2.5 color_map { Map } scale 0.4 },
  pigment { marble turbulence 0.9 color_map { Map } scale 0.5 },
  pigment { wood turbulence 0.08 color_map { Map } scale 0.15 rotate <80, 10, 0> },
  pigment { granite color_map { Map } scale 0.8 },
  pigment { onion sine_wave frequency 2 color_map { Map } scale 0.5 },
  pigment { leopard color_map { Map } scale 0.08 },
  pigment { spotted noise_generator 1 color_map { Map } scale 0.3 },
  pigment { spherical scallop_wave color_map { Map } scale 0.6 },
  pigment { boxed cubic_wave phase 0.3 color_map { Map } scale 0.6 },
  pigment { cylindrical triangle_wave frequency 3 turbulence <0.2, 0.5, 0.1> color_map { Map } }
}
#for (I, 0, 11)
  sphere { 0, 0.6 pigment { Pats[I] } translate <-2.7 + mod(I, 4) * 1.8, 0.6 + div(I, 4) * 1.3, div(I, 4) * 0.8> }
#end
plane { y, 0 pigment { planar poly_wave 2 color_map { Map } scale 3 translate y * 0.5 } }
