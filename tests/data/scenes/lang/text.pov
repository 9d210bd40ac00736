// fonts from Debian povray-includes (POV-Ray 3.7), found through povray.ini Library_Path
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 1, -6> look_at <0, 0.3, 0> angle 45 }
light_source { <5, 8, -6> rgb 1 }
plane { y, -0.5 pigment { checker rgb 0.9 rgb 0.4 } }
text { ttf "timrom.ttf", "POV-Ray 3.7", 0.3, 0 pigment { rgb <1, 0.3, 0.2> } finish { phong 0.5 } translate <-2.4, 0.6, 0> }
text { ttf "cyrvetic.ttf", "Quo@g%", 0.5, <0.05, 0.02, 0> pigment { rgb <0.2, 0.6, 1> } rotate y * -25 translate <-1.2, -0.4, -1> }
text { ttf "crystal.ttf", "Ab8", 0.2, 0 pigment { rgb <0.3, 1, 0.3> } rotate y * 40 translate <1.2, -0.3, -0.5> }
