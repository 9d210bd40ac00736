// Light sources inside CSG blocks: the block's transforms move them (nested too), and a
// union of lights alone draws nothing.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 4, -9> look_at <0, 0.5, 0> angle 45 }
plane { y, -1 pigment { rgb 0.8 } }
sphere { <-1.5, 0, 0>, 1 pigment { rgb 1 } }
box { <0.5, -1, -0.5>, <2.5, 1, 0.5> pigment { rgb <0.9, 0.9, 0.6> } }
union {
    light_source { <-4, 0, 0> color rgb <1, 0.2, 0.2> }
    light_source { <4, 0, 0> color rgb <0.2, 0.2, 1> spotlight point_at <0, -4, 0> radius 20 falloff 30 }
    union {
        light_source { <0, 0, -4> color rgb <0.2, 1, 0.2> }
        translate 2*y
    }
    translate <0, 3, -3>
    rotate 30*y
}
union {
    sphere { <0, 2.5, 2>, 0.3 pigment { rgb <1, 1, 0> } }
    light_source { <0, 0, 0> color rgb 0.3 }
    translate <0, 5, -5>
}
