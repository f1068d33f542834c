package org.imagingpipeline.ingest;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.TagFromName;
import org.imagingpipeline.events.InstanceHeader;

/** Maps a parsed DICOM header to the fields later stages need. Patient names and birth dates are never read. */
public final class HeaderExtractor {
    // Not all of these are in PixelMed's TagFromName.
    private static final AttributeTag MAGNETICFIELDSTRENGTH = new AttributeTag(0x0018, 0x0087);
    private static final AttributeTag SEQUENCENAME = new AttributeTag(0x0018, 0x0024);
    private static final AttributeTag SCANNINGSEQUENCE = new AttributeTag(0x0018, 0x0020);
    private static final AttributeTag INVERSIONTIME = new AttributeTag(0x0018, 0x0082);
    private static final AttributeTag FLIPANGLE = new AttributeTag(0x0018, 0x1314);
    private static final AttributeTag IMAGESINACQUISITION = new AttributeTag(0x0020, 0x1002);

    private HeaderExtractor() {
    }

    public static InstanceHeader extract(AttributeList l) {
        return new InstanceHeader(
                str(l, TagFromName.PatientID),
                str(l, TagFromName.IssuerOfPatientID),
                str(l, TagFromName.AccessionNumber),
                str(l, TagFromName.Modality),
                str(l, TagFromName.Manufacturer),
                str(l, TagFromName.ManufacturerModelName),
                multi(l, TagFromName.SoftwareVersions),
                dbl(l, MAGNETICFIELDSTRENGTH),
                str(l, TagFromName.InstitutionName),
                str(l, TagFromName.StationName),
                str(l, TagFromName.ProtocolName),
                str(l, TagFromName.SeriesDescription),
                str(l, SEQUENCENAME),
                multi(l, SCANNINGSEQUENCE),
                dbl(l, TagFromName.RepetitionTime),
                dbl(l, TagFromName.EchoTime),
                dbl(l, INVERSIONTIME),
                dbl(l, FLIPANGLE),
                dbls(l, TagFromName.PixelSpacing),
                dbl(l, TagFromName.SliceThickness),
                dbl(l, TagFromName.SpacingBetweenSlices),
                dbls(l, TagFromName.ImagePositionPatient),
                dbls(l, TagFromName.ImageOrientationPatient),
                str(l, TagFromName.FrameOfReferenceUID),
                integer(l, TagFromName.Rows),
                integer(l, TagFromName.Columns),
                integer(l, TagFromName.BitsAllocated),
                integer(l, TagFromName.BitsStored),
                integer(l, TagFromName.PixelRepresentation),
                integer(l, TagFromName.SamplesPerPixel),
                str(l, TagFromName.PhotometricInterpretation),
                integer(l, TagFromName.NumberOfFrames),
                dbl(l, TagFromName.RescaleSlope),
                dbl(l, TagFromName.RescaleIntercept),
                integer(l, TagFromName.SeriesNumber),
                integer(l, TagFromName.InstanceNumber),
                integer(l, IMAGESINACQUISITION),
                str(l, TagFromName.BodyPartExamined),
                str(l, TagFromName.StudyDate));
    }

    static String str(AttributeList l, AttributeTag t) {
        String s = Attribute.getSingleStringValueOrNull(l, t);
        if (s == null) return null;
        s = s.strip();
        return s.isEmpty() ? null : s;
    }

    private static String multi(AttributeList l, AttributeTag t) {
        String[] v = Attribute.getStringValues(l, t);
        if (v == null || v.length == 0) return null;
        String s = String.join("\\", v).strip();
        return s.isEmpty() ? null : s;
    }

    private static Double dbl(AttributeList l, AttributeTag t) {
        double[] v = dbls(l, t);
        return v == null || v.length == 0 ? null : v[0];
    }

    private static double[] dbls(AttributeList l, AttributeTag t) {
        Attribute a = l.get(t);
        if (a == null || a.getVM() == 0) return null;
        try {
            return a.getDoubleValues();
        } catch (DicomException | NumberFormatException e) {
            return null; // a malformed number is left out rather than failing the whole instance
        }
    }

    private static Integer integer(AttributeList l, AttributeTag t) {
        Attribute a = l.get(t);
        if (a == null || a.getVM() == 0) return null;
        try {
            return a.getIntegerValues()[0];
        } catch (DicomException | NumberFormatException e) {
            return null;
        }
    }
}
