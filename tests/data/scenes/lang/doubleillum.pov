// double_illuminate: a light behind a thin surface lights its front too (left: with,
// right: without), a brilliance finish and a CSG group carrying the flag.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 1, -8> look_at <0, 0.5, 0> angle 45 }
light_source { <0, 3, 10> colour rgb 1 }
light_source { <-10, 8, -10> colour rgb 0.2 }
plane { y, -1 pigment { rgb 0.6 } }
disc { <-1.6, 0.5, 0>, -z, 1.1 pigment { rgb <1, 0.8, 0.3> } double_illuminate }
disc { <1.6, 0.5, 0>, -z, 1.1 pigment { rgb <1, 0.8, 0.3> } }
union {
    triangle { <-0.5, -1, -2>, <0.5, -1, -2>, <0, 0, -2> }
    triangle { <-0.5, -1, -2.5>, <0.5, -1, -2.5>, <0, 0, -2.5> }
    pigment { rgb <0.3, 0.9, 0.4> } finish { brilliance 2 }
    double_illuminate
}
