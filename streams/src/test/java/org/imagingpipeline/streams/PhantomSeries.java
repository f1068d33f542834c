package org.imagingpipeline.streams;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeFactory;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.OtherWordAttribute;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.InstanceHeader;
import org.imagingpipeline.events.SeriesReady;

/**
 * Test series of a synthetic head phantom (ellipse, bright rim, smooth tissue variation, foreground noise, zero
 * background), written as real 12-bit DICOM files and described by a {@link SeriesReady} whose blob URIs point at
 * them. Each patient seed varies the anatomy; a {@link Shift} changes the acquisition (contrast curve, noise floor).
 */
final class PhantomSeries {
    static final String TS = "1.2.840.10008.1.2.1";
    private static final int SIZE = 96;

    /** gamma: contrast curve x^gamma; noise: Rician-like noise everywhere (a noise floor in the background). */
    record Shift(double gamma, double noise) {
        static final Shift NONE = new Shift(1, 0);
    }

    private PhantomSeries() {
    }

    static SeriesReady write(Path dir, String institution, String station, String patientId, int patientSeed, Shift shift, int slices)
            throws Exception {
        String series = "2.25.9" + Math.abs((institution + station + patientId + shift).hashCode()) + patientSeed;
        InstanceHeader h = new InstanceHeader(patientId, null, null, "MR", "PHANTOM", "P1", "1", 1.5, institution, station, "AX FLAIR", null,
                null, "SE", 9000.0, 90.0, 2500.0, 90.0, new double[] {1, 1}, 1.0, null, new double[] {0, 0, 0}, new double[] {1, 0, 0, 0, 1, 0},
                "1.2.3", SIZE, SIZE, 16, 12, 0, 1, "MONOCHROME2", null, 1.0, 0.0, 1, 1, null, "BRAIN", null);
        Random rnd = new Random(patientSeed * 7919L + (long) (shift.gamma * 1000) + (long) (shift.noise * 1e5));
        double rx = 30 + 3 * rnd.nextGaussian(), ry = 38 + 3 * rnd.nextGaussian(), tissue = 0.55 + 0.04 * rnd.nextGaussian();
        double[][] blobs = new double[3][];
        for (int b = 0; b < 3; b++) blobs[b] = new double[] {SIZE / 2.0 + 12 * rnd.nextGaussian(), SIZE / 2.0 + 12 * rnd.nextGaussian(), 0.25 * rnd.nextGaussian()};
        List<SeriesReady.Instance> instances = new ArrayList<>();
        Files.createDirectories(dir);
        for (int z = 0; z < slices; z++) {
            double shrink = 1 - 0.5 * Math.abs(z - slices / 2.0) / slices;
            short[] px = new short[SIZE * SIZE];
            for (int y = 0; y < SIZE; y++) {
                for (int x = 0; x < SIZE; x++) {
                    double dx = (x - SIZE / 2.0) / (rx * shrink), dy = (y - SIZE / 2.0) / (ry * shrink);
                    double r = Math.sqrt(dx * dx + dy * dy);
                    double v = 0;
                    if (r < 1) {
                        v = r > 0.88 ? 0.95 : tissue;
                        for (double[] b : blobs) v += b[2] * Math.exp(-((x - b[0]) * (x - b[0]) + (y - b[1]) * (y - b[1])) / 120.0);
                        v = Math.max(0.05, Math.min(1, v + 0.03 * rnd.nextGaussian()));
                    }
                    v = Math.pow(v, shift.gamma);
                    if (shift.noise > 0) {
                        double re = v + shift.noise * rnd.nextGaussian(), im = shift.noise * rnd.nextGaussian();
                        v = Math.min(1, Math.sqrt(re * re + im * im));
                    }
                    px[y * SIZE + x] = (short) Math.round(v * 4000);
                }
            }
            String sop = series + "." + (z + 1);
            Path f = dir.resolve(sop + ".dcm");
            writeDicom(f, sop, series, px);
            String sha = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(sop.getBytes()));
            instances.add(new SeriesReady.Instance(sop, "1.2.840.10008.5.1.4.1.1.4", z + 1, (double) z, TS, new BlobRef(sha, f.toUri().toString(),
                    Files.size(f), "application/dicom")));
        }
        DomainFingerprint fp = DomainFingerprint.of(h, TS);
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        return new SeriesReady(1, SeriesReady.eventIdFor(series, 1), 1, SeriesReady.Reason.INACTIVITY, "1.2", series, fp.domainId(), fp.asMap(), h,
                instances, null, now, now, now);
    }

    static void writeDicom(Path f, String sop, String series, short[] px) throws Exception {
        AttributeList l = new AttributeList();
        put(l, TagFromName.SOPClassUID, "1.2.840.10008.5.1.4.1.1.4");
        put(l, TagFromName.SOPInstanceUID, sop);
        put(l, TagFromName.SeriesInstanceUID, series);
        put(l, TagFromName.Modality, "MR");
        put(l, TagFromName.Rows, Integer.toString(SIZE));
        put(l, TagFromName.Columns, Integer.toString(SIZE));
        put(l, TagFromName.SamplesPerPixel, "1");
        put(l, TagFromName.PhotometricInterpretation, "MONOCHROME2");
        put(l, TagFromName.BitsAllocated, "16");
        put(l, TagFromName.BitsStored, "12");
        put(l, TagFromName.HighBit, "11");
        put(l, TagFromName.PixelRepresentation, "0");
        OtherWordAttribute pd = new OtherWordAttribute(TagFromName.PixelData);
        pd.setValues(px);
        l.put(pd);
        FileMetaInformation.addFileMetaInformation(l, TS, "TEST");
        l.write(f.toFile(), TS, true, true);
    }

    /**
     * Rewrites a file of the series so that its header claims {@code rows} x {@code columns} while its pixel data stays
     * as it was (a bad instance: 30000 x 30000 claimed, 96 x 96 stored).
     */
    static void claimSize(Path f, int rows, int columns) throws Exception {
        AttributeList l = new AttributeList();
        l.read(f.toFile());
        put(l, TagFromName.Rows, Integer.toString(rows));
        put(l, TagFromName.Columns, Integer.toString(columns));
        l.write(f.toFile(), TS, true, true);
    }

    private static void put(AttributeList l, AttributeTag tag, String value) throws Exception {
        Attribute a = AttributeFactory.newAttribute(tag);
        a.addValue(value);
        l.put(a);
    }
}
