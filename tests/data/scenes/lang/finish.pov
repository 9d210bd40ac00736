// metallic highlights (POV-Ray's empirical Fresnel curve) with phong and specular
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 2, -6> look_at <0, 0.7, 0> }
light_source { <-4, 6, -5> color rgb <1, 0.95, 0.9> }
light_source { <5, 3, -3> color rgb 0.5 }
plane { y, 0 pigment { checker rgb 0.8 rgb 0.3 } }
sphere { <-1.5, 0.8, 0>, 0.8 pigment { rgb <0.9, 0.6, 0.2> }
         finish { metallic ambient 0.2 diffuse 0.4 specular 0.8 roughness 1/40 } }
sphere { <0.3, 0.8, 0>, 0.8 pigment { rgb <0.3, 0.5, 0.9> }
         finish { metallic 0.5 phong 0.9 phong_size 30 reflection 0.2 } }
box { <1.4, 0, -0.6>, <2.6, 1.2, 0.6> pigment { rgb <0.8, 0.2, 0.2> }
      finish { phong 1 metallic } rotate y * 30 }
