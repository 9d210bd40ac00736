// splines (issue 16): linear, quadratic, cubic (Catmull-Rom) and natural splines, a spline
// made from another, a call naming another type, and a spline function; POV-Ray 3.7.0.10
// writes ref/splines.txt with this scene (#write), the test compares ours with it.
#version 3.7;
#declare S1 = spline { linear_spline -1, <0,0,0> 0, <1,2,0>, 2, <3,-1,1> 5, <0,0,0> }
#declare S2 = spline { quadratic_spline -1, <0,0,0> 0, <1,2,0>, 2, <3,-1,1> 5, <0,0,0> }
#declare S3 = spline { cubic_spline -1, <0,0,0> 0, <1,2,0>, 2, <3,-1,1> 5, <0,0,0> 6, <1,1,1> }
#declare S4 = spline { natural_spline -1, <0,0,0> 0, <1,2,0>, 2, <3,-1,1> 5, <0,0,0> 6, <1,1,1> }
#declare S5 = spline { S4 3, <2, 2, 2> }
#declare F = function { spline { cubic_spline 0, 1, 1, 3, 2, 2, 3, 5 } }
#declare R = "";
#for (T, -2, 7, 0.7)
  #declare R = concat(R, vstr(3, S1(T), ",", 0, 4), " ", vstr(3, S2(T), ",", 0, 4), " ", vstr(3, S3(T), ",", 0, 4), " ", vstr(3, S4(T), ",", 0, 4), " ", vstr(3, S5(T), ",", 0, 4), " ", vstr(3, S1(T, natural_spline), ",", 0, 4), " ", vstr(2, F(T/2), ",", 0, 4), "\n");
#end
#fopen OUT "splines.txt" write
#write (OUT, R)
#fclose OUT
