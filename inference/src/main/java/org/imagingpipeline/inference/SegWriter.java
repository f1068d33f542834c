package org.imagingpipeline.inference;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.AttributeTagAttribute;
import com.pixelmed.dicom.CodedSequenceItem;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.LongStringAttribute;
import com.pixelmed.dicom.OtherByteAttribute;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import org.imagingpipeline.events.SegmentationResult;

/**
 * Writes a segmentation as a DICOM Segmentation object (SOP class 1.2.840.10008.5.1.4.1.1.66.4), Part-10, explicit
 * VR little endian: BINARY, one frame per source slice, one segment (category SCT 49755003 "Morphologically Altered
 * Structure", type SCT 108369006 "Neoplasm", algorithm AUTOMATIC, name/version = the model), in the source's study and
 * Frame of Reference, each frame deriving from its source image (Derivation Image / Source Image sequences) and
 * the whole series referenced in the Common Instance Reference module. Patient and study attributes are copied from
 * the source. UIDs are derived from (source series, model version), so a redelivered series yields the same SEG.
 */
public final class SegWriter {
    /** Not in PixelMed's 2022 dictionary. */
    static final AttributeTag SEGMENT_ALGORITHM_NAME = new AttributeTag(0x0062, 0x0009);
    static final AttributeTag SEGMENTATION_ALGORITHM_IDENTIFICATION_SEQUENCE = new AttributeTag(0x0062, 0x0007);
    static final AttributeTag ALGORITHM_FAMILY_CODE_SEQUENCE = new AttributeTag(0x0066, 0x002F);
    static final AttributeTag ALGORITHM_NAME = new AttributeTag(0x0066, 0x0036);
    static final AttributeTag ALGORITHM_VERSION = new AttributeTag(0x0066, 0x0031);

    public static final String MANUFACTURER = "imaging-pipeline";
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HHmmss").withZone(ZoneOffset.UTC);
    /** The SEG's UIDs (deterministic per source series and model version). */
    public record Uids(String seriesInstanceUid, String sopInstanceUid) {
        public static Uids of(String sourceSeriesUid, String modelVersion) {
            return new Uids(uid(sourceSeriesUid, modelVersion, "seg-series"), uid(sourceSeriesUid, modelVersion, "seg-instance"));
        }
    }

    public byte[] write(SliceStack stack, Segmentation seg, SegmentationResult.Model model, Uids uids, Instant now)
            throws IOException {
        try {
            return encode(build(stack, seg, model, uids, now));
        } catch (DicomException e) {
            throw new IOException("cannot build the SEG: " + e.getMessage(), e);
        }
    }

    private AttributeList build(SliceStack stack, Segmentation seg, SegmentationResult.Model model, Uids uids, Instant now)
            throws DicomException {
        AttributeList src = stack.firstHeader();
        AttributeList l = new AttributeList();
        DerivedObjects.copyPatientAndStudy(src, l);
        for (AttributeTag t : new AttributeTag[] {TagFromName.FrameOfReferenceUID, TagFromName.PositionReferenceIndicator}) {
            Attribute a = src.get(t);
            if (a != null) l.put(a);
        }
        String frameOfReference = Attribute.getSingleStringValueOrNull(src, TagFromName.FrameOfReferenceUID);
        if (frameOfReference != null && l.get(TagFromName.PositionReferenceIndicator) == null) {
            l.putNewAttribute(TagFromName.PositionReferenceIndicator);
        }
        String date = DATE.format(now);
        String time = TIME.format(now);
        // SOP common, series, equipment
        set(l, TagFromName.SOPClassUID, SOPClass.SegmentationStorage);
        set(l, TagFromName.SOPInstanceUID, uids.sopInstanceUid());
        set(l, TagFromName.InstanceCreationDate, date);
        set(l, TagFromName.InstanceCreationTime, time);
        set(l, TagFromName.Modality, "SEG");
        set(l, TagFromName.SeriesInstanceUID, uids.seriesInstanceUid());
        set(l, TagFromName.SeriesNumber, "9" + String.format("%03d",
                Attribute.getSingleIntegerValueOrDefault(src, TagFromName.SeriesNumber, 0) % 1000));
        set(l, TagFromName.SeriesDescription, clip("Lesion segmentation " + model.name() + " " + model.version(), 64));
        set(l, TagFromName.SeriesDate, date);
        set(l, TagFromName.SeriesTime, time);
        set(l, TagFromName.Manufacturer, MANUFACTURER);
        set(l, TagFromName.ManufacturerModelName, "inference");
        set(l, TagFromName.DeviceSerialNumber, "1");
        set(l, TagFromName.SoftwareVersions, clip(model.name() + " " + model.version(), 64));
        // Segmentation image
        set(l, TagFromName.ImageType, "DERIVED", "PRIMARY");
        set(l, TagFromName.InstanceNumber, "1");
        set(l, TagFromName.ContentDate, date);
        set(l, TagFromName.ContentTime, time);
        set(l, TagFromName.ContentLabel, "LESION");
        set(l, TagFromName.ContentDescription, "FLAIR lesion segmentation");
        set(l, TagFromName.ContentCreatorName, "Pipeline^Inference");
        set(l, TagFromName.SamplesPerPixel, "1");
        set(l, TagFromName.PhotometricInterpretation, "MONOCHROME2");
        set(l, TagFromName.Rows, Integer.toString(stack.rows()));
        set(l, TagFromName.Columns, Integer.toString(stack.columns()));
        set(l, TagFromName.BitsAllocated, "1");
        set(l, TagFromName.BitsStored, "1");
        set(l, TagFromName.HighBit, "0");
        set(l, TagFromName.PixelRepresentation, "0");
        set(l, TagFromName.LossyImageCompression, "00");
        set(l, TagFromName.SegmentationType, "BINARY");
        l.put(segmentSequence(model));
        // Multi-frame
        set(l, TagFromName.NumberOfFrames, Integer.toString(stack.size()));
        String dimensionUid = uid(uids.sopInstanceUid(), "dimensions");
        dimensions(l, dimensionUid, frameOfReference != null);
        l.put(sharedGroups(stack, frameOfReference != null));
        l.put(perFrameGroups(stack, frameOfReference != null));
        l.put(commonInstanceReference(stack, Attribute.getSingleStringValueOrNull(src, TagFromName.SeriesInstanceUID)));
        OtherByteAttribute pixels = new OtherByteAttribute(TagFromName.PixelData);
        pixels.setValues(packBits(seg, stack.rows() * stack.columns()));
        l.put(pixels);
        FileMetaInformation.addFileMetaInformation(l, TransferSyntax.ExplicitVRLittleEndian, "INFERENCE");
        return l;
    }

    private static SequenceAttribute segmentSequence(SegmentationResult.Model model) throws DicomException {
        AttributeList item = new AttributeList();
        set(item, TagFromName.SegmentNumber, "1");
        set(item, TagFromName.SegmentLabel, "Lesion");
        set(item, TagFromName.SegmentAlgorithmType, "AUTOMATIC");
        LongStringAttribute algName = new LongStringAttribute(SEGMENT_ALGORITHM_NAME);
        algName.addValue(clip(model.name(), 64));
        item.put(algName);
        item.put(code(TagFromName.SegmentedPropertyCategoryCodeSequence, "49755003", "SCT", "Morphologically Altered Structure"));
        item.put(code(TagFromName.SegmentedPropertyTypeCodeSequence, "108369006", "SCT", "Neoplasm"));
        AttributeList alg = new AttributeList();
        alg.put(code(ALGORITHM_FAMILY_CODE_SEQUENCE, "123110", "DCM", "Artificial Intelligence"));
        LongStringAttribute name = new LongStringAttribute(ALGORITHM_NAME);
        name.addValue(clip(model.name(), 64));
        alg.put(name);
        LongStringAttribute version = new LongStringAttribute(ALGORITHM_VERSION);
        version.addValue(clip(model.version(), 64));
        alg.put(version);
        SequenceAttribute algSeq = new SequenceAttribute(SEGMENTATION_ALGORITHM_IDENTIFICATION_SEQUENCE);
        algSeq.addItem(alg);
        item.put(algSeq);
        SequenceAttribute seq = new SequenceAttribute(TagFromName.SegmentSequence);
        seq.addItem(item);
        return seq;
    }

    private static void dimensions(AttributeList l, String dimensionUid, boolean withPosition) throws DicomException {
        AttributeList org = new AttributeList();
        set(org, TagFromName.DimensionOrganizationUID, dimensionUid);
        SequenceAttribute orgSeq = new SequenceAttribute(TagFromName.DimensionOrganizationSequence);
        orgSeq.addItem(org);
        l.put(orgSeq);
        SequenceAttribute index = new SequenceAttribute(TagFromName.DimensionIndexSequence);
        index.addItem(dimension(dimensionUid, TagFromName.ReferencedSegmentNumber, TagFromName.SegmentIdentificationSequence,
                "Referenced Segment Number"));
        if (withPosition) {
            index.addItem(dimension(dimensionUid, TagFromName.ImagePositionPatient, TagFromName.PlanePositionSequence,
                    "Image Position Patient"));
        } else {
            index.addItem(dimension(dimensionUid, TagFromName.InStackPositionNumber, TagFromName.FrameContentSequence,
                    "In-Stack Position Number"));
        }
        l.put(index);
    }

    private static AttributeList dimension(String uid, AttributeTag pointer, AttributeTag group, String label) throws DicomException {
        AttributeList d = new AttributeList();
        set(d, TagFromName.DimensionOrganizationUID, uid);
        AttributeTagAttribute p = new AttributeTagAttribute(TagFromName.DimensionIndexPointer);
        p.addValue(pointer);
        d.put(p);
        AttributeTagAttribute g = new AttributeTagAttribute(TagFromName.FunctionalGroupPointer);
        g.addValue(group);
        d.put(g);
        set(d, TagFromName.DimensionDescriptionLabel, label);
        return d;
    }

    private static SequenceAttribute sharedGroups(SliceStack stack, boolean withGeometry) throws DicomException {
        AttributeList shared = new AttributeList();
        if (stack.pixelSpacing() != null) {
            AttributeList measures = new AttributeList();
            set(measures, TagFromName.PixelSpacing, ds(stack.pixelSpacing()[0]), ds(stack.pixelSpacing()[1]));
            if (stack.sliceSpacing() != null) {
                set(measures, TagFromName.SliceThickness, ds(stack.sliceSpacing()));
                set(measures, TagFromName.SpacingBetweenSlices, ds(stack.sliceSpacing()));
            }
            shared.put(sequence(TagFromName.PixelMeasuresSequence, measures));
        }
        double[] orientation = stack.sources().get(0).imageOrientationPatient();
        if (withGeometry && orientation != null) {
            AttributeList plane = new AttributeList();
            String[] v = new String[6];
            for (int i = 0; i < 6; i++) v[i] = ds(orientation[i]);
            set(plane, TagFromName.ImageOrientationPatient, v);
            shared.put(sequence(TagFromName.PlaneOrientationSequence, plane));
        }
        return sequence(TagFromName.SharedFunctionalGroupsSequence, shared);
    }

    private static SequenceAttribute perFrameGroups(SliceStack stack, boolean withGeometry) throws DicomException {
        SequenceAttribute perFrame = new SequenceAttribute(TagFromName.PerFrameFunctionalGroupsSequence);
        for (int k = 0; k < stack.size(); k++) {
            SliceStack.Source s = stack.sources().get(k);
            AttributeList frame = new AttributeList();
            AttributeList content = new AttributeList();
            Attribute index = content.putNewAttribute(TagFromName.DimensionIndexValues);
            index.addValue(1);
            index.addValue(k + 1);
            if (!withGeometry) {
                set(content, TagFromName.StackID, "1");
                set(content, TagFromName.InStackPositionNumber, Integer.toString(k + 1));
            }
            frame.put(sequence(TagFromName.FrameContentSequence, content));
            if (withGeometry && s.imagePositionPatient() != null) {
                AttributeList pos = new AttributeList();
                double[] p = s.imagePositionPatient();
                set(pos, TagFromName.ImagePositionPatient, ds(p[0]), ds(p[1]), ds(p[2]));
                frame.put(sequence(TagFromName.PlanePositionSequence, pos));
            }
            AttributeList source = new AttributeList();
            set(source, TagFromName.ReferencedSOPClassUID, s.sopClassUid());
            set(source, TagFromName.ReferencedSOPInstanceUID, s.sopInstanceUid());
            source.put(code(TagFromName.PurposeOfReferenceCodeSequence, "121322", "DCM",
                    "Source image for image processing operation"));
            AttributeList derivation = new AttributeList();
            derivation.put(code(TagFromName.DerivationCodeSequence, "113076", "DCM", "Segmentation"));
            derivation.put(sequence(TagFromName.SourceImageSequence, source));
            frame.put(sequence(TagFromName.DerivationImageSequence, derivation));
            AttributeList segment = new AttributeList();
            set(segment, TagFromName.ReferencedSegmentNumber, "1");
            frame.put(sequence(TagFromName.SegmentIdentificationSequence, segment));
            perFrame.addItem(frame);
        }
        return perFrame;
    }

    private static SequenceAttribute commonInstanceReference(SliceStack stack, String sourceSeriesUid) throws DicomException {
        return sequence(TagFromName.ReferencedSeriesSequence,
                DerivedObjects.sourceSeriesItem(stack, sourceSeriesUid, TagFromName.ReferencedInstanceSequence));
    }

    /** Frames one after the other, 1 bit per pixel, first pixel in the least significant bit; padded to even length. */
    static byte[] packBits(Segmentation seg, int pixelsPerFrame) {
        long bits = (long) pixelsPerFrame * seg.masks().size();
        long bytes = (bits + 7) / 8;
        byte[] out = new byte[(int) (bytes + (bytes & 1))];
        long bit = 0;
        for (byte[] mask : seg.masks()) {
            for (byte m : mask) {
                if (m != 0) out[(int) (bit >>> 3)] |= (byte) (1 << (bit & 7));
                bit++;
            }
        }
        return out;
    }

    private static byte[] encode(AttributeList l) throws IOException, DicomException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        l.write(out, TransferSyntax.ExplicitVRLittleEndian, true, true);
        return out.toByteArray();
    }

    private static SequenceAttribute code(AttributeTag tag, String value, String scheme, String meaning) throws DicomException {
        return sequence(tag, new CodedSequenceItem(value, scheme, meaning).getAttributeList());
    }

    private static SequenceAttribute sequence(AttributeTag tag, AttributeList item) {
        SequenceAttribute s = new SequenceAttribute(tag);
        s.addItem(item);
        return s;
    }

    private static void set(AttributeList l, AttributeTag tag, String... values) throws DicomException {
        DerivedObjects.set(l, tag, values);
    }

    private static String ds(double v) {
        String s = Double.toString(v);
        if (s.length() <= 16) return s;
        String f = String.format(java.util.Locale.ROOT, "%.10g", v).replaceAll("0+$", "").replaceAll("\\.$", "");
        return f.length() <= 16 ? f : String.format(java.util.Locale.ROOT, "%.6e", v);
    }

    private static String clip(String s, int max) {
        return DerivedObjects.clip(s, max);
    }

    /** "2.25." + the first 16 bytes of SHA-256 over the parts, as a decimal integer. */
    static String uid(String... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(String.join("|", parts).getBytes(StandardCharsets.UTF_8));
            return "2.25." + new BigInteger(1, Arrays.copyOf(md.digest(), 16));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
