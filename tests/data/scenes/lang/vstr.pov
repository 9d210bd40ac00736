// str() and vstr() formatting (issue 16): each sphere is green when the string equals the
// text POV-Ray 3.7 prints for it, red otherwise.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 0, -10> look_at 0 angle 50 }
light_source { <0, 5, -10> rgb 1 }
#declare Got = array[6] {
  str(0.5, 0, -1), str(2, -4, 1), str(3.25, 8, 2),
  vstr(3, <1, 2.5, -3>, ", ", 0, 1), vstr(5, <0.2, 0.3, 0.4, 0.5, 0.6>, "|", -6, -1),
  vstr(2, 7, ",", 3, 0) }
#declare Want = array[6] {
  "0.500000", "02.0", "    3.25", "1.0, 2.5, -3.0",
  "0.200000|0.300000|0.400000|0.500000|0.600000", "  7,  0" }
#for (I, 0, 5)
  sphere { <I * 1.4 - 3.5, 0, 0>, 0.6
    pigment { #if (strcmp(Got[I], Want[I]) = 0) rgb <0, 1, 0> #else rgb <1, 0, 0> #end } }
#end
