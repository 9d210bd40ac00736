// Optional macro parameters (issue 16; POV-Ray 3.7.1's 'optional'): the same picture as
// optional_explicit.pov, whose POV-Ray 3.7.0 render is ref/optional_explicit.png.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 0, -5> look_at 0 }
light_source { <0, 5, -5> color rgb 1 }
#macro Ball(X, optional C, optional R)
  #ifndef (C) #local C = <1, 0, 0>; #end
  #ifdef (R) #local Rad = R; #else #local Rad = 0.5; #end
  sphere { <X, 0, 0>, Rad pigment { color rgb C } }
#end
Ball(-2)
Ball(-0.7, , 0.3)
Ball(0.6, <0, 1, 0>)
Ball(2, <0, 0, 1>, 0.8)
