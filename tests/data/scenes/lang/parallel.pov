// parallel lights: shadows cast along point_at - location from everywhere, the distance
// measured along that direction (fade_distance/fade_power), moved by a union's transform.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <6, 7, -9> look_at <0, 0.5, 0> angle 45 }
plane { y, 0 pigment { rgb 0.9 } }
box { <-1, 0, -1>, <1, 0.5, 1> pigment { rgb <0.9, 0.3, 0.2> } }
sphere { <2, 1.5, 1>, 0.6 pigment { rgb <0.2, 0.5, 0.9> } }
light_source { <0, 20, 0> colour rgb 0.8 parallel point_at <3, 0, 2> }
union {
    light_source { <0, 10, 0> colour rgb <0.3, 0.6, 0.3> parallel point_at <-2, 0, 0>
                   fade_distance 8 fade_power 2 }
    rotate 20*y
}
