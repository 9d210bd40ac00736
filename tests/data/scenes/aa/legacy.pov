// Anti-aliasing test scene (issue 16): no #version and no assumed_gamma (gamma
// correction off), an orthographic camera, thin stripes.
camera { orthographic location <0, 0, -10> look_at <0, 0, 0> angle 40 }
light_source { <3, 5, -10> color rgb 1 }
background { color rgb 0 }
plane { z, 2 pigment { gradient x color_map { [0 color rgb <1, 1, 1>] [0.5 color rgb <1, 1, 1>] [0.5 color rgb 0] [1 color rgb 0] } scale 0.37 rotate z * 20 } }
sphere { <0, 0, 0>, 2.2 pigment { color rgb <0.3, 0.5, 1> } finish { specular 0.6 roughness 0.02 } }
torus { 2.6, 0.15 rotate x * 70 pigment { color rgb <1, 0.6, 0.1> } }
