#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 3, -8> look_at <0, 0, 0> angle 50 }
light_source { <0, 6, -2> rgb <1, 1, 0.8> spotlight point_at <0, 0, 0> radius 15 falloff 25 tightness 10
  looks_like { sphere { 0, 0.3 pigment { rgb 1 } finish { ambient 1 } } } }
light_source { <-4, 3, -4> rgb 0.6 fade_distance 3 fade_power 2 }
light_source { <4, 2, -3> rgb <0.3, 0.3, 1> spotlight point_at <1, 0, 1> }
plane { y, -1 pigment { checker rgb 0.9 rgb 0.5 } }
disc { <-2, 0, 1>, <0, 1, -1>, 1.2, 0.4 pigment { rgb <1, 0.4, 0.2> } }
disc { <2, 0.5, 0>, z, 0.8 pigment { rgb <0.3, 1, 0.3> } }
sphere { <0, 0, 0>, 0.8 pigment { rgb 1 } }
