// A sky_sphere of three pigments (the last on top), with filter and transmit, over a
// coloured background that shows through where they all pass light; POV-Ray 3.7's
// #version 3.6 blend, kept by POV-Ray 3.7 for old scenes (issue 17).
#version 3.6;
global_settings { assumed_gamma 1.0 }
camera { location <0, 0, -4> look_at <0, 0.5, 0> angle 100 }
background { rgb <0.1, 0.4, 0.1> }
#declare Sky = sky_sphere {
  pigment { gradient y color_map { [0 rgbt <0.8, 0.3, 0.2, 0.6>] [1 rgb <0.1, 0.1, 0.5>] } }
  pigment {
    bozo turbulence 0.6 octaves 5 omega 0.5 lambda 2.5
    color_map { [0.0 rgbf <0.9, 0.9, 0.9, 0.2>] [0.5 rgbf <0.9, 0.8, 0.9, 0.9>] [1.0 rgbt 1] }
    scale <0.6, 0.2, 0.6>
  }
  pigment {
    wood color_map { [0 rgbft <1, 1, 0, 0.3, 0.4>] [0.5 rgbt <0.2, 0.2, 0.2, 1>] [1 rgbt 1] }
    scale 0.3 rotate x*70
  }
}
sky_sphere { Sky rotate y*20 }
