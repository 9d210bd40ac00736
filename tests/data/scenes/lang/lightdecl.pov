// declared light_sources (issue 17): #declare L = light_source { ... looks_like { } transforms }
// used as object { L translate }; the looks_like object moves with its light's transforms
// after it, as POV-Ray moves a light's children.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 4, -8> look_at <0, 0.5, 0> angle 50 }
light_source { <-8, 10, -6> rgb 0.5 }
#declare L = light_source { <0, 0, 0> color rgb <1, 0.9, 0.7>
  looks_like { cylinder { -x*0.5, x*0.5, 0.1 pigment { rgb 1 } finish { ambient 1 diffuse 0 } } }
  translate <0, 2, 0> rotate 30*y }
plane { y, -1 pigment { checker rgb 0.8 rgb 0.5 } }
sphere { <1, 0, 0.5>, 0.8 pigment { rgb <0.8, 0.4, 0.3> } }
object { L translate <-0.5, 0, 0> }
