// crand (issue 17): each light's diffuse lowered by up to crand at random, as POV-Ray 3.7
// does; POV-Ray draws from one sequence for the whole render, ours is a hash of the point
// and the light (the same on every worker): close to POV-Ray, not equal.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 3, -8> look_at <0, 0.3, 0> angle 45 }
light_source { <-5, 8, -6> rgb 1 }
light_source { <6, 5, -3> rgb 0.4 }
plane { y, -1 pigment { rgb <0.8, 0.7, 0.6> } finish { crand 0.03 } }
sphere { <-1.2, 0.2, 0>, 1 pigment { rgb <0.9, 0.3, 0.2> } finish { crand 0.015 phong 0.6 } }
box { <0.5, -1, -0.7>, <2, 0.8, 0.7> pigment { rgb <0.3, 0.5, 0.9> } finish { crand 0.02 } }
