// Patterned textures (issue 17): checker, hexagon and brick textures, texture_map with a
// pattern blending whole lit textures (each with its own finish and normal), entries given
// as identifiers or as texture items, transforms of the whole, a patterned texture on a
// union, and a see-through one in the light's path.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 4, -10> look_at <0, 0.5, 0> angle 50 }
light_source { <-5, 10, -6> rgb 1 }
light_source { <6, 4, -8> rgb 0.3 }

#declare Shiny = texture { pigment { rgb <0.9, 0.2, 0.1> } finish { phong 0.8 phong_size 40 } }
#declare Matte = texture { pigment { rgb <0.2, 0.6, 0.9> } normal { bumps 0.5 scale 0.1 } }

plane { y, -1
  texture { checker texture { pigment { rgb 0.9 } } texture { Matte } scale 1.5 translate 0.1 * x }
}

sphere { <-3, 0.2, 0>, 1.2
  texture { gradient y texture_map { [0.2 Shiny] [0.8 Matte] } scale 2 translate -1.2 * y }
}

box { <-0.9, -1, -0.9>, <0.9, 0.8, 0.9>
  texture { hexagon texture { Shiny } texture { Matte }
            texture { pigment { rgb <1, 0.9, 0.2> } finish { specular 0.7 roughness 0.02 } }
            scale 0.3 rotate 90 * x }
  rotate 20 * y
}

union {
  cylinder { <3, -1, 0>, <3, 1, 0>, 0.8 }
  sphere { <3, 1.3, 0>, 0.6 }
  texture { bozo turbulence 0.3
            texture_map { [0 pigment { rgb <0.2, 0.8, 0.2> }]
                          [0.5 pigment { rgb <0.2, 0.8, 0.2> } finish { reflection 0.3 }]
                          [1 Shiny] }
            scale 0.5 }
}

box { <-2, -1, 2>, <2, 2, 2.2>
  texture { brick texture { pigment { rgbf <1, 1, 1, 0.9> } }
                  texture { pigment { rgb <0.7, 0.3, 0.2> } }
            brick_size <0.6, 0.3, 0.4> mortar 0.05 }
}
