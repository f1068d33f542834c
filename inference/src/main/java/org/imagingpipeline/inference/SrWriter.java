package org.imagingpipeline.inference;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.CodedSequenceItem;
import com.pixelmed.dicom.ContentItem;
import com.pixelmed.dicom.ContentItemFactory;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.StructuredReport;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.imagingpipeline.events.ReplayPredecessor;
import org.imagingpipeline.events.SegmentationResult;

/**
 * Writes the measurements of one segmented series as a DICOM Comprehensive SR (1.2.840.10008.5.1.4.1.1.88.33) with
 * the content of TID 1500 "Measurement Report": observer context the device (the model: TID 1004), the procedure
 * reported, an Image Library of the source images, and one TID 1411 "Volumetric ROI Measurements" group for the lesion
 * whose region is segment 1 of the SEG written beside it (Referenced Segment, Source series for segmentation), with the
 * lesion volume (SCT 118565006 Volume, mL), the slices with lesion and the mean predictive entropy, each naming the
 * algorithm (name, version). Patient and study attributes come from the source, as for the SEG; the evidence sequence
 * lists the source instances and the SEG. UIDs derive from (source series, model version): a redelivered series yields
 * the same SR.
 */
public final class SrWriter {
    /** Codes of this project (private coding scheme: designators beginning with 99 are private, PS3.16 8.2). */
    static final String PRIVATE_SCHEME = "99IMGPIPE";
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HHmmss").withZone(ZoneOffset.UTC);
    /** The Tracking Identifier (DCM 112039) of the lesion's measurement group. */
    static final String TRACKING_IDENTIFIER = "Lesion";

    /**
     * The SR's UIDs (deterministic per source series and model version): its series and instance, and those of its
     * measurement content (tracking UID, Observation UIDs), which the result event carries to the FHIR mapping.
     */
    public record Uids(String seriesInstanceUid, String sopInstanceUid, SegmentationResult.Content content) {
        public static Uids of(String sourceSeriesUid, String modelVersion) {
            return new Uids(SegWriter.uid(sourceSeriesUid, modelVersion, "sr-series"),
                    SegWriter.uid(sourceSeriesUid, modelVersion, "sr-instance"),
                    new SegmentationResult.Content(TRACKING_IDENTIFIER,
                            SegWriter.uid(sourceSeriesUid, modelVersion, "tracking"),
                            SegWriter.uid(sourceSeriesUid, modelVersion, "sr-observation", "measurement-group"),
                            SegWriter.uid(sourceSeriesUid, modelVersion, "sr-observation", "lesion-volume"),
                            SegWriter.uid(sourceSeriesUid, modelVersion, "sr-observation", "slices-with-lesion"),
                            SegWriter.uid(sourceSeriesUid, modelVersion, "sr-observation", "mean-predictive-entropy")));
        }
    }

    /**
     * @param stack  the source slices (their headers and UIDs)
     * @param lesion the measures
     * @param model  the model that segmented
     * @param seg    the SEG's UIDs (its segment 1 is the lesion)
     * @param uids   this SR's UIDs
     */
    public byte[] write(SliceStack stack, SegmentationResult.Lesion lesion, SegmentationResult.Model model, SegWriter.Uids seg,
                        Uids uids, Instant now) throws IOException {
        return write(stack, lesion, model, seg, uids, null, now);
    }

    /**
     * @param predecessor the earlier SR of the series this one supersedes (a series segmented again after its domain's
     *                    promotion), named in the Predecessor Documents Sequence; null for none
     */
    public byte[] write(SliceStack stack, SegmentationResult.Lesion lesion, SegmentationResult.Model model, SegWriter.Uids seg,
                        Uids uids, ReplayPredecessor predecessor, Instant now) throws IOException {
        try {
            AttributeList l = build(stack, lesion, model, seg, uids, now);
            if (predecessor != null) l.put(predecessors(predecessor));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            l.write(out, TransferSyntax.ExplicitVRLittleEndian, true, true);
            return out.toByteArray();
        } catch (DicomException e) {
            throw new IOException("cannot build the SR: " + e.getMessage(), e);
        }
    }

    private AttributeList build(SliceStack stack, SegmentationResult.Lesion lesion, SegmentationResult.Model model,
                                SegWriter.Uids seg, Uids uids, Instant now) throws DicomException {
        AttributeList src = stack.firstHeader();
        String sourceSeries = Attribute.getSingleStringValueOrNull(src, TagFromName.SeriesInstanceUID);
        String study = Attribute.getSingleStringValueOrNull(src, TagFromName.StudyInstanceUID);
        AttributeList l = new StructuredReport(content(stack, lesion, model, seg, uids.content(), sourceSeries)).getAttributeList();
        DerivedObjects.copyPatientAndStudy(src, l);
        String date = DATE.format(now);
        String time = TIME.format(now);
        set(l, TagFromName.SOPClassUID, SOPClass.ComprehensiveSRStorage);
        set(l, TagFromName.SOPInstanceUID, uids.sopInstanceUid());
        set(l, TagFromName.InstanceCreationDate, date);
        set(l, TagFromName.InstanceCreationTime, time);
        // SR Document Series
        set(l, TagFromName.Modality, "SR");
        set(l, TagFromName.SeriesInstanceUID, uids.seriesInstanceUid());
        set(l, TagFromName.SeriesNumber, "8" + String.format(Locale.ROOT, "%03d",
                Attribute.getSingleIntegerValueOrDefault(src, TagFromName.SeriesNumber, 0) % 1000));
        set(l, TagFromName.SeriesDescription, clip("Lesion measurements " + model.name() + " " + model.version(), 64));
        set(l, TagFromName.SeriesDate, date);
        set(l, TagFromName.SeriesTime, time);
        l.put(new SequenceAttribute(TagFromName.ReferencedPerformedProcedureStepSequence));
        // General Equipment
        set(l, TagFromName.Manufacturer, SegWriter.MANUFACTURER);
        set(l, TagFromName.ManufacturerModelName, "inference");
        set(l, TagFromName.SoftwareVersions, clip(model.name() + " " + model.version(), 64));
        // SR Document General
        set(l, TagFromName.InstanceNumber, "1");
        set(l, TagFromName.CompletionFlag, "COMPLETE");
        set(l, TagFromName.VerificationFlag, "UNVERIFIED");
        set(l, TagFromName.ContentDate, date);
        set(l, TagFromName.ContentTime, time);
        l.put(new SequenceAttribute(TagFromName.PerformedProcedureCodeSequence));
        l.put(evidence(stack, study, sourceSeries, seg));
        // SOP Common: the private coding scheme of the measures without a standard code (PS3.3 C.12.1.1.4)
        AttributeList scheme = new AttributeList();
        set(scheme, TagFromName.CodingSchemeDesignator, PRIVATE_SCHEME);
        set(scheme, TagFromName.CodingSchemeName, "imaging-pipeline measures");
        set(scheme, TagFromName.CodingSchemeResponsibleOrganization, SegWriter.MANUFACTURER);
        SequenceAttribute schemes = new SequenceAttribute(TagFromName.CodingSchemeIdentificationSequence);
        schemes.addItem(scheme);
        l.put(schemes);
        FileMetaInformation.addFileMetaInformation(l, TransferSyntax.ExplicitVRLittleEndian, "INFERENCE");
        return l;
    }

    private static ContentItem content(SliceStack stack, SegmentationResult.Lesion lesion, SegmentationResult.Model model,
                                       SegWriter.Uids seg, SegmentationResult.Content uids, String sourceSeries)
            throws DicomException {
        ContentItemFactory f = new ContentItemFactory();
        ContentItem root = f.makeContainerContentItem(null, null, dcm("126000", "Imaging Measurement Report"), true, "DCMR", "1500");
        f.makeCodeContentItem(root, "HAS CONCEPT MOD", dcm("121049", "Language of Content Item and Descendants"),
                new CodedSequenceItem("en-US", "RFC5646", "English (United States)"));
        // TID 1001/1004: the observer is a device, the model
        f.makeCodeContentItem(root, "HAS OBS CONTEXT", dcm("121005", "Observer Type"), dcm("121007", "Device"));
        f.makeUIDContentItem(root, "HAS OBS CONTEXT", dcm("121012", "Device Observer UID"),
                SegWriter.uid("device", model.name(), model.version()));
        f.makeTextContentItem(root, "HAS OBS CONTEXT", dcm("121013", "Device Observer Name"), clip(model.name(), 64));
        f.makeTextContentItem(root, "HAS OBS CONTEXT", dcm("121014", "Device Observer Manufacturer"), SegWriter.MANUFACTURER);
        f.makeTextContentItem(root, "HAS OBS CONTEXT", dcm("121015", "Device Observer Model Name"),
                clip(model.name() + " " + model.version(), 64));
        f.makeCodeContentItem(root, "HAS CONCEPT MOD", dcm("121058", "Procedure reported"),
                new CodedSequenceItem("363679005", "SCT", "Imaging procedure"));
        // TID 1600 Image Library: the source images
        ContentItem library = f.makeContainerContentItem(root, "CONTAINS", dcm("111028", "Image Library"), true);
        ContentItem group = f.makeContainerContentItem(library, "CONTAINS", dcm("126200", "Image Library Group"), true);
        for (SliceStack.Source s : stack.sources()) {
            f.makeImageContentItem(group, "CONTAINS", null, s.sopClassUid(), s.sopInstanceUid(), 0, 0, null, null, null, null);
        }
        // TID 1500 Imaging Measurements -> TID 1411 Volumetric ROI Measurements
        ContentItem measurements = f.makeContainerContentItem(root, "CONTAINS", dcm("126010", "Imaging Measurements"), true);
        ContentItem roi = observationUid(f.makeContainerContentItem(measurements, "CONTAINS", dcm("125007", "Measurement Group"),
                true, "DCMR", "1411"), uids.measurementGroupUid());
        f.makeTextContentItem(roi, "HAS OBS CONTEXT", dcm("112039", "Tracking Identifier"), uids.trackingIdentifier());
        f.makeUIDContentItem(roi, "HAS OBS CONTEXT", dcm("112040", "Tracking Unique Identifier"), uids.trackingUid());
        f.makeCodeContentItem(roi, "CONTAINS", dcm("121071", "Finding"), new CodedSequenceItem("108369006", "SCT", "Neoplasm"));
        // the SEG's segment category (CID 7150), which the FHIR mapping takes as the group Observation's code
        f.makeCodeContentItem(roi, "CONTAINS", new CodedSequenceItem("276214006", "SCT", "Finding category"),
                new CodedSequenceItem("49755003", "SCT", "Morphologically Altered Structure"));
        f.makeImageContentItem(roi, "CONTAINS", dcm("121191", "Referenced Segment"), SOPClass.SegmentationStorage,
                seg.sopInstanceUid(), 0, 1, null, null, null, null);
        f.makeUIDContentItem(roi, "CONTAINS", dcm("121232", "Source series for segmentation"), sourceSeries);
        f.makeCodeContentItem(roi, "HAS CONCEPT MOD", new CodedSequenceItem("363698007", "SCT", "Finding Site"),
                new CodedSequenceItem("12738006", "SCT", "Brain"));
        measurement(f, roi, new CodedSequenceItem("118565006", "SCT", "Volume"), round(lesion.volumeMl(), 3),
                new CodedSequenceItem("mL", "UCUM", "milliliter"), model, uids.volumeUid());
        measurement(f, roi, new CodedSequenceItem("SLICES-LESION", PRIVATE_SCHEME, "Slices with lesion"), lesion.slicesWithLesion(),
                new CodedSequenceItem("{slices}", "UCUM", "slices"), model, uids.slicesWithLesionUid());
        measurement(f, roi, new CodedSequenceItem("MEAN-ENTROPY", PRIVATE_SCHEME, "Mean predictive entropy"),
                round(lesion.meanPredictiveEntropy(), 4), new CodedSequenceItem("{nat}", "UCUM", "nat"), model,
                uids.meanPredictiveEntropyUid());
        return root;
    }

    /**
     * Gives a content item its Observation UID (0040,A171; SR Document Content, type 3): the identity a FHIR Observation
     * mapped from it carries (HL7 DICOM SR to FHIR, identifier observation-uid).
     */
    private static ContentItem observationUid(ContentItem item, String uid) throws DicomException {
        set(item.getAttributeList(), TagFromName.ObservationUID, uid);
        return item;
    }

    /** A TID 1419 measurement with its algorithm identification (TID 4019) and its Observation UID. */
    private static void measurement(ContentItemFactory f, ContentItem parent, CodedSequenceItem concept, double value,
                                    CodedSequenceItem units, SegmentationResult.Model model, String observationUid)
            throws DicomException {
        ContentItem num = observationUid(f.makeNumericContentItem(parent, "CONTAINS", concept, value, units), observationUid);
        f.makeTextContentItem(num, "HAS CONCEPT MOD", dcm("111001", "Algorithm Name"), clip(model.name(), 64));
        f.makeTextContentItem(num, "HAS CONCEPT MOD", dcm("111003", "Algorithm Version"), clip(model.version(), 64));
    }

    /**
     * Predecessor Documents Sequence (0040,A360; SR Document General, type 1C: required when the document is a
     * revision of, or includes content from, other SR documents), in the Hierarchical SOP Instance Reference form:
     * the earlier report of the same series by the model this one replaces.
     */
    static SequenceAttribute predecessors(ReplayPredecessor p) throws DicomException {
        return hierarchy(TagFromName.PredecessorDocumentsSequence, p.studyInstanceUid(),
                seriesItem(p.seriesInstanceUid(), SOPClass.ComprehensiveSRStorage, p.sopInstanceUid()));
    }

    /** Current Requested Procedure Evidence: the source instances and the SEG, in the study. */
    private static SequenceAttribute evidence(SliceStack stack, String study, String sourceSeries, SegWriter.Uids seg)
            throws DicomException {
        return hierarchy(TagFromName.CurrentRequestedProcedureEvidenceSequence, study,
                DerivedObjects.sourceSeriesItem(stack, sourceSeries, TagFromName.ReferencedSOPSequence),
                seriesItem(seg.seriesInstanceUid(), SOPClass.SegmentationStorage, seg.sopInstanceUid()));
    }

    /** A Hierarchical SOP Instance Reference (PS3.3 C.17.2.1): one study item holding the series items. */
    private static SequenceAttribute hierarchy(AttributeTag tag, String study, AttributeList... seriesItems) throws DicomException {
        SequenceAttribute series = new SequenceAttribute(TagFromName.ReferencedSeriesSequence);
        for (AttributeList item : seriesItems) series.addItem(item);
        AttributeList studyItem = new AttributeList();
        set(studyItem, TagFromName.StudyInstanceUID, study);
        studyItem.put(series);
        SequenceAttribute out = new SequenceAttribute(tag);
        out.addItem(studyItem);
        return out;
    }

    /** A series item naming one instance. */
    private static AttributeList seriesItem(String seriesUid, String sopClass, String sopInstance) throws DicomException {
        SequenceAttribute instance = new SequenceAttribute(TagFromName.ReferencedSOPSequence);
        instance.addItem(DerivedObjects.reference(sopClass, sopInstance));
        AttributeList item = new AttributeList();
        set(item, TagFromName.SeriesInstanceUID, seriesUid);
        item.put(instance);
        return item;
    }

    private static CodedSequenceItem dcm(String code, String meaning) throws DicomException {
        return new CodedSequenceItem(code, "DCM", meaning);
    }

    private static void set(AttributeList l, AttributeTag tag, String... values) throws DicomException {
        DerivedObjects.set(l, tag, values);
    }

    private static double round(double v, int digits) {
        double p = Math.pow(10, digits);
        return Math.round(v * p) / p;
    }

    private static String clip(String s, int max) {
        return DerivedObjects.clip(s, max);
    }
}
