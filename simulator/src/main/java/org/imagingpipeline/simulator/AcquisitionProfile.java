package org.imagingpipeline.simulator;

import java.util.Locale;
import java.util.Random;
import org.imagingpipeline.shifts.AcquisitionShift;

/**
 * A simulated new scanner: an acquisition-like shift ({@link AcquisitionShift}, module acquisition-shifts: the same
 * code the adaptation benchmark and the drift power bench use) applied to real anatomy, with its own station name and
 * field strength. {@code --profile} takes a named profile with optional overrides, {@code gamma} [g=0.6],
 * {@code biasfield} [a=0.35], {@code lowfield} [blur=1.0 px, noise=0.04 Rician], {@code newscanner} [g=0.75, a=0.25,
 * blur=0.7, noise=0.025] as {@code NAME:key=value,...}, or any spec of the shift grammar, e.g.
 * {@code gamma:g=0.7+bias:a=0.3,pattern=lr+rician:sd=0.04}. Intensities are handled on [0,1]; the result is written
 * as 12-bit data.
 */
public record AcquisitionProfile(String name, AcquisitionShift shift, double fieldStrength) {

    public static AcquisitionProfile parse(String spec) {
        AcquisitionShift shift = AcquisitionShift.parse(spec);
        String head = spec.trim().split("[:+]", 2)[0].toLowerCase(Locale.ROOT);
        boolean named = !spec.contains("+") && java.util.List.of("gamma", "biasfield", "lowfield", "newscanner").contains(head);
        String name = named ? head : "shift-" + Integer.toHexString(shift.spec().hashCode() & 0xffffff);
        return new AcquisitionProfile(name, shift, head.equals("lowfield") ? 0.5 : 3.0);
    }

    public String stationName() {
        return ("SIM-" + name).toUpperCase(Locale.ROOT);
    }

    /** Applies the shift to one slice of [0,1] values (in place) with a seeded generator. */
    public void apply(float[] v, int w, int h, Random rnd) {
        shift.applyInPlace(v, w, h, rnd);
    }

    @Override
    public String toString() {
        return shift.spec();
    }
}
