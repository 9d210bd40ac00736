// A block pattern in a normal (brick): their values' slope, sampled as POV-Ray
// samples every normal pattern, bends the surface at the blocks' edges.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 3, -5> look_at <0, 0.5, 0> angle 50 }
light_source { <-5, 10, -6>, rgb 1 }
plane { y, 0 pigment { rgb 0.8 } normal { brick 0.8 scale 0.3 } }
box { <0.5, 0, -0.5>, <2, 1.5, 1> pigment { rgb <0.9, 0.6, 0.3> } normal { brick 0.6 scale 0.4 rotate 30*y } }
sphere { <-1.2, 0.8, 0>, 0.8 pigment { rgb <0.3, 0.6, 0.9> } normal { brick 0.5 scale 0.2 } }
