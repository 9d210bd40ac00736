// texture { average texture_map { [w TEXTURE]... } }: the textures' lit colours averaged
// by weight (a missing weight is 1), in shadows too (a clear texture averaged with an
// opaque one).
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 3, -8> look_at <0, 0.5, 0> angle 45 }
light_source { <-5, 10, -6>, rgb 1 }
plane { y, -1 pigment { checker rgb 0.9, rgb 0.5 } }
sphere { <-1.6, 0.4, 0>, 1
    texture { average texture_map {
        [pigment { rgb <1, 0.2, 0.1> } finish { phong 1 }]
        [pigment { gradient y colour_map { [0 rgb 0] [1 rgb <0.2, 0.4, 1>] } } finish { ambient 0.3 }]
    } }
}
sphere { <1.6, 0.3, 0>, 1.1
    texture { average texture_map {
        [3 pigment { rgbt <0.2, 0.9, 0.3, 0.8> }]
        [1 pigment { rgb <0.9, 0.9, 0.2> } finish { diffuse 0.9 }]
    } }
}
