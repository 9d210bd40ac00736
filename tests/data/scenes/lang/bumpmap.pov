// bump_map (issue 17): heights from the colours' grey and from palette indices
// (use_index), bump_size, interpolation, map types, once; bump maps take their samples as
// they are, unless gamma is given.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 0, -8> look_at <0, 0, 0> }
light_source { <-6, 8, -10> rgb 1 }
light_source { <8, -2, -6> rgb 0.4 }
background { rgb <0.1, 0.1, 0.2> }
plane { z, 0 clipped_by { box { <-4.5, 0.2, -1>, <-0.3, 2.85, 1> } }
  pigment { rgb <0.9, 0.7, 0.5> }
  normal { bump_map { png "img/grey8.png" bump_size 2 interpolate 2 } scale 1.5 } }
plane { z, 0 clipped_by { box { <0.3, 0.2, -1>, <4.5, 2.85, 1> } }
  pigment { rgb 0.8 }
  normal { bump_map { png "img/pal4.png" use_index once } bump_size 0.3
           scale <4, 2.5, 1> translate <0.313, 0.213, 0> } }
sphere { <-2.2, -1.6, 0>, 1.2 pigment { rgb <0.4, 0.8, 0.4> }
  normal { bump_map { png "img/rgb8.png" map_type 1 interpolate 4 bump_size 3 } } }
sphere { <2.2, -1.6, 0>, 1.2 pigment { rgb <0.8, 0.4, 0.4> }
  normal { bump_map { png "img/grey16.png" gamma 2.2 map_type 2 use_color bump_size 4 } } }
