// brick, checker and hexagon in normals (issue 17): checker without normals (the samples
// straddle the plane's cell faces, so every other square tilts), checker, brick and
// hexagon with their lists of normals
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 3, -5> look_at <0, 0.5, 0> }
light_source { <5, 10, -5> color rgb 1 }
plane { y, 0 pigment { color rgb 0.8 } normal { checker 1 scale 0.5 }
        finish { specular 0.6 } }
box { <-2.6, 0, 1>, <-0.6, 2, 1.2> pigment { rgb <0.9, 0.8, 0.5> }
      normal { checker normal { bumps 1 scale 0.1 } normal { wrinkles 0.8 scale 0.3 }
               scale 0.4 } }
box { <0.6, 0, 1>, <2.6, 2, 1.2> pigment { rgb <0.6, 0.8, 1> }
      normal { brick normal { dents 1 scale 0.1 } normal { bumps 0.6 scale 0.05 }
               brick_size <1, 0.4, 1> mortar 0.1 } }
sphere { <0, 0.8, 0>, 0.8 pigment { rgb <1, 0.3, 0.2> }
         normal { hexagon normal { bumps 1 scale 0.1 } normal { dents 1 } normal { quilted 0.6 }
                  scale 0.2 } finish { phong 0.5 } }
