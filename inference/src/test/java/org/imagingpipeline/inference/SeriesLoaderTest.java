package org.imagingpipeline.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.imagingpipeline.blob.LocalBlobStore;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.SeriesReady;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every transfer syntax ingest accepts either decodes or yields an explicit UNDECODABLE failure: the same image in
 * nine transfer syntaxes (dicom-vendors/transfer-syntaxes: 1 explicit LE, 2 implicit LE, 3 explicit BE, 4 RLE,
 * 5-6 JPEG lossless, 7-8 JPEG-LS lossless, 9 JPEG 2000 lossless); the lossless ones that decode must give exactly
 * the pixels of the uncompressed one.
 */
class SeriesLoaderTest {
    @TempDir
    Path dir;

    @Test
    void everyTransferSyntaxDecodesToTheSamePixelsOrFailsExplicitly() throws Exception {
        Path in = Prerequisites.dicomVendors().resolve("transfer-syntaxes/In");
        LocalBlobStore blobs = new LocalBlobStore(dir, false);
        SeriesLoader loader = new SeriesLoader(blobs);
        float[] reference = null;
        List<String> decoded = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        for (int i = 1; i <= 9; i++) {
            Path f = in.resolve(i + ".dcm");
            byte[] bytes = Files.readAllBytes(f);
            AttributeList header = new AttributeList();
            try (com.pixelmed.dicom.DicomInputStream din = new com.pixelmed.dicom.DicomInputStream(f.toFile())) {
                header.read(din, TagFromName.PixelData);
            }
            String ts = Attribute.getSingleStringValueOrNull(header, TagFromName.TransferSyntaxUID);
            BlobRef ref = blobs.put(bytes, "application/dicom");
            SeriesReady s = single(header, ts, ref);
            try {
                SliceStack stack = loader.load(s);
                float[] px = stack.slices().get(0);
                if (reference == null) reference = px;
                assertArrayEquals(reference, px, 0f, "file " + i + " (" + ts + ") decodes to other pixels");
                decoded.add(i + ":" + ts);
            } catch (InferenceFailure e) {
                assertEquals(InferenceFailure.Kind.UNDECODABLE, e.kind(), e.describe());
                assertTrue(e.getMessage().contains(ts), "the failure names the transfer syntax: " + e.getMessage());
                refused.add(i + ":" + ts);
            }
        }
        System.out.println("decoded: " + decoded + "; refused (UNDECODABLE): " + refused);
        // uncompressed (explicit/implicit LE, explicit BE) and RLE must decode with PixelMed alone
        for (int i = 1; i <= 4; i++) {
            int n = i;
            if (decoded.stream().noneMatch(d -> d.startsWith(n + ":"))) fail("file " + i + " did not decode: " + refused);
        }
        float max = 0;
        for (float v : reference) max = Math.max(max, v);
        assertTrue(max > 0, "the reference image is not blank");
    }

    @Test
    void signedPixelsKeepTheirSign() throws Exception {
        Path ct = Prerequisites.dicomVendors().resolve("ge-ct/In/GE/14.dcm");
        AttributeList raw = new AttributeList();
        raw.read(ct.toFile());
        assertEquals(1, Attribute.getSingleIntegerValueOrDefault(raw, TagFromName.PixelRepresentation, 0), "a signed CT");
        short[] stored = raw.getPixelData().getShortValues();
        double slope = Attribute.getSingleDoubleValueOrDefault(raw, TagFromName.RescaleSlope, 1);
        double intercept = Attribute.getSingleDoubleValueOrDefault(raw, TagFromName.RescaleIntercept, 0);
        LocalBlobStore blobs = new LocalBlobStore(dir, false);
        BlobRef ref = blobs.put(Files.readAllBytes(ct), "application/dicom");
        float[] px = new SeriesLoader(blobs).load(single(raw, "1.2.840.10008.1.2.1", ref)).slices().get(0);
        float min = Float.MAX_VALUE;
        for (int i = 0; i < stored.length; i++) {
            assertEquals(stored[i] * slope + intercept, px[i], 1e-3, "pixel " + i);
            min = Math.min(min, px[i]);
        }
        assertTrue(min < 0, "negative values survive: " + min);
    }

    @Test
    void notDicomIsUndecodable() throws Exception {
        LocalBlobStore blobs = new LocalBlobStore(dir, false);
        BlobRef ref = blobs.put("not dicom at all".getBytes(), "application/dicom");
        AttributeList empty = new AttributeList();
        try {
            new SeriesLoader(blobs).load(single(empty, "1.2.840.10008.1.2.1", ref));
            fail("expected UNDECODABLE");
        } catch (InferenceFailure e) {
            assertEquals(InferenceFailure.Kind.UNDECODABLE, e.kind());
        }
    }

    private static SeriesReady single(AttributeList header, String ts, BlobRef ref) {
        String series = "1.2.3.4." + ref.sha256().substring(0, 8).chars().sum();
        Instant t = Instant.now();
        return new SeriesReady(1, series + "#1", 1, SeriesReady.Reason.INACTIVITY, "1.2.3", series, "dom-x", Map.of(),
                null, List.of(new SeriesReady.Instance(Attribute.getSingleStringValueOrDefault(header,
                TagFromName.SOPInstanceUID, "1.2.3.4.5"), "1.2.840.10008.5.1.4.1.1.4", 1, null, ts, ref)), null, t, t, t);
    }
}
