// Finish reflection as POV-Ray 3.7 computes it (issue 17): reflection { MIN, MAX falloff
// exponent metallic }, the old `reflection C`, reflection_exponent, fresnel (with no
// interior, index of refraction 1: the minimum), conserve_energy on a see-through layer,
// emission, and a bumpy mirror whose reflected rays would leave below the surface (mirrored
// again by the raw normal, as POV-Ray's ComputeReflection does).
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 3, -9> look_at <0, 0.4, 0> angle 50 }
light_source { <-5, 9, -7> rgb 1 }
plane { y, -1 pigment { checker rgb <0.9, 0.3, 0.2> rgb 0.9 } }
plane { z, 6 pigment { gradient x color_map { [0 rgb <0.1, 0.3, 0.9>] [1 rgb 1] } } }

sphere { <-3.2, 0.2, 0>, 1
  pigment { rgb <0.8, 0.6, 0.1> }
  finish { reflection { 0.05, 0.9 falloff 2 exponent 0.7 metallic 0.8 } phong 0.5 }
}
sphere { <-1, 0.2, 0>, 1
  pigment { rgb 0.2 }
  finish { reflection 0.4 reflection_exponent 1.5 specular 0.4 }
}
sphere { <1.2, 0.2, 0>, 1
  pigment { rgb 0.3 }
  normal { bumps 0.8 scale 0.15 }
  finish { reflection { 0.2, 0.8 fresnel } phong 1 phong_size 200 }
}
box { <2.5, -1, -0.8>, <4, 1.4, 0.8>
  texture { pigment { rgb <0.3, 0.6, 0.3> } }
  texture { pigment { rgbt <0.9, 0.9, 1, 0.6> }
            finish { reflection { 0.3, 0.6 } conserve_energy emission 0.2 } }
}
