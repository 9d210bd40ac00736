// An average pigment_map whose entries leave out their weights (POV-Ray takes 1 each:
// qtvrpanorama.pov's sky), beside one with a weight; looks_like with a declared object
// identifier (issue 17).
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 0.5, -5> look_at <0, 0.5, 0> angle 60 }
sky_sphere {
  pigment {
    average
    pigment_map {
      [ gradient y color_map { [0.0 color blue 0.2] [1.0 color rgb 1] } ]
      [ bozo scale 0.3 color_map { [0 rgb <0.2, 0.3, 0.9>] [1 rgb 1] } ]
      [ 2 checker rgb 0 rgb <0, 1, 0> scale 0.2 ]
    }
  }
}
#declare Bulb = sphere { 0, 0.4 pigment { rgb <1, 0.8, 0.2> } finish { ambient 1 diffuse 0 } }
light_source { <1.2, 1.2, 0> rgb 1 looks_like { Bulb } }
plane { y, -1 pigment { rgb 0.7 } }
