// A declared sky_sphere (skies.inc's S_Cloud1..4 form): gradient y with a pigment_map of
// clouds, used with its own transform after the identifier; a sky transform standing
// before the pigment moves the pigment too (issue 17).
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 1, -4> look_at <0, 1.5, 0> angle 70 }
light_source { <10, 20, -10> rgb 1 }
#declare Clouds = pigment {
  bozo turbulence 0.5 octaves 4 omega 0.6 lambda 2.2
  color_map { [0.0 rgb <0.9, 0.9, 0.95>] [0.5 rgb <0.3, 0.5, 0.9>] [1.0 rgb <0.1, 0.2, 0.7>] }
}
#declare Sky = sky_sphere {
  pigment {
    gradient y
    pigment_map {
      [0.02 rgb <0.85, 0.75, 0.85>]
      [0.20 Clouds scale 0.25 rotate z*5]
      [0.60 Clouds scale <0.25, 0.15, 0.25> rotate z*10]
    }
  }
}
sky_sphere { Sky rotate y*30 }
plane { y, 0 pigment { checker rgb <0.2, 0.5, 0.2> rgb 0.8 } }
sphere { <0, 1, 0>, 0.7 pigment { rgb <0.9, 0.4, 0.2> } finish { phong 0.6 } }
