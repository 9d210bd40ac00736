// #default { normal { } } (issue 16) as the template of every normal after it, normal_map
// entries included, and checker normal { } normal { } (issue 17), as POV-Ray copies the
// default texture's normal into each one it parses.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 0, -9> look_at 0 angle 50 }
light_source { <-20, 20, -30> rgb 1 }
#default { pigment { rgb 0.9 } normal { bump_size 1.5 } finish { phong 0.6 phong_size 80 } }
box { <-3.8, 0.2, 0>, <-0.2, 3.8, 1> normal { gradient x normal_map { [0.3 marble turbulence 0.5] [0.7 gradient y scallop_wave scale 0.3] } scale 2 } }
box { <0.2, 0.2, 0>, <3.8, 3.8, 1> normal { checker normal { marble turbulence 0.5 } normal { radial sine_wave frequency 10 rotate x*90 } } }
box { <-3.8, -3.8, 0>, <-0.2, -0.2, 1> normal { bumps scale 0.3 } }
#declare N = normal { waves scale 0.5 }
box { <0.2, -3.8, 0>, <3.8, -0.2, 1> normal { N } }
