#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 0, -8> look_at 0 angle 50 }
light_source { <5, 8, -6> rgb 1 }
#declare S = seed(12345);
#declare T = seed(-7);
#for (I, 1, 40)
  sphere { <rand(S) * 8 - 4, rand(S) * 6 - 3, rand(T) * 4>, 0.1 + 0.3 * rand(T)
           pigment { rgb <rand(S), rand(T), rand(S)> } }
#end
