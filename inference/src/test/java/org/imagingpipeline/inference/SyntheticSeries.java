package org.imagingpipeline.inference;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.OtherWordAttribute;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.imagingpipeline.blob.BlobStore;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.InstanceHeader;
import org.imagingpipeline.events.SeriesReady;

/**
 * A small MR series written with PixelMed into a blob store, and its SeriesReady. 32x32 slices, 0.5 mm pixels,
 * 2 mm apart; stored value 20 everywhere except a 16x16 square (rows/columns 8..23) of stored value 100 on the
 * slices listed in {@code lesionSlices}; RescaleSlope 2, so the rescaled intensities are 40 and 200.
 */
final class SyntheticSeries {
    static final int SIZE = 32;
    static final int SQUARE_FROM = 8;
    static final int SQUARE_TO = 24;
    static final double PIXEL_MM = 0.5;
    static final double SLICE_MM = 2.0;

    private SyntheticSeries() {
    }

    static SeriesReady write(BlobStore blobs, String id, String domainId, int slices, int... lesionSlices) throws Exception {
        String study = "1.2.826.0.1.3680043.10.1234.1." + id;
        String series = "1.2.826.0.1.3680043.10.1234.2." + id;
        String frame = "1.2.826.0.1.3680043.10.1234.3." + id;
        List<SeriesReady.Instance> instances = new ArrayList<>();
        for (int k = 0; k < slices; k++) {
            String sop = series + "." + (k + 1);
            boolean lesion = contains(lesionSlices, k);
            byte[] file = slice(study, series, frame, sop, k, lesion);
            BlobRef ref = blobs.put(file, "application/dicom");
            instances.add(new SeriesReady.Instance(sop, SOPClass.MRImageStorage, k + 1, k * SLICE_MM,
                    TransferSyntax.ExplicitVRLittleEndian, ref));
        }
        InstanceHeader header = new InstanceHeader("PAT-" + id, "SITE-A", "ACC-" + id, "MR", "ACME", "Scanner", "1",
                1.5, "Hospital", "ST1", "FLAIR", "flair", null, null, null, null, null, null,
                new double[] {PIXEL_MM, PIXEL_MM}, SLICE_MM, null, new double[] {0, 0, 0},
                new double[] {1, 0, 0, 0, 1, 0}, frame, SIZE, SIZE, 16, 12, 0, 1, "MONOCHROME2", 1, 2.0, 0.0, 1, 1,
                slices, "BRAIN", "20260101");
        Instant t = Instant.parse("2026-01-01T10:00:00Z");
        return new SeriesReady(SeriesReady.SCHEMA_VERSION, SeriesReady.eventIdFor(series, 1), 1,
                SeriesReady.Reason.EXPECTED_COUNT, study, series, domainId, Map.of("manufacturer", "ACME"), header,
                instances, new SeriesReady.Geometry(SIZE, SIZE, new double[] {PIXEL_MM, PIXEL_MM}, SLICE_MM, SLICE_MM,
                new double[] {1, 0, 0, 0, 1, 0}, frame, true), t, t.plusSeconds(5), t.plusSeconds(35));
    }

    /**
     * The series with every instance's header claiming {@code rows} x {@code columns} while its pixel data stays 32 x 32
     * (new blobs; a bad instance as a scanner or an attacker could send it).
     */
    static SeriesReady claimSize(BlobStore blobs, SeriesReady s, int rows, int columns) throws Exception {
        List<SeriesReady.Instance> out = new ArrayList<>();
        for (SeriesReady.Instance i : s.instances()) {
            AttributeList l = new AttributeList();
            try (java.io.InputStream in = blobs.open(i.blob())) {
                l.read(new com.pixelmed.dicom.DicomInputStream(in));
            }
            put(l, TagFromName.Rows, Integer.toString(rows));
            put(l, TagFromName.Columns, Integer.toString(columns));
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            l.write(bytes, TransferSyntax.ExplicitVRLittleEndian, true, true);
            out.add(new SeriesReady.Instance(i.sopInstanceUid(), i.sopClassUid(), i.instanceNumber(), i.position(), i.transferSyntaxUid(),
                    blobs.put(bytes.toByteArray(), "application/dicom")));
        }
        return new SeriesReady(s.schemaVersion(), s.eventId(), s.revision(), s.reason(), s.studyInstanceUid(), s.seriesInstanceUid(), s.domainId(),
                s.fingerprint(), s.header(), out, s.geometry(), s.firstReceivedAt(), s.lastReceivedAt(), s.completedAt());
    }

    private static boolean contains(int[] values, int v) {
        for (int x : values) if (x == v) return true;
        return false;
    }

    private static byte[] slice(String study, String series, String frame, String sop, int k, boolean lesion) throws Exception {
        AttributeList l = new AttributeList();
        put(l, TagFromName.SOPClassUID, SOPClass.MRImageStorage);
        put(l, TagFromName.SOPInstanceUID, sop);
        put(l, TagFromName.StudyInstanceUID, study);
        put(l, TagFromName.SeriesInstanceUID, series);
        put(l, TagFromName.FrameOfReferenceUID, frame);
        put(l, TagFromName.PositionReferenceIndicator, "");
        put(l, TagFromName.Modality, "MR");
        put(l, TagFromName.PatientName, "Test^Patient");
        put(l, TagFromName.PatientID, "PAT-" + series.substring(series.length() - 3));
        put(l, TagFromName.PatientBirthDate, "19700101");
        put(l, TagFromName.PatientSex, "O");
        put(l, TagFromName.StudyDate, "20260101");
        put(l, TagFromName.StudyTime, "100000");
        put(l, TagFromName.ReferringPhysicianName, "");
        put(l, TagFromName.StudyID, "1");
        put(l, TagFromName.AccessionNumber, "ACC");
        put(l, TagFromName.SeriesNumber, "3");
        put(l, TagFromName.InstanceNumber, Integer.toString(k + 1));
        put(l, TagFromName.ImagePositionPatient, "0", "0", Double.toString(k * SLICE_MM));
        put(l, TagFromName.ImageOrientationPatient, "1", "0", "0", "0", "1", "0");
        put(l, TagFromName.PixelSpacing, Double.toString(PIXEL_MM), Double.toString(PIXEL_MM));
        put(l, TagFromName.SliceThickness, Double.toString(SLICE_MM));
        put(l, TagFromName.Rows, Integer.toString(SIZE));
        put(l, TagFromName.Columns, Integer.toString(SIZE));
        put(l, TagFromName.SamplesPerPixel, "1");
        put(l, TagFromName.PhotometricInterpretation, "MONOCHROME2");
        put(l, TagFromName.BitsAllocated, "16");
        put(l, TagFromName.BitsStored, "12");
        put(l, TagFromName.HighBit, "11");
        put(l, TagFromName.PixelRepresentation, "0");
        put(l, TagFromName.RescaleSlope, "2");
        put(l, TagFromName.RescaleIntercept, "0");
        short[] px = new short[SIZE * SIZE];
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                boolean in = lesion && y >= SQUARE_FROM && y < SQUARE_TO && x >= SQUARE_FROM && x < SQUARE_TO;
                px[y * SIZE + x] = (short) (in ? 100 : 20);
            }
        }
        OtherWordAttribute pd = new OtherWordAttribute(TagFromName.PixelData);
        pd.setValues(px);
        l.put(pd);
        FileMetaInformation.addFileMetaInformation(l, TransferSyntax.ExplicitVRLittleEndian, "TEST");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        l.write(out, TransferSyntax.ExplicitVRLittleEndian, true, true);
        return out.toByteArray();
    }

    private static void put(AttributeList l, com.pixelmed.dicom.AttributeTag tag, String... values) throws Exception {
        Attribute a = l.putNewAttribute(tag);
        for (String v : values) a.addValue(v);
    }
}
