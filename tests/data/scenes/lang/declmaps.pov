// declared pigment_map, normal_map and texture_map identifiers (issue 17), each used twice:
// with different patterns and transforms, and in an average
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 0.5, -4> look_at <0, 0, 0> }
light_source { <5, 10, -5> color rgb 1 }
#declare PM = pigment_map { [0 rgb <1, 0, 0>] [0.5 checker rgb 1 rgb 0 scale 0.1]
                            [1 rgb <0, 0, 1>] }
#declare NM = normal_map { [0 bumps 1 scale 0.1] [1 dents 1 scale 0.2] }
#declare TM = texture_map { [0 pigment { rgb 1 }]
                            [1 pigment { rgb <0, 1, 0> } finish { phong 1 }] }
sphere { <-1.1, 0.6, 0>, 0.55 pigment { gradient x pigment_map { PM } } }
sphere { <0, 0.6, 0>, 0.55 pigment { average pigment_map { PM } } normal { onion normal_map { NM } } }
sphere { <1.1, 0.6, 0>, 0.55 pigment { rgb 1 } normal { gradient y normal_map { NM } scale 0.3 } }
box { <-2, -1, 0>, <-0.1, 0, 0.2> texture { bozo texture_map { TM } scale 0.3 } }
box { <0.1, -1, 0>, <2, 0, 0.2> texture { gradient y texture_map { TM } rotate z * 30 } }
