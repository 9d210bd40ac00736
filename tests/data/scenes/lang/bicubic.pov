// bicubic_patch (issue 17): a saddle split to its flatness, a coarse one (steps used up),
// a transformed one (split in world space, as POV-Ray does), and type 0.
#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 4, -10> look_at <0, 0.3, 0> angle 50 }
light_source { <-5, 9, -7> rgb 1 }
plane { y, -1.5 pigment { checker rgb 0.8 rgb 0.6 } }
#declare Pts = bicubic_patch { type 1 flatness 0.05 u_steps 4 v_steps 4
  <0, 0, 2>, <1, 0, 0>, <2, 0, 0>, <3, 0, -2>,
  <0, 1, 0>, <1, 1, 0>, <2, 1, 0>, <3, 1, 0>,
  <0, 2, 0>, <1, 2, 0>, <2, 2, 0>, <3, 2, 0>,
  <0, 3, 2>, <1, 3, 0>, <2, 3, 0>, <3, 3, -2>
}
object { Pts pigment { checker rgb <0.9, 0.4, 0.2> rgb 1 scale 0.5 } finish { phong 0.6 }
  translate <-1.5, -1.5, 0> scale 0.7 rotate <30, -60, 0> translate <-3, 0, 0> }
bicubic_patch { type 1 flatness 0.5 u_steps 2 v_steps 3
  <0, 0, 0>, <1, 1, 0>, <2, 1, 0>, <3, 0, 0>,
  <0, 1, 1>, <1, 2, 1>, <2, 2, 1>, <3, 1, 1>,
  <0, 1, 2>, <1, 2, 2>, <2, 2, 2>, <3, 1, 2>,
  <0, 0, 3>, <1, 1, 3>, <2, 1, 3>, <3, 0, 3>
  pigment { rgb <0.3, 0.7, 0.3> } translate <-1.5, -1, -1.5> scale <0.8, 1, 0.6> }
bicubic_patch { type 0 flatness 0.01 u_steps 3 v_steps 3
  <0, 0, 0>, <1, 2, 0>, <2, -1, 0>, <3, 0, 0>,
  <0, 1, 1>, <1, 0, 1>, <2, 2, 1>, <3, 1, 1>,
  <0, -1, 2>, <1, 2, 2>, <2, 0, 2>, <3, 1, 2>,
  <0, 0, 3>, <1, 1, 3>, <2, 1, 3>, <3, 0, 3>
  pigment { rgb <0.9, 0.8, 0.2> } scale 0.7 rotate 20 * y translate <1.8, -0.5, -1> }
