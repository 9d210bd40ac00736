#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 2, -7> look_at 0 angle 45 }
light_source { <5, 8, -6> rgb 1 }
#declare T = transform { rotate y * 30 scale <1, 0.5, 1> translate x }
plane { y, -1 pigment { checker rgb 0.9 rgb 0.4 } }
box { -0.7, 0.7 pigment { rgb <1, 0.4, 0.2> } transform T }
sphere { 0, 0.7 pigment { rgb <0.2, 0.6, 1> } matrix <1, 0, 0, 0.5, 1, 0, 0, 0, 1, -1.5, 0.3, 0> }
cylinder { -y, y, 0.4 pigment { rgb <0.3, 1, 0.3> } transform { T inverse } translate <-0.5, 0.5, -1.5> }
