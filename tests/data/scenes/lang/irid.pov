// finish { irid { amount thickness turbulence } }: thin-film interference on each light's
// diffuse and highlights and on the reflection; a second scene-wide wavelength set below.
#version 3.7;
global_settings { assumed_gamma 1.0 irid_wavelength rgb <0.65, 0.5, 0.4> }
camera { location <0, 1.5, -9> look_at <0, 0.2, 0> angle 40 }
light_source { <150, 150, -2500> colour rgb 0.9 }
light_source { <-300, 500, -500> colour rgb 0.4 }
plane { y, -1 pigment { checker rgb <0.9, 0.3, 0.2>, rgb <0.2, 0.4, 0.9> } }
sphere { <-2.2, 0, 0>, 0.9 pigment { rgb 1 }
    finish { diffuse 0.3 phong 1 irid { 0.5 thickness 0.5 } } }
sphere { <0, 0, 0>, 0.9 pigment { rgb <1, 0.9, 0.7> }
    finish { diffuse 0.3 specular 0.8 irid { 0.7 thickness 1.2 turbulence 0.6 } } }
sphere { <2.2, 0, 0>, 0.9 pigment { rgb 0.2 }
    finish { diffuse 0.2 reflection 0.6 irid { 0.4 thickness 0.3 turbulence <0.3, 0, 0> } } }
