#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 2, -6> look_at <0, 0.3, 0> angle 45 }
light_source { <5, 8, -6> rgb 1 }
#declare G = texture { pigment { rgb <0.3, 1, 0.3> } }
plane { y, -1 pigment { checker rgb 0.9 rgb 0.4 } }
triangle { <-2.5, -1, 0>, <-1, 1.5, 0.5>, <-0.5, -1, -0.5> pigment { rgb <1, 0.4, 0.2> } }
mesh {
  smooth_triangle { <0, 0, 0>, <0, 1, -1>, <1, 1, 0>, <0.5, 1, -1>, <1, 0, -0.5>, <1, 0.3, -1> }
  smooth_triangle { <0, 0, 0>, <0, 1, -1>, <1, 0, -0.5>, <1, 0.3, -1>, <0.2, -0.8, -0.4>, <0, -0.5, -1> texture { G } }
  triangle { <1, 1, 0>, <1.8, 0.6, 0.5>, <1, 0, -0.5> }
  texture { pigment { rgb <0.2, 0.5, 1> } finish { phong 0.6 } }
  translate <0.3, 0, -0.5>
}
