// slope_map (issue 17): a normal pattern's value through <height, slope> entries joined by
// POV-Ray's Hermite cubic (its Do_Slope_Map), on a pattern, a wave and a turbulent one.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 0, -9> look_at 0 angle 50 }
light_source { <-20, 20, -30> rgb 1 }
#default { pigment { rgb 0.9 } finish { phong 0.7 phong_size 100 } }
box { <-3.8, 0.2, 0>, <-0.2, 3.8, 1> normal { onion 0.8 slope_map { [0 <0, 1>] [0.5 <1, 1>] [0.5 <1, -1>] [1 <0, -1>] } scale 0.4 } }
box { <0.2, 0.2, 0>, <3.8, 3.8, 1> normal { gradient x 1 slope_map { [0 <0.5, 1>] [0.25 <1, 0>] [0.5 <0.5, -1>] [0.75 <0, 0>] [1 <0.5, 1>] } scale 0.5 } }
box { <-3.8, -3.8, 0>, <-0.2, -0.2, 1> normal { bozo 1 turbulence 0.3 slope_map { [0 <0, 0>] [0.6 <0.3, 2>] [1 <1, 0>] } scale 0.6 } }
box { <0.2, -3.8, 0>, <3.8, -0.2, 1> normal { spiral1 4 0.6 scallop_wave slope_map { [0 <1, -1>] [1 <0, -1>] } } }
