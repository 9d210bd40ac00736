// cone (with a point, open, transformed), open cylinder: prims.c from the primitive list
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0,2,-6> look_at <0,0.5,0> }
light_source { <-5,8,-5> color rgb 1 }
plane { y, 0 pigment { checker rgb 1 rgb 0.3 } }
cone { <-2,0,0>, 0.8, <-2,2,0>, 0.2 pigment { rgb <1,0.5,0> } finish { phong 0.6 } }
cone { <0,0,0>, 0.7, <0.5,1.8,0.3>, 0 pigment { rgb <0.2,0.6,1> } }
cone { <2,0.3,0>, 0.3, <2,1.6,-0.5>, 0.7 open pigment { rgb <0.3,1,0.3> } rotate y*20 }
cylinder { <-1,1,1.5>, <1,2,1.5>, 0.4 open pigment { rgb 1 } }
