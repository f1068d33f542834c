package org.imagingpipeline.inference;

import com.pixelmed.dicom.AttributeList;
import java.util.List;

/**
 * A series' slices as rescaled intensities (RescaleSlope x stored value + RescaleIntercept), in slice order, all
 * {@code rows} x {@code columns}, row-major.
 *
 * @param slices          one float[rows*columns] per slice
 * @param sources         the source instances, same order as {@code slices}
 * @param pixelSpacing    (row spacing, column spacing) in mm from PixelSpacing, null when the header has none
 * @param sliceSpacing    distance between slices (mm): streams' measured spacing, else SpacingBetweenSlices, else
 *                        SliceThickness; null when none is known
 * @param sliceSpacingFrom where {@code sliceSpacing} came from (for the spacing assumption text)
 * @param firstHeader     the first slice's attributes without pixel data (patient/study modules for the SEG)
 */
public record SliceStack(int rows, int columns, List<float[]> slices, List<Source> sources, double[] pixelSpacing,
                         Double sliceSpacing, String sliceSpacingFrom, AttributeList firstHeader) {

    public SliceStack {
        slices = List.copyOf(slices);
        sources = List.copyOf(sources);
        if (slices.size() != sources.size()) throw new IllegalArgumentException("slices and sources differ in number");
    }

    /**
     * One source slice.
     *
     * @param imagePositionPatient ImagePositionPatient, null when absent
     * @param imageOrientationPatient ImageOrientationPatient, null when absent
     */
    public record Source(String sopClassUid, String sopInstanceUid, double[] imagePositionPatient,
                         double[] imageOrientationPatient, String frameOfReferenceUid) {
    }

    public int size() {
        return slices.size();
    }
}
