// Declared interiors and materials: '#declare I = interior { }' used by two objects and
// changed by a third ('interior { I ior 1.2 }'), '#declare M = material { texture { }
// interior { } }', 'material { M }' and 'material { Arr[i] }', a material on a union.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 3, -8> look_at <0, 0.5, 0> angle 50 }
light_source { <-6, 10, -8>, rgb 1 }
plane { y, -1 pigment { checker rgb <0.9, 0.9, 0.2>, rgb <0.2, 0.5, 0.9> } }
plane { z, 6 pigment { checker rgb 0.9, rgb 0.1 scale 0.7 } }

#declare Glass = interior { ior 1.5 fade_distance 1 fade_power 2 fade_color rgb <0.2, 0.6, 0.3> }
#declare Clear = texture { pigment { rgbf <1, 1, 1, 0.9> } finish { phong 1 } }
#declare Ruby = material {
    texture { pigment { rgbf <1, 0.3, 0.3, 0.8> } finish { reflection 0.1 } }
    interior { Glass }
}
#declare Mats = array[2] { material { Ruby }, material { texture { Clear } interior { ior 1.33 } } }

sphere { <-2.5, 0, 0>, 0.9 texture { Clear } interior { Glass } }
box { <-1.2, -1, -0.6>, <-0.2, 0.8, 0.4> texture { Clear } interior { Glass } }
sphere { <0.9, 0, 0>, 0.9 texture { Clear } interior { Glass ior 1.2 } }
sphere { <2.9, 0, 0>, 0.9 material { Ruby } }
cylinder { <-2, -0.9, -2>, <-2, 0.2, -2>, 0.5 material { Mats[1] } }
union {
    sphere { <1.5, -0.4, -2>, 0.5 }
    sphere { <2.3, -0.4, -2>, 0.5 }
    material { Mats[0] }
}
