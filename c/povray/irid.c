/* irid.c -- POV-Ray 3.7's iridescence, finish { irid { AMOUNT thickness T turbulence U } }
 * (its trace.cpp, ComputeIridColour): thin-film interference tints a colour by
 *     phase = 2 pi thickness' (|N.L| + |N.E|),  c *= 1 + AMOUNT cos(phase / wavelength)
 * per channel, with global_settings { irid_wavelength } (default 0.70, 0.52, 0.48) and the
 * film thickness varied by turbulence (octaves 5, omega 0.5, lambda 2, the scene's noise
 * generator): thickness' = thickness (1 + U (2 turbulence - 1)). POV-Ray tints each light's
 * diffuse and highlights (L toward the light, E the viewing ray) and the reflected colour
 * (L the reflected ray). Included by render.c.
 */

static vec3 irid_tint(const scene *s, const finish *f, vec3 L, vec3 E, vec3 N, vec3 P, vec3 c)
{
    double thickness = f->irid_thickness;
    if (f->irid_turb != 0.0) {
        double n = pov_turbulence_of(P, s->noise_generator, 5, 0.5, 2.0);
        thickness *= 1.0 + (2.0 * n - 1.0) * f->irid_turb;
    }
    double phase = 2.0 * RT_PI * thickness * (rt_fabs(vdot(N, L)) + rt_fabs(vdot(N, E)));
    vec3 wl = s->irid_wavelength;
    return v3(c.x * (1.0 + f->irid * rt_cos(phase / wl.x)),
              c.y * (1.0 + f->irid * rt_cos(phase / wl.y)),
              c.z * (1.0 + f->irid * rt_cos(phase / wl.z)));
}
