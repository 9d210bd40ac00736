// min_extent / max_extent (issue 16): small spheres at the corners POV-Ray 3.7 reports for
// a sphere, a rotated box, a union, a difference, an intersection and a blob, plus a macro
// argument list with a comma left out (POV-Ray takes it).
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 4, -12> look_at <0, 0.5, 0> angle 55 }
light_source { <5, 10, -10> rgb 1 }
#macro Corners(Obj, C)
  #local A = min_extent(Obj);
  #local B = max_extent(Obj);
  sphere { A, 0.12 pigment { rgb C } }
  sphere { B, 0.12 pigment { rgb C } }
  sphere { <A.x, B.y, (A.z + B.z) / 2>, 0.08 pigment { rgb C } }
#end
#declare S = sphere { <-3, 0.5, 0>, 0.8 }
#declare R = box { -0.5, 0.5 rotate <0, 30, 20> translate <-1, 0.5, 0> }
#declare U = union { sphere { <0.5, 0, 0>, 0.5 } box { <1, 0, -0.4>, <1.6, 1.2, 0.4> } }
#declare D = difference { box { <2.2, 0, -0.5>, <3.2, 1, 0.5> } sphere { <3.2, 1, 0>, 2 } }
#declare I = intersection { sphere { <0, 2.5, 0>, 1 } box { <-2, 2.2, -2>, <2, 4, 2> } }
#declare Bl = blob { threshold 0.5 sphere { <-2, 2.5, 0>, 0.8, 1 } sphere { <-2.6, 2.5, 0>, 0.6, 1 } }
#for (K, 0, 5)
  #declare O = array[6] { S, R, U, D, I, Bl }
  object { O[K] pigment { rgb 0.8 } }
  Corners(O[K] <1, 0.2, 0.1>)
#end
plane { y, -0.3 pigment { rgb 0.5 } }
