// Layered textures (issue 17): texture { } texture { }, each layer on top of the ones
// before it, as POV-Ray 3.7 lights them: in an identifier (transformed as a whole), on an
// object, on a union, with filter and transmit, each layer with its own finish and normal,
// and shadows through every layer.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 3, -9> look_at <0, 0.3, 0> angle 45 }
light_source { <-6, 10, -8> rgb 1 }
light_source { <8, 6, -4> rgb 0.4 }
plane { y, -1 pigment { checker rgb 0.9 rgb 0.5 } }

#declare Grain =
  texture { pigment { wood color_map { [0 rgb <0.8, 0.5, 0.3>] [1 rgb <0.5, 0.25, 0.1>] }
                      turbulence 0.1 scale 0.3 } }
  texture { pigment { wood color_map { [0 rgbt <0.4, 0.2, 0.1, 0.2>] [0.5 rgbt <0.9, 0.7, 0.5, 0.9>]
                                       [1 rgbt <0.3, 0.1, 0.0, 1>] }
                      scale <0.05, 0.05, 1> rotate 30 * y }
            finish { specular 0.6 roughness 0.01 } }

box { <-3.6, -1, -1>, <-1.6, 1, 1> texture { Grain rotate 60 * x scale 1.5 } }

sphere { <0, 0, 0>, 1
  texture { pigment { rgb <0.1, 0.4, 0.9> } finish { phong 0.5 reflection 0.2 } }
  texture { pigment { bozo color_map { [0 rgbf <1, 1, 0, 0.8>] [1 rgbt <1, 0, 0, 0.7>] }
                      scale 0.25 }
            normal { bumps 0.4 scale 0.1 } }
  texture { pigment { gradient y color_map { [0 rgbt 1] [0.5 rgbt 1] [0.5 rgbf <0, 1, 0, 0.5>]
                                             [1 rgbt <1, 1, 1, 0.6>] } scale 0.5 } }
}

union {
  cylinder { <2.2, -1, 0>, <2.2, 1.2, 0>, 0.6 }
  sphere { <2.2, 1.5, 0>, 0.5 }
  texture { pigment { rgb <0.9, 0.9, 0.2> } }
  texture { pigment { checker rgbt <0.2, 0.2, 0.8, 0> rgbt 1 scale 0.25 } }
  rotate 10 * z translate 0.3 * x
}

// a see-through layered pane: its shadow is filtered by both layers
box { <-1, -1, 1.8>, <1.5, 1.4, 1.9>
  texture { pigment { rgbf <1, 0.3, 0.3, 0.9> } }
  texture { pigment { rgbt <0.3, 0.3, 1, 0.5> } }
}
