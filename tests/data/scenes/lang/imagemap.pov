// image_map (issue 17): every PNG colour type, the four map types, interpolation, once,
// repeat and offset, filter/transmit of palette entries and of whole images, and gamma
// from the file (gAMA, sRGB chunk), by default (sRGB) and given.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 0, -9> look_at <0, 0, 0> angle 60 }
light_source { <-5, 8, -10> rgb 1 }
background { rgb <0.2, 0.3, 0.4> }
plane { z, 1 pigment { checker rgb 1 rgb 0.3 scale 0.5 } }

// a 4-bit palette with tRNS, planar, once, bilinear, entries made clear
plane { z, 0 clipped_by { box { <-4.6, 1.2, -1>, <-1.8, 3.2, 1> } }
  pigment { image_map { png "img/pal4.png" once interpolate 2 transmit 5, 0.8 filter 6, 0.6 }
            scale <2.8, 2, 1> translate <-4.6, 1.2, 0> } finish { ambient 0.4 } }
// RGB with gAMA on a sphere, spherical
sphere { <0, 2.2, 0>, 1.1
  pigment { image_map { png "img/rgb8.png" map_type 1 interpolate 4 } rotate 30*y }
  finish { ambient 0.3 } }
// 16-bit grey, cylindrical, repeat and offset, its gamma given
cylinder { <3.2, 1.2, 0>, <3.2, 3.2, 0>, 0.9
  pigment { image_map { png "img/grey16.png" gamma 2.2 map_type 2 repeat <2, 1>
                        offset <0.25, 0> } scale <1, 2, 1> translate 1.2*y } }
// RGBA, interlaced, sRGB chunk, torus map, transmit all
torus { 1.2, 0.45 rotate -70*x translate <-3, -1.4, 0>
  pigment { image_map { png "img/rgba8i.png" map_type 5 transmit all 0.3 } } }
// 8-bit grey tiled, rotated, with turbulence; a palette with filter all
box { <-0.9, -2.6, -0.5>, <0.9, -0.4, 0.5>
  pigment { image_map { png "img/grey8.png" } scale 0.7 rotate 20*z turbulence 0.1 } }
plane { z, -0.5 clipped_by { box { <1.8, -2.8, -1>, <4.6, -0.6, 1> } }
  pigment { image_map { "img/pal4.png" filter all 0.5 } scale 1.4 translate <1.8, -2.8, 0> }
  finish { ambient 0.6 } }
