// cylinder camera 3 (vertical axis, the viewpoint moves along it), reflection { C }
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { cylinder 3 location <0, 1.5, -5> look_at <0, 1, 0> angle 160 }
light_source { <-4, 6, -5> color rgb 1 }
plane { y, 0 pigment { checker rgb 0.9 rgb 0.2 } finish { reflection { 0.2 } } }
#for (I, 0, 5)
  cylinder { 0, y * 2, 0.3 pigment { rgb <I / 5, 0.5, 1 - I / 5> } rotate y * 0 translate <-3 + I * 1.2, 0, 1> }
#end
sphere { <0, 1, -1>, 0.5 pigment { rgb 1 } finish { reflection { rgb <0.5, 0.3, 0.1> } } }
