// optional.pov with every argument given (POV-Ray 3.7.0 has no 'optional').
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 0, -5> look_at 0 }
light_source { <0, 5, -5> color rgb 1 }
#macro Ball(X, C, Rad)
  sphere { <X, 0, 0>, Rad pigment { color rgb C } }
#end
Ball(-2, <1, 0, 0>, 0.5)
Ball(-0.7, <1, 0, 0>, 0.3)
Ball(0.6, <0, 1, 0>, 0.5)
Ball(2, <0, 0, 1>, 0.8)
