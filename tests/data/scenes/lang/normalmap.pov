// normal_map (issue 17): a pattern's value blending the normals of its entries (bumps,
// waves, gradient, a nested normal_map), an average of weighted normals, and a transformed
// normal with a map, as POV-Ray's Perturb_Normal and Do_Average_Normals compute them.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 3, -6> look_at <0, 0.3, 0> angle 55 }
light_source { <-5, 9, -7> rgb 1 }
light_source { <6, 4, -3> rgb 0.4 }
plane { y, -1 pigment { rgb 0.7 } finish { phong 0.6 }
  normal { bozo 1 normal_map { [0.3 waves 0.8 scale 0.5] [0.7 bumps 0.6 scale 0.2] [1 gradient x, 1 scale 0.3] } scale 2 } }
sphere { <-2.2, 0.3, 0>, 1 pigment { rgb <0.9, 0.5, 0.3> } finish { phong 0.8 }
  normal { average normal_map { [gradient x, -5.0 scallop_wave scale 0.5] [3 gradient y, 4.0 triangle_wave scale 0.4] [wrinkles 0.8 scale 0.3] } } }
sphere { <0, 0.3, 0>, 1 pigment { rgb <0.3, 0.6, 0.9> } finish { phong 0.8 }
  normal { gradient y normal_map { [0 dents 1 scale 0.2] [0.5 ripples 1 scale 0.3]
    [1 agate normal_map { [0.2 bumps 1 scale 0.1] [0.8 quilted 1 scale 0.2] } ] } scale 0.7 rotate 30*z } }
box { <1.4, -0.8, -0.8>, <3, 1.2, 0.8> pigment { rgb <0.5, 0.8, 0.4> } finish { phong 0.5 }
  normal { onion normal_map { [0 bumps 0.7 scale 0.1] [1 waves 1 scale 0.4] } scale 0.15 rotate <20, 30, 0> } }
