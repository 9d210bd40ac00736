// Colour and map forms of real scenes (issue 16): components after a colour (`color rgb 1
// filter 0.5`, `color red R green G blue B`), the old `[v1 v2 c1 c2]` entry without a
// comma, values out of order (POV-Ray keeps them: woods.inc's T_Wood32), a lone '#'
// (language/image_size.pov), and bounded_by { clipped_by } (shapesq.inc's Helix).
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 2, -8> look_at <0, 0.5, 0> angle 45 }#
light_source { <-4, 8, -6> rgb 1 }
plane { y, -1 pigment { rgb 0.8 } }

sphere { <-2.2, 0.3, 0>, 1
  pigment { bozo scale 0.3
    color_map { [0.0 0.5 color rgb <1, 0.2, 0.1> filter 0.5 color red 0.2 green 0.5 blue 0.9]
                [0.5, 1.0 color rgb 0.9 transmit 0.4 color rgb <0.1, 0.6, 0.1>] } }
}

box { <-0.8, -1, -0.8>, <0.8, 1, 0.8>
  pigment { wood turbulence 0.1 scale 0.2
    color_map { [0.15 rgb <0.6, 0.3, 0.1>] [0.45 rgb <0.3, 0.1, 0>] [0.95 rgb <0.7, 0.4, 0.2>]
                [0.90 rgb <0.2, 0.05, 0>] [1.0 rgb <0.6, 0.35, 0.15>] } }
  rotate 30 * y
}

sphere { <2.2, 0.3, 0>, 1.2
  pigment { rgb <0.9, 0.8, 0.2> }
  clipped_by { box { <1, -2, -2>, <3.4, 0.9, 2> } }
  bounded_by { clipped_by }
}
