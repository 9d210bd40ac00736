// POV-Ray's text file directives (#fopen #write #read #fclose), a value that ends
// without a ';' before a directive or a macro call, and #ifdef of array elements.
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 2, -9> look_at <0, 0.6, 0> angle 45 }
light_source { <-20, 40, -30>, rgb 1 }
background { rgb <0.2, 0.3, 0.4> }

#macro Ball(P, R, C) sphere { P, R pigment { rgb C } } #end

// values without ';' followed by a directive and by a macro call
#declare Name = "balls"
#declare Radius = 0.35;
Ball(<-3, 0, 0>, Radius, <1, 0.5, 0>)

#fopen Out concat(Name, ".txt") write
#write (Out, "\"first\",", 0.25, ",", <-1.5, 0.3, 0.5>, ",\n")
#write (Out "\"second\", -0.5, <1.5, 0.8, -0.25>\n")
#fclose Out

#fopen In concat(Name, ".txt") read
#declare N = 0;
#while (defined(In))
    #read (In, Label, Size, Where)
    #declare N = N + 1;
    sphere { Where, 0.3 + Size * 0.4
        pigment { rgb (strlen(Label) = 5 ? <0.2, 0.9, 0.3> : <0.9, 0.2, 0.6>) } }
#end

#declare Marks = array[3]
#declare Marks[0] = 1;
#declare Marks[2] = 1;
#declare I = 0;
#while (I < 3)
    #ifdef (Marks[I])
        box { <-0.3 + I, -1, 1>, <0.3 + I, -0.4, 1.6> pigment { rgb <N / 2, 0.4, 0.1> } }
    #end
    #declare I = I + 1;
#end
plane { y, -1 pigment { checker rgb 0.8, rgb 0.5 } }
