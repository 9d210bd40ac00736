// vturbulence(Lambda, Omega, Octaves, V): POV-Ray's turbulence displacement vector,
// here moving a grid of small spheres (two parameter sets).
#version 3.7;
global_settings { assumed_gamma 1.0 }
camera { location <0, 6, -7> look_at 0 angle 40 }
light_source { <-5, 10, -8>, rgb 1 }
background { rgb <0.9, 0.85, 0.8> }
#declare X = -2;
#while (X <= 2)
    #declare Z = -2;
    #while (Z <= 2)
        #declare P = <X, 0, Z>;
        sphere { P + vturbulence(2, 0.5, 6, P) * 0.4, 0.08 pigment { rgb <0.9, 0.5, 0.1> } }
        sphere { P + vturbulence(3, 0.7, 2, P * 1.7) * 0.3, 0.05 pigment { rgb <0.1, 0.3, 0.9> } }
        #declare Z = Z + 0.25;
    #end
    #declare X = X + 0.25;
#end
