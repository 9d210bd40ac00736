// declared pigments and finishes start from the #default ones (issue 16), as POV-Ray copies
// the default texture's pigment and finish into each (incdemo/shapes.pov's ShinyFinish keeps
// the scene's #default ambient 0).
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 0, -4> look_at 0 }
light_source { <-5, 9, -7> rgb 1 }
#default { pigment { rgb <1, 0, 0> } finish { ambient 0.4 diffuse 0.3 } }
#declare P = pigment { }
#declare F = finish { phong 1 }
sphere { <-1.1, 0, 0>, 1 pigment { P } finish { F } }
sphere { <1.1, 0, 0>, 1 texture { pigment { P } finish { F } } }
