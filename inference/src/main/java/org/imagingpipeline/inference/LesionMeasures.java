package org.imagingpipeline.inference;

import java.util.Locale;
import org.imagingpipeline.events.SegmentationResult;

/**
 * The result's lesion measures. Volume in mL = voxels x row spacing x column spacing x slice spacing / 1000; a
 * spacing the header does not give is assumed to be 1 mm, and {@code spacingAssumption} says which were read and
 * which assumed.
 */
public final class LesionMeasures {
    private LesionMeasures() {
    }

    public static SegmentationResult.Lesion of(Segmentation seg, SliceStack stack) {
        double rowSpacing = 1.0;
        double columnSpacing = 1.0;
        double sliceSpacing = 1.0;
        StringBuilder how = new StringBuilder();
        if (stack.pixelSpacing() != null) {
            rowSpacing = stack.pixelSpacing()[0];
            columnSpacing = stack.pixelSpacing()[1];
            how.append(String.format(Locale.ROOT, "PixelSpacing %sx%s mm from the header", fmt(rowSpacing), fmt(columnSpacing)));
        } else {
            how.append("PixelSpacing absent, assumed 1x1 mm");
        }
        if (stack.sliceSpacing() != null) {
            sliceSpacing = stack.sliceSpacing();
            how.append(", ").append(fmt(sliceSpacing)).append(" mm between slices (").append(stack.sliceSpacingFrom()).append(')');
        } else {
            how.append(", slice spacing unknown, assumed 1 mm");
        }
        double ml = seg.foregroundVoxels() * rowSpacing * columnSpacing * sliceSpacing / 1000.0;
        return new SegmentationResult.Lesion(seg.foregroundVoxels(), ml, how.toString(), seg.slicesWithLesion(),
                seg.meanForegroundProbability(), seg.meanPredictiveEntropy());
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4g", v).replaceAll("\\.?0+$", "");
    }
}
