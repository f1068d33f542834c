package org.imagingpipeline.streams;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.imagingpipeline.events.InstanceHeader;
import org.imagingpipeline.events.SeriesReady;

/** Orders a series' instances along the slice normal and derives its geometry. */
public final class SeriesOrdering {
    private SeriesOrdering() {
    }

    /** Position along the slice normal (IOP row x column) of IPP, or null without both. */
    static Double position(InstanceHeader h) {
        double[] o = h == null ? null : h.imageOrientationPatient();
        double[] p = h == null ? null : h.imagePositionPatient();
        if (o == null || o.length != 6 || p == null || p.length != 3) return null;
        double nx = o[1] * o[5] - o[2] * o[4];
        double ny = o[2] * o[3] - o[0] * o[5];
        double nz = o[0] * o[4] - o[1] * o[3];
        return nx * p[0] + ny * p[1] + nz * p[2];
    }

    static List<SeriesReady.Instance> ordered(List<InstanceEntry> entries) {
        List<SeriesReady.Instance> out = new ArrayList<>();
        for (InstanceEntry e : entries) {
            out.add(new SeriesReady.Instance(e.sopInstanceUid(), e.sopClassUid(), e.instanceNumber(), e.position(), e.transferSyntaxUid(), e.blob()));
        }
        out.sort(Comparator.comparing(SeriesReady.Instance::position, Comparator.nullsLast(Comparator.naturalOrder()))
                .thenComparing(SeriesReady.Instance::instanceNumber, Comparator.nullsLast(Comparator.naturalOrder()))
                .thenComparing(SeriesReady.Instance::sopInstanceUid));
        return out;
    }

    static SeriesReady.Geometry geometry(InstanceHeader first, List<InstanceEntry> entries, List<SeriesReady.Instance> ordered) {
        boolean consistent = true;
        InstanceEntry ref = entries.isEmpty() ? null : entries.get(0);
        for (InstanceEntry e : entries) {
            consistent &= Objects.equals(ref.rows(), e.rows()) && Objects.equals(ref.columns(), e.columns())
                    && Arrays.equals(ref.pixelSpacing(), e.pixelSpacing())
                    && Arrays.equals(ref.imageOrientationPatient(), e.imageOrientationPatient());
        }
        List<Double> gaps = new ArrayList<>();
        for (int i = 1; i < ordered.size(); i++) {
            Double a = ordered.get(i - 1).position();
            Double b = ordered.get(i).position();
            if (a != null && b != null && Math.abs(b - a) > 1e-6) gaps.add(Math.abs(b - a));
        }
        Double spacing = null;
        if (!gaps.isEmpty()) {
            gaps.sort(null);
            spacing = gaps.get(gaps.size() / 2);
        }
        if (first == null) return new SeriesReady.Geometry(null, null, null, null, spacing, null, null, consistent);
        return new SeriesReady.Geometry(first.rows(), first.columns(), first.pixelSpacing(), first.sliceThickness(), spacing,
                first.imageOrientationPatient(), first.frameOfReferenceUid(), consistent);
    }
}
