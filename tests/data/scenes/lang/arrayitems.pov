// Parser forms POV-Ray 3.7 takes (issue 16): array[N] with no ';' before a #declare of its
// items, arrays of objects and textures, array initializers without commas, a trailing comma
// in a vector, pattern colour lists of colour identifiers and checker's default colours.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 3, -9> look_at <0, 0.5, 0> angle 50 }
light_source { <5, 10, -10> rgb 1 }
#declare Gold = rgb <0.9, 0.7, 0.2>;
#declare Sea = rgb <0.1, 0.3, 0.6>;
#declare Objs = array[3]
#declare Objs[0] = sphere { 0, 0.8 }
#declare Objs[1] = box { -0.7, 0.7 }
#declare Objs[2] = cylinder { -0.7*y, 0.7*y, 0.6 }
#declare Texs = array[3]
#declare Texs[0] = texture { pigment { brick Gold, Sea brick_size 0.3 mortar 0.05 } }
#declare Texs[1] = texture { pigment { checker scale 0.4 } }
#declare Texs[2] = texture { pigment { checker Gold scale 0.3 } }
#declare Pos = array[3] { <-2.5, 0.7, 0>  <0, 0.7, 0> <2.5, 0.7, 0,> }
#for (I, 0, 2)
  object { Objs[I] texture { Texs[I] } translate Pos[I] }
#end
plane { y, 0 pigment { hexagon Sea, Gold, rgb <0.8, 0.8, 0.8,> } }
