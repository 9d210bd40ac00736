// A camera looking straight down its sky vector (look_at below the location, sky y):
// POV-Ray keeps the right vector it had, so the view is not refused.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location 6*y look_at 0 angle 50 }
light_source { <-5, 10, -8>, rgb 1 }
plane { y, 0 pigment { checker rgb 0.9, rgb 0.3 } }
sphere { <1, 0.5, 1>, 0.5 pigment { rgb <1, 0.2, 0.1> } }
box { <-2, 0, -1.5>, <-1, 0.4, -0.5> pigment { rgb <0.1, 0.4, 1> } }
cylinder { 0, 0.8*y, 0.3 translate <1.5, 0, -1.5> pigment { rgb <0.2, 0.9, 0.2> } }
