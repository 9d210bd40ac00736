// interior_texture (issue 17): what is seen of a surface from its inside -- through a clip,
// through a clear part of the outer texture, on a union's parts -- and the shadows the two
// textures cast, as POV-Ray picks the texture by the side the ray meets.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 5, -9> look_at <0, 0.5, 0> angle 50 }
light_source { <-6, 10, -6> rgb 1 }
plane { y, -1 pigment { rgb 0.8 } }
sphere { <-2.4, 0.2, 0>, 1.2 texture { pigment { rgb <0.3, 0.5, 0.9> } finish { phong 0.5 } }
  interior_texture { pigment { rgb <1, 0.6, 0.1> } finish { ambient 0.3 } }
  clipped_by { plane { y, 0.7 } } }
sphere { <0.2, 0.2, 0>, 1.2 texture { pigment { gradient y color_map { [0 rgb 1] [0.5 rgb 1] [0.5 rgbt <1, 1, 1, 1>] [1 rgbt <1, 1, 1, 1>] } scale 0.6 } }
  interior_texture { pigment { rgb <0.2, 0.8, 0.3> } } }
union {
  box { <1.8, -1, -0.8>, <3.4, 0.6, 0.8> }
  cylinder { <2.6, 0.8, 0>, <2.6, 1.6, 0>, 0.5 }
  texture { pigment { rgbf <0.9, 0.9, 0.9, 0.7> } }
  interior_texture { pigment { checker rgb <0.8, 0.1, 0.1> rgb <0.9, 0.9, 0.2> scale 0.3 } }
  translate <0.4, 0, 0.5> }
