// mesh2: vertex and normal vectors, a texture list with a texture per face, a degenerate face
// (dropped, as POV-Ray drops it), a declared mesh2 moved by object { }, a flat one.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <2, 3, -5> look_at <0, 0.3, 0> angle 45 }
light_source { <-5, 10, -8>, rgb 1 }
plane { y, -1 pigment { rgb 0.7 } }
#declare Pyramid = mesh2 {
  vertex_vectors { 5, <-1, 0, -1>, <1, 0, -1>, <1, 0, 1>, <-1, 0, 1>, <0, 1.5, 0> }
  normal_vectors { 5, <-1, 0.5, -1>, <1, 0.5, -1>, <1, 0.5, 1>, <-1, 0.5, 1>, <0, 1, 0> }
  texture_list { 2, texture { pigment { rgb <0.9, 0.3, 0.2> } }, texture { pigment { rgb <0.2, 0.5, 0.9> } } }
  face_indices { 6, <0, 1, 4>, 0, <1, 2, 4>, 1, <2, 3, 4>, 0, <3, 0, 4>, 1, <0, 1, 2>, 0, <0, 2, 2>, 1 }
  pigment { rgb 1 }
}
object { Pyramid translate -1.2*x }
mesh2 {
  vertex_vectors { 4, <0, 0, 0>, <1, 0, 0>, <1, 1, 0>, <0, 1, 0> }
  face_indices { 2, <0, 1, 2>, <0, 2, 3> }
  pigment { rgb <0.3, 0.9, 0.3> } rotate 20*y translate <0.8, -0.5, 0>
}
