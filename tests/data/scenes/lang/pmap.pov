// pigment_map and average: nested pigments, their transforms, weights.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 3.5, -9> look_at <0, 0.8, 0> }
light_source { <-5, 9, -8> color rgb 1 }
background { rgb <0.2, 0.3, 0.5> }
#declare P1 = pigment { checker rgb <1, 0.2, 0.1> rgb <0.9, 0.9, 0.2> scale 0.25 }
#declare P2 = pigment { bozo color_map { [0 rgb 0] [1 rgb <0.2, 0.5, 1>] } scale 0.2 }
#declare Pats = array[8] {
  pigment { gradient x pigment_map { [0 P1] [0.5 P2] [1 rgb <0, 1, 0>] } scale 0.7 },
  pigment { gradient y pigment_map { [0.2 P1] [0.8 P2] } },
  pigment { average pigment_map { [1 P1] [2 P2] [1 rgb 1] } rotate 30 },
  pigment { average pigment_map { [1 gradient x color_map { [0 rgb 1] [1 rgb <1, 0, 0>] }] [1 P2] } scale 0.5 },
  pigment { bozo pigment_map { [0.3 marble turbulence 0.5 scale 0.3] [0.7 P1] } scale 0.4 translate 1 },
  pigment { spherical turbulence 0.3 pigment_map { [0 agate] [1 crackle scale 0.2] } },
  pigment { wood pigment_map { [0.2 P2] [0.6 average pigment_map { [1 P1] [1 rgb <0, 0, 1>] }] } scale 0.2 },
  pigment { leopard scale 0.1 pigment_map { [0 rgb <1, 1, 0>] [1 cells scale 0.1] } }
}
#for (I, 0, 7)
  sphere { 0, 0.7 pigment { Pats[I] } translate <-2.7 + mod(I, 4) * 1.8, 0.7 + div(I, 4) * 1.6, div(I, 4) * 0.8> }
#end
plane { y, 0 pigment { checker pigment { P1 } pigment { P2 } } }
