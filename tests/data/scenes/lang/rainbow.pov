// rainbow { }: two rainbows (one an arc with a falloff, seen through a nearby transparent
// colour map entry), blended over the sky and, by distance, over objects.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 1, -10> look_at <0, 3, 0> angle 70 }
light_source { <-100, 200, -300>, rgb 1 }
background { rgb <0.4, 0.55, 0.8> }
plane { y, 0 pigment { checker rgb <0.2, 0.6, 0.2>, rgb <0.4, 0.8, 0.3> scale 3 } }
sphere { <3, 2, 20>, 2 pigment { rgb <0.8, 0.2, 0.2> } }
rainbow {
    angle 42.5 width 5 distance 50 direction <-0.2, -0.2, 1>
    colour_map {
        [0.0 rgbf <1, 0.5, 1, 1>] [0.1 rgbf <1, 0.5, 1, 0.8>] [0.3 rgbf <0.2, 0.2, 1, 0.8>]
        [0.5 rgbf <0.2, 1, 0.2, 0.8>] [0.7 rgbf <1, 1, 0.2, 0.8>] [0.9 rgbf <1, 0.2, 0.2, 0.8>]
        [1.0 rgbf <1, 0.2, 0.2, 1>]
    }
}
rainbow {
    angle 25 width 8 distance 1e7 direction <0.1, -0.3, 1> up <0.2, 1, 0>
    arc_angle 120 falloff_angle 60
    colour_map { [0 rgbt <1, 1, 1, 1>] [0.5 rgbt <1, 0.9, 0.5, 0.3>] [1 rgbt <1, 1, 1, 1>] }
}
