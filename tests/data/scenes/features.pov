#version 3.7;
// features.pov -- exercises the rest of the subset against POV-Ray 3.7: cylinder caps,
// rotated / non-uniformly scaled boxes and spheres, nested unions with transforms,
// brilliance, roughness, colour ambient and reflection, checker on rotated objects,
// camera right/up/sky/direction.
global_settings { assumed_gamma 1.0 max_trace_level 4 }
background { rgb <0.3, 0.25, 0.2> }
#declare Dist = 7;
#declare Eye = <1.5, 3, -Dist>;
camera {
  location Eye
  direction <0, 0, 1.2>
  right x * 4 / 3
  up y
  sky <0.1, 1, 0>
  look_at <0, 0.8, 0>
}
light_source { <-6, 9, -7> color rgb <0.9, 0.85, 0.8> }
light_source { <5, 4, -9>, rgb <0.2, 0.25, 0.4> }
#declare Check = pigment { checker rgb <0.9, 0.2, 0.2>, rgb <0.95, 0.95, 0.9> scale 0.25 }
#declare Shiny = finish { ambient <0.1, 0.05, 0.02> diffuse 0.6 brilliance 2.5 specular 0.8 roughness 0.01 }
plane { <0, 1, 0.05>, -0.2 pigment { checker rgb 0.8, rgb 0.3 rotate <0, 30, 0> } finish { reflection <0.2, 0.1, 0.05> } }
cylinder { <-2.5, 0.2, 0>, <-1.5, 1.8, 0.5>, 0.45 pigment { Check } finish { Shiny } }
cylinder { <0, 0, 0>, <0, 0.6, 0>, 0.7 scale <1, 1, 0.5> rotate <-30, 0, 0> translate <0.3, 0.3, -1.8>
  pigment { rgb <0.2, 0.6, 0.9> } finish { phong 0.7 phong_size 30 } }
box { <-0.5, -0.5, -0.5>, <0.5, 0.5, 0.5> scale <1.5, 0.6, 0.8> rotate <20, 35, 10> translate <2, 1, 0.5>
  texture { pigment { Check } finish { diffuse 0.8 reflection 0.2 } } }
union {
  sphere { <0, 0, 0>, 0.5 scale <1, 2, 1> }
  union {
    sphere { <1, 0, 0>, 0.3 }
    box { <0.8, -0.6, -0.2>, <1.2, -0.3, 0.2> }
    rotate <0, 0, 20>
  }
  pigment { Check rotate <45, 0, 0> }
  finish { Shiny }
  translate <-0.3, 1.2, 1.5>
}
sphere { <0, 0, 0>, 1 scale 0.6 translate <1.2, 0.4, -2.6> pigment { rgb <1, 0.8, 0.2> } finish { reflection 0.5 ambient 0.05 diffuse 0.5 phong 1 phong_size 90 } }
