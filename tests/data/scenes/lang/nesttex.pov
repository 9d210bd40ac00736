// patterned textures inside patterned textures (issue 17): entries evaluated at their map's
// point as POV-Ray's ComputeOneTextureColour hands it on (a transform before texture_map and
// a map's turbulence move the entries too), nested maps, normals through the maps'
// transforms, and the shadow of a transparent nested map
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 3, -6> look_at <0, 0.6, 0> }
light_source { <5, 10, -5> color rgb 1 }
#declare A = texture { pigment { rgb <0, 0.6, 0> } }
#declare B = texture { pigment { rgb <0.5, 0.3, 0.1> } normal { bumps 0.6 scale 0.1 } }
#declare C = texture { pigment { gradient x color_map { [0 rgb 0] [1 rgb <1, 0, 0>] } } }
#declare W = texture { pigment { rgb 1 } finish { phong 0.8 } }
#declare Inner1 = texture { gradient x texture_map { [0.3, A] [0.7, B] } }
#declare Inner2 = texture { checker texture { W } texture { C } scale 0.5 }
sphere { <-1.2, 0.8, 0>, 1
  texture { gradient y scale 2
    texture_map { [0 A] [0.005 A] [0.005 Inner1] [0.4 Inner1] [0.4 Inner2] [1 Inner2] } } }
sphere { <1.2, 0.8, 0>, 1
  texture { bozo turbulence 0.4 scale 0.6
    texture_map { [0.3 C] [0.5 Inner1] [0.7 W] } rotate z * 20 } }
box { <-0.5, 2.2, -1>, <0.5, 2.4, 0>
  texture { gradient x texture_map { [0.2 pigment { rgbt <1, 1, 1, 1> }]
                                     [0.8 checker texture { pigment { rgbf <1, 0, 0, 0.8> } }
                                                  texture { pigment { rgb 0 } } scale 0.2] } } }
plane { y, -0.2 pigment { rgb 0.8 } }
