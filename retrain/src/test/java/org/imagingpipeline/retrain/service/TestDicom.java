package org.imagingpipeline.retrain.service;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeFactory;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.OtherWordAttribute;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.imagingpipeline.blob.BlobStore;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.SeriesReady;

/** Real MR DICOM files written with PixelMed, stored in a blob store, and the SeriesReady that announces them. */
public final class TestDicom {
    private TestDicom() {
    }

    /** One 16-bit MONOCHROME2 MR slice, explicit VR little endian, with the given rescale. */
    public static byte[] mrSlice(String seriesUid, String sopUid, int instanceNumber, short[] pixels, int rows, int cols,
                                 double slope, double intercept) throws Exception {
        AttributeList l = new AttributeList();
        put(l, TagFromName.SOPClassUID, "1.2.840.10008.5.1.4.1.1.4");
        put(l, TagFromName.SOPInstanceUID, sopUid);
        put(l, TagFromName.StudyInstanceUID, seriesUid + ".1");
        put(l, TagFromName.SeriesInstanceUID, seriesUid);
        put(l, TagFromName.Modality, "MR");
        put(l, TagFromName.PatientID, "TEST");
        put(l, TagFromName.InstanceNumber, Integer.toString(instanceNumber));
        put(l, TagFromName.SamplesPerPixel, "1");
        put(l, TagFromName.PhotometricInterpretation, "MONOCHROME2");
        put(l, TagFromName.Rows, Integer.toString(rows));
        put(l, TagFromName.Columns, Integer.toString(cols));
        put(l, TagFromName.BitsAllocated, "16");
        put(l, TagFromName.BitsStored, "12");
        put(l, TagFromName.HighBit, "11");
        put(l, TagFromName.PixelRepresentation, "0");
        put(l, TagFromName.RescaleSlope, Double.toString(slope));
        put(l, TagFromName.RescaleIntercept, Double.toString(intercept));
        OtherWordAttribute pd = new OtherWordAttribute(TagFromName.PixelData);
        pd.setValues(pixels);
        l.put(pd);
        FileMetaInformation.addFileMetaInformation(l, TransferSyntax.ExplicitVRLittleEndian, "RETRAIN_TEST");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        l.write(out, TransferSyntax.ExplicitVRLittleEndian, true, true);
        return out.toByteArray();
    }

    /** A series of {@code slices} 8x8 slices (pixel value = 10*slice + column) stored in {@code blobs}. */
    public static SeriesReady storedSeries(BlobStore blobs, String domainId, String seriesUid, int slices, int revision)
            throws Exception {
        List<SeriesReady.Instance> instances = new ArrayList<>();
        for (int s = 0; s < slices; s++) {
            short[] px = new short[64];
            for (int k = 0; k < 64; k++) px[k] = (short) (10 * s + k % 8);
            String sop = seriesUid + "." + (s + 1);
            BlobRef ref = blobs.put(mrSlice(seriesUid, sop, s + 1, px, 8, 8, 1.0, 0.0), "application/dicom");
            instances.add(new SeriesReady.Instance(sop, "1.2.840.10008.5.1.4.1.1.4", s + 1, (double) s, "1.2.840.10008.1.2.1", ref));
        }
        return seriesReady(domainId, seriesUid, revision, instances);
    }

    public static SeriesReady seriesReady(String domainId, String seriesUid, int revision, List<SeriesReady.Instance> instances) {
        Instant now = Instant.now();
        return new SeriesReady(SeriesReady.SCHEMA_VERSION, SeriesReady.eventIdFor(seriesUid, revision), revision,
                SeriesReady.Reason.INACTIVITY, seriesUid + ".1", seriesUid, domainId, Map.of("modality", "MR"), null, instances,
                null, now, now, now);
    }

    private static void put(AttributeList l, AttributeTag tag, String value) throws Exception {
        Attribute a = AttributeFactory.newAttribute(tag);
        a.addValue(value);
        l.put(a);
    }
}
