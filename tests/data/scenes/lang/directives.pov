// The directive language: #include through the library path, macros, loops, #switch,
// arrays, strings, functions, object identifiers, #default.
#version 3.7;
#include "mylib.inc"
#include "mylib.inc" // the guard makes the second inclusion empty
global_settings { assumed_gamma 1.0 }
#default { finish { ambient 0.2 diffuse 0.7 } }
#declare Aspect = image_width / image_height;
camera { location <0, 4, -7> look_at <0, 0.3, 0> right x * Aspect }
light_source { <-4, 8, -6> color rgb 1 }
#declare Colours = array[4] { rgb <1, 0.6, 0.1>, rgb <0.2, 0.8, 0.3>, rgb <0.3, 0.4, 1>, Lib_Red };
#declare Name = concat("ball", str(3, 0, 0));
#if (strlen(Name) = 5 & strcmp(substr(Name, 1, 4), "ball") = 0)
  #declare Ball = sphere { 0, 0.45 }
#else
  #error "string functions"
#end
#for (K, 0, 3)
  #switch (K)
    #case (0)
      #local Pig = pigment { Colours[0] };
      #break
    #range (1, 2)
      #local Pig = pigment { color Colours[K] * 0.9 };
      #break
    #else
      #local Pig = pigment { Colours[dimension_size(Colours, 1) - 1] };
  #end
  object { Ball pigment { Pig } translate <-2.4 + K * 1.6, 0.45, -1.5> }
#end
object { Ring(7, 1.5, sphere { 0, 0.25 pigment { rgb <max(0.2, 0.1), mod(7, 4) / 4, sqrt(0.25)> } })
         translate <0, 0.25, 1.5> }
#declare Flag = ((true & !false) ? on : off);
#if (Flag)
  box { <-4, -0.01, -4>, <4, 0, 4> pigment { checker rgb 1 rgb <0.4, 0.4, 0.45> } }
#end
#local Ang = degrees(atan2(1, 1));
cylinder { 0, vrotate(<0, 1.5, 0>, <0, 0, -Ang>), 0.1 pigment { color red 1 green 1 blue 0 }
           translate <2.5, 0, 2> }
