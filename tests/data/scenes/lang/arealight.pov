// Area lights as POV-Ray 3.7 samples them (issue 17): a rectangular grid with adaptive 1,
// one with adaptive 0 (corners first, split only where they differ), a circular one that
// is oriented to face each point, transformed with its light. No jitter here: POV-Ray's
// jitter is random (arealight_jitter.pov checks ours is the same on every worker).
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 5, -9> look_at <0, 0, 0> angle 50 }
light_source { <-6, 8, -4> rgb 0.7 area_light <3, 0, 0>, <0, 0, 3>, 5, 5 adaptive 1 }
light_source { <0, 4, 0> rgb 0.5 area_light <2, 0, 0>, <0, 2, 0>, 9, 9 adaptive 0
               rotate 30 * y translate 5 * x }
light_source { <3, 9, -6> rgb 0.4
               area_light <2, 0, 0>, <0, 2, 0>, 6, 6 adaptive 2 circular orient }
plane { y, -1 pigment { rgb 0.9 } }
sphere { <-1.5, 0.2, 0>, 1 pigment { rgb <0.9, 0.3, 0.2> } }
box { <0.8, -1, -0.6>, <2, 1.5, 0.6> pigment { rgb <0.2, 0.5, 0.9> } rotate 20 * y }
cylinder { <-3.5, -1, 1.5>, <-3.5, 2, 1.5>, 0.3 pigment { rgb <0.3, 0.8, 0.3> } }
