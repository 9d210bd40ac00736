// blob (issue 17): sphere and cylinder components (a cylinder's field with its hemispherical
// ends), a negative strength, the old `component S, R, <C>` form, threshold, a transformed
// blob, and one in a difference (POV-Ray's inside test: the field above the threshold).
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 4, -10> look_at <0, 0.5, 0> angle 50 }
light_source { <-5, 9, -7> rgb 1 }
plane { y, -1 pigment { checker rgb 0.8 rgb 0.6 } }
blob {
  threshold 0.5
  sphere { <-3.2, 0.5, 0>, 1.3, 1 }
  sphere { <-2.2, 0.8, 0>, 1.1, strength 1 }
  cylinder { <-3.5, -0.6, 0>, <-1.5, -0.6, 0>, 0.8, 1.5 }
  sphere { <-2.7, 0.6, -0.9>, 0.7, -2 }
  pigment { rgb <0.9, 0.4, 0.2> } finish { phong 0.8 }
}
blob {
  threshold 0.6
  component 1, 1, <0.75, 0, 0>
  component 1, 1, <-0.375, 0.65, 0>
  component 1, 1, <-0.375, -0.65, 0>
  pigment { rgb <0.3, 0.7, 0.3> }
  scale 1.2 rotate <30, 40, 0> translate <0.4, 0.5, 0>
}
difference {
  box { <2, -1, -1>, <4, 1.5, 1> }
  blob { threshold 0.4 sphere { <3, 1.5, -1>, 1.2, 1 } cylinder { <2, 0, -1>, <4, 0, -1>, 0.7, 1 } }
  pigment { rgb <0.3, 0.5, 0.9> }
}
