// the slope pattern (issue 17): the surface normal against a vector (asin-mapped, as POV-Ray
// 3.7), with a range, an altitude and its range, point_at, in a texture_map, on a plane
// seen from below its normal (the normal faces the ray), and through a transparent object's
// shadow (the normal facing against the shadow ray)
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 3, -5> look_at <0, 0.5, 0> }
light_source { <5, 10, -5> color rgb 1 }
sphere { <-1.3, 1, 0>, 1
         pigment { slope y color_map { [0 rgb <1, 0, 0>] [0.5 rgb <0, 1, 0>] [1 rgb <0, 0, 1>] } } }
sphere { <1.3, 1, 0>, 1
         pigment { slope { <1, 2, 0>, 0.3, 0.9 altitude y, 0.2, 1.8 }
                   color_map { [0 rgb <1, 1, 0>] [1 rgb <0, 0, 1>] } } }
box { <-3, 0, 1.5>, <3, 0.6, 2.5>
      texture { slope { point_at <0, 5, 0> }
                texture_map { [0.3 pigment { rgb 1 }] [0.8 pigment { rgb <1, 0.5, 0> }] } } }
sphere { <0, 2.2, -1>, 0.4
         pigment { slope -x colour_map { [0 rgbt <1, 1, 1, 1>] [1 rgbt <1, 0, 0, 0.2>] } } }
plane { y, 0 pigment { slope -y color_map { [0 rgb 0.2] [1 rgb 0.9] } } }
