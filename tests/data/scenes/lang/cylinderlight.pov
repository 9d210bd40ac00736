// Cylinder lights: parallel rays within falloff of the axis, full within radius, tightness
// over the distance from the axis (POV-Ray 3.7), and one with the defaults (0.75 and 1).
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 8, -10> look_at <0, 0, 0> angle 50 }
plane { y, 0 pigment { rgb 0.9 } }
sphere { <-1, 1, 0>, 1 pigment { rgb <0.9, 0.3, 0.2> } }
box { <1, 0, -1>, <2, 1.5, 1> pigment { rgb <0.2, 0.5, 0.9> } }
light_source { <0, 10, 0> colour rgb 1 cylinder point_at <0, 0, 0> radius 2 falloff 3.5 tightness 2 }
light_source { <-5, 8, -5> colour rgb <0.4, 0.4, 0.2> cylinder point_at <-1, 0, 0> }
light_source { <20, 30, -20> colour rgb 0.15 }
