#version 3.7;
// demo.pov -- cpushare-mq's bundled demo: a small temple of mirrors.
// Uses only the supported subset: #declare, union, transforms, sphere, plane, box,
// cylinder, checker pigments, phong/specular highlights and reflection.
global_settings { assumed_gamma 1.0 max_trace_level 6 }
background { color rgb <0.08, 0.10, 0.18> }

camera {
  location <0, 3.2, -9.5>
  look_at  <0, 1.2, 0>
  angle 50
}

light_source { <-8, 12, -10> color rgb <1.0, 0.95, 0.9> }
light_source { <9, 7, -4> color rgb <0.25, 0.3, 0.45> }

#declare Marble = texture {
  pigment { color rgb <0.92, 0.9, 0.86> }
  finish { ambient 0.08 diffuse 0.7 phong 0.4 phong_size 60 }
}
#declare Chrome = finish { ambient 0.02 diffuse 0.15 reflection 0.75 phong 1.0 phong_size 200 }
#declare Glossy = finish { ambient 0.08 diffuse 0.65 specular 0.7 roughness 0.02 reflection 0.12 }

// the floor: a reflective checkerboard
plane {
  y, 0
  pigment { checker color rgb <0.85, 0.85, 0.8> color rgb <0.12, 0.12, 0.16> scale 1.5 }
  finish { ambient 0.06 diffuse 0.75 reflection 0.18 }
}

// a column: base, shaft, capital
#declare Rad = 0.28;
#declare Column = texture { Marble }

union {
  box { <-0.45, 0, -0.45>, <0.45, 0.25, 0.45> }
  cylinder { <0, 0.25, 0>, <0, 3.2, 0>, Rad }
  box { <-0.45, 3.2, -0.45>, <0.45, 3.45, 0.45> }
  texture { Column }
  translate <-3.2, 0, 1.5>
}
union {
  box { <-0.45, 0, -0.45>, <0.45, 0.25, 0.45> }
  cylinder { <0, 0.25, 0>, <0, 3.2, 0>, Rad }
  box { <-0.45, 3.2, -0.45>, <0.45, 3.45, 0.45> }
  texture { Column }
  translate <3.2, 0, 1.5>
}
union {
  box { <-0.45, 0, -0.45>, <0.45, 0.25, 0.45> }
  cylinder { <0, 0.25, 0>, <0, 3.2, 0>, Rad }
  box { <-0.45, 3.2, -0.45>, <0.45, 3.45, 0.45> }
  texture { Column }
  translate <-1.6, 0, 4>
}
union {
  box { <-0.45, 0, -0.45>, <0.45, 0.25, 0.45> }
  cylinder { <0, 0.25, 0>, <0, 3.2, 0>, Rad }
  box { <-0.45, 3.2, -0.45>, <0.45, 3.45, 0.45> }
  texture { Column }
  translate <1.6, 0, 4>
}
// the lintel across the back columns
box { <-2.2, 3.45, 3.4>, <2.2, 3.75, 4.6> texture { Marble } }

// the centre piece: a chrome sphere on a plinth
box { <-0.8, 0, -0.8>, <0.8, 0.4, 0.8> texture { Marble } rotate <0, 45, 0> }
sphere { <0, 1.45, 0>, 1.05 pigment { color rgb <0.95, 0.95, 1.0> } finish { Chrome } }

// coloured glossy spheres around it
sphere { <-1.9, 0.5, -1.6>, 0.5 pigment { color rgb <0.9, 0.15, 0.1> } finish { Glossy } }
sphere { <1.9, 0.5, -1.6>, 0.5 pigment { color rgb <0.1, 0.35, 0.95> } finish { Glossy } }
sphere { <0, 0.35, -2.4>, 0.35 pigment { color rgb <1.0, 0.75, 0.1> } finish { Glossy } }
sphere { <-2.9, 0.3, -0.6>, 0.3 pigment { color rgb <0.2, 0.8, 0.3> } finish { Glossy } }
sphere { <2.9, 0.3, -0.6>, 0.3 pigment { color rgb <0.7, 0.2, 0.8> } finish { Glossy } }

// a tumbled die: a rotated box
box {
  <-0.35, -0.35, -0.35>, <0.35, 0.35, 0.35>
  pigment { color rgb <0.95, 0.5, 0.2> }
  finish { ambient 0.08 diffuse 0.7 phong 0.6 }
  rotate <0, 30, 0>
  translate <-1.1, 0.35, -3.3>
}
// a pebble: a non-uniformly scaled sphere
sphere {
  <0, 0, 0>, 0.3
  scale <1.6, 0.6, 1.0>
  rotate <0, -25, 0>
  translate <1.2, 0.18, -3.2>
  pigment { color rgb <0.3, 0.9, 0.9> }
  finish { Glossy }
}
