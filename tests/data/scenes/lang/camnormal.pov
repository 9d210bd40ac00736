// A camera normal (issue 16): every camera ray bent by the normal's pattern taken at its
// screen point, as POV-Ray's CreateCameraRay does (perspective and orthographic).
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 3, -8> look_at <0, 0.5, 0> angle 45 normal { bumps 0.4 scale 0.05 } }
light_source { <-5, 9, -7> rgb 1 }
plane { y, -1 pigment { checker rgb 0.9 rgb 0.4 } }
sphere { <-1.2, 0.3, 0>, 1 pigment { rgb <0.9, 0.3, 0.2> } }
box { <0.5, -1, -0.7>, <2, 0.8, 0.7> pigment { rgb <0.3, 0.5, 0.9> } }
