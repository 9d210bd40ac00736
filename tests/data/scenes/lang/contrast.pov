// POV-Ray's contrast trick (advanced/bwstripe.pov, issue 16): a tiny sphere around the
// camera with transmit 100 and ambient 1: what is behind it times 100.5, minus 49.5 (its own
// light times 1 - transmit), so greys near 0.5 spread to black and white.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 1, -6> look_at <0, 0.5, 0> angle 45 }
light_source { <-5, 8, -6> rgb 1 }
plane { y, -1 pigment { gradient x color_map { [0 rgb 0.49] [1 rgb 0.51] } scale 2 } finish { ambient 1 diffuse 0 } }
sphere { <0, 0.5, 0>, 1 pigment { bozo color_map { [0 rgb 0.492] [1 rgb 0.505] } scale 0.3 } finish { ambient 1 diffuse 0 } }
sphere { <0, 1, -6>, 0.001 hollow pigment { color rgb 0.5 transmit 100 } finish { ambient 1 diffuse 0 } }
