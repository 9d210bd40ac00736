// a parallel area light (its samples aimed from point_at through each grid point, as
// POV-Ray's ComputeOneWhiteLightRay aims them: soft shadows), one moved by a union's
// transform, and a parallel spotlight (all in front of its plane lit, nothing behind)
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 4, -6> look_at <0, 0.5, 0> }
light_source { <-3, 6, -2> color rgb 0.6 parallel point_at <0, 0, 0>
               area_light <1.5, 0, 0>, <0, 0, 1.5>, 5, 5 adaptive 1 }
union {
  light_source { <0, 6, 0> color rgb <0.2, 0.3, 0.2> parallel point_at <0, 0, 0.5>
                 area_light <1, 0, 0>, <0, 0, 1>, 3, 3 circular }
  sphere { <2.8, 0.3, -1>, 0.3 pigment { rgb 1 } }
  rotate z * 25 translate x * 0.5
}
light_source { <3, 5, -3> color rgb <0.5, 0.4, 0.3> spotlight parallel point_at <0, 0, 1>
               radius 5 falloff 10 }
plane { y, 0 pigment { rgb 0.8 } }
sphere { <0, 1, 0>, 1 pigment { rgb <1, 0.3, 0.2> } finish { phong 0.6 } }
box { <1.5, 0, 1>, <2.5, 2, 2> pigment { rgb <0.2, 0.6, 1> } }
plane { x, -4 pigment { rgb 1 } }
