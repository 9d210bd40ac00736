// a blob of 3000 components (issue 17: more than the 1024 a blob took before; its
// intersection works in a buffer sized by the scene's largest blob)
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 2, -4> look_at <0, 0, 0> }
light_source { <3, 6, -4> rgb 1 }
#declare R = seed(7);
blob { threshold 0.5
  #declare I = 0;
  #while (I < 3000)
    sphere { <rand(R) * 3 - 1.5, rand(R) * 0.6 - 0.3, rand(R) * 3 - 1.5>, 0.12, 1 }
    #declare I = I + 1;
  #end
  cylinder { <-1, 0.8, 0>, <1, 0.8, 0>, 0.3, 1 }
  pigment { rgb <0.9, 0.6, 0.3> } finish { phong 0.5 }
}
plane { y, -0.5 pigment { checker rgb 0.3 rgb 0.8 } }
