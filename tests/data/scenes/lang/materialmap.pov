// material_map (issue 17): a palette image's indices pick textures (wrapped around their
// count as POV-Ray 3.7.0 wraps them: an index equal to the count takes the last), once and
// repeated, on a plane and, mapped spherically, on a sphere.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 0, -7> look_at 0 angle 60 }
light_source { <-4, 6, -8> rgb 1 }
background { rgb <0.2, 0.2, 0.3> }
box { <-3.4, -1.6, 0>, <-0.2, 1.6, 0.1>
  texture { material_map { png "img/pal4.png" once
      texture { pigment { rgb <0.9, 0.2, 0.2> } }
      texture { pigment { rgb <0.2, 0.8, 0.3> } finish { phong 0.6 } }
      texture { pigment { bozo scale 0.1 } }
    }
    scale <3.2, 3.2, 1> translate <-3.4, -1.6, 0> } }
sphere { <1.8, 0, 0>, 1.5
  texture { material_map { png "img/pal4.png" map_type 1
      texture { pigment { rgb <0.3, 0.3, 0.9> } }
      texture { pigment { rgb <0.9, 0.9, 0.3> } normal { bumps 0.5 scale 0.1 } }
      texture { pigment { rgb <0.9, 0.5, 0.1> } }
      texture { pigment { rgb 0.9 } }
    } rotate 30*y } }
