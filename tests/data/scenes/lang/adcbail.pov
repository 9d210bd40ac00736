// global_settings adc_bailout (issue 17): a ray whose weight falls below it is not traced
// on; here a stack of clear boxes lets less through at each, and 0.3 stops it early.
#version 3.7;
global_settings { assumed_gamma 1 max_trace_level 20 adc_bailout 0.3 }
camera { location <0, 0, -6> look_at 0 angle 45 }
light_source { <5, 8, -6> rgb 1 }
background { rgb <0.2, 0.4, 0.8> }
#for (I, 0, 5)
  box { <-2 + I * 0.3, -1, I * 0.5>, <2, 1, I * 0.5 + 0.1> pigment { rgbf <1, 0.8, 0.6, 0.75> } }
#end
sphere { <0, 0, 5>, 1 pigment { rgb 1 } }
