// blob components moved by translate, rotate and a uniform scale (issue 17), as POV-Ray's
// components carry their own transforms (advanced/biscuit's ring of spheres).
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 4, -8> look_at <0, 0.3, 0> angle 50 }
light_source { <-5, 9, -7> rgb 1 }
plane { y, -1 pigment { checker rgb 0.8 rgb 0.5 } }
blob { threshold 0.6
  #declare I = 0;
  #while (I < 360)
    sphere { <1.5, 0, 0>, 0.8, 1 rotate y*I }
    #declare I = I + 30;
  #end
  cylinder { <-1, 0, 0>, <1, 0, 0>, 0.5, 1 rotate z*60 translate y*0.5 }
  sphere { 0, 0.5, 1 scale 2 translate <0, 1.5, 0> }
  pigment { rgb <0.9, 0.6, 0.3> } finish { phong 0.6 } }
