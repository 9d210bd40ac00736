// camera items after its transforms (issue 16): from #version 3.5 on, POV-Ray applies the
// transforms after the other items wherever they are written (camera/shear.pov,
// incdemo/math.pov).
#version 3.7;
global_settings { assumed_gamma 1 }
camera { rotate y*30 location <0,2,-5> right x*1.33 angle 60 translate <0.5, 0, 0>
  look_at <1,0,0> scale <1, 1.2, 1> sky <0.1, 1, 0> }
light_source { <5, 9, -7> rgb 1 }
plane { y, -1 pigment { checker rgb 0.8 rgb 0.3 } }
sphere { 0, 1 pigment { rgb <1,0.3,0.2> } }
