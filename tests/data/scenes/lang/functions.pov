// User-defined float functions (issue 16).
#version 3.7;
global_settings { assumed_gamma 1.0 }
#declare Sq = function(a) { a * a }
#declare Wave = function { 0.5 + 0.4 * sin(x * 3 + y) * cos(z) }
#declare Pick = function(a, b, c) { select(a - 0.5, b, c) + Sq(0.5) - 0.25 }
#declare Hyp = function(u, v) { sqrt(Sq(u) + Sq(v)) }
camera { location <0, 1.5, -6> look_at <0, 0.8, 0> angle 55 }
light_source { <-4, 6, -5> color rgb 1 }
background { color rgb <Wave(0.1, 0.2, 0.3), 0.3, 0.5> }
plane { y, 0 pigment { checker color rgb 1 color rgb Pick(0.2, 0.1, 0.6) } }
#local I = 0;
#while (I < 5)
  sphere { <I - 2, 0.3 + Sq(I) / 16, 0>, 0.2 + Hyp(0.3, 0.4) * 0.1
           pigment { color rgb <Wave(I, 0, 0), Wave(0, I, 1), Pick(I / 4, 0.9, 0.2)> } }
  #local I = I + 1;
#end
