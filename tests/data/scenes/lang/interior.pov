// interior { } (issue 17): refraction and total internal reflection as POV-Ray 3.7 traces
// them, fade_distance / fade_power / fade_color, reflection through glass,
// shadows through glass faded inside (c/povray/interior.c).
#version 3.7;
global_settings { assumed_gamma 1 max_trace_level 8 }
camera { location <0, 2.5, -7> look_at <0, 0.4, 0> angle 50 }
light_source { <-4, 9, -6> rgb 1 }
plane { y, -1 pigment { checker rgb <0.9, 0.85, 0.7>, rgb <0.2, 0.3, 0.5> } }
plane { z, 6 pigment { gradient x color_map { [0 rgb <1, 0.3, 0.2>] [1 rgb <0.2, 0.8, 0.3>] } } }
sphere { <-1.6, 0.2, 0>, 1.1
  pigment { rgbf <0.95, 0.98, 1, 0.95> }
  finish { phong 0.8 reflection 0.1 }
  interior { ior 1.5 }
}
box { <0.3, -1, -0.6>, <2.4, 1.2, 0.9>
  pigment { rgbt <1, 1, 1, 0.9> }
  interior { ior 1.3 fade_distance 1.2 fade_power 2 fade_color rgb <0.2, 0.6, 1> }
}
cylinder { <2.8, -1, 2>, <2.8, 2.5, 2>, 0.5
  pigment { rgbf <0.9, 1, 0.9, 0.8> }
  interior { ior 2.4 fade_distance 0.8 fade_power 1001 }
}
