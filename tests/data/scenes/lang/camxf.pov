#version 3.7;
global_settings { assumed_gamma 1 }
#declare Shear = transform { matrix <1, 0, 0, 0.3, 1, 0, 0, 0, 1, 0, 0, 0> }
camera { location <0, 2, -6> look_at <0, 0.5, 0> angle 50 rotate y * 20 translate x * 0.5 transform Shear }
light_source { <5, 8, -6> rgb 1 }
plane { y, -1 pigment { checker rgb 0.9 rgb 0.3 } }
box { -1, 1 pigment { rgb <1, 0.4, 0.2> } }
sphere { <2, 0, 1>, 1 pigment { rgb <0.2, 0.5, 1> } }
