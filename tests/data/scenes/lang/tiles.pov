// POV-Ray's old tiles { TEXTURES tile2 TEXTURES } texture: the checker of the two, the
// first tile layered (a clear-spotted layer over marble), transforms after it moving the
// whole (issue 17).
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 3, -5> look_at <0, 0, 0> angle 50 }
light_source { <-5, 10, -8> rgb 1 }
box {
  <-2, -0.5, -2>, <2, 0, 2>
  texture {
    tiles {
      texture {
        pigment { marble turbulence 1 scale 0.5 color_map { [0 rgb 0.95] [0.6 rgb <0.2, 0.25, 0.3>] [1 rgb 0.95] } }
        finish { diffuse 1 }
      }
      texture { pigment { bozo scale 0.1 color_map { [0.5 rgbt 1] [0.5 rgb <0.8, 0.1, 0.1>] } } }
      tile2
      texture { pigment { rgb 0.1 } finish { diffuse 1 specular 0.5 roughness 0.025 } }
    }
    scale 0.5
    rotate y*20
  }
}
