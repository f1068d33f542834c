package org.imagingpipeline.simulator;

import org.imagingpipeline.testsupport.SharedTestData;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.TagFromName;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image folders to DICOM MR series: valid for dciodvfy, consistent UIDs and geometry, profiles marked SIMULATED. */
class ScannerSimulatorTest {
    @TempDir
    Path tmp;

    static Path lgg() {
        return SharedTestData.require("lgg-flair");
    }

    @Test
    void onePatientBecomesOneValidMrSeries() throws Exception {
        List<ScannerSimulator.Instance> xs = ScannerSimulator.convert(lgg(), List.of("DU"), 1, null, 1);
        assertTrue(xs.size() > 10, "a patient has many slices");
        Set<String> series = xs.stream().map(x -> header(x).get(TagFromName.SeriesInstanceUID).getSingleStringValueOrEmptyString()).collect(Collectors.toSet());
        assertEquals(1, series.size(), "one series per patient");
        AttributeList first = header(xs.get(0));
        assertEquals("DU", Attribute.getSingleStringValueOrNull(first, TagFromName.InstitutionName));
        assertEquals(xs.size(), xs.stream().map(ScannerSimulator.Instance::sopInstanceUid).distinct().count());
        assertEquals("1", Attribute.getSingleStringValueOrNull(first, TagFromName.InstanceNumber));
        // Same input, same UIDs: re-sending is idempotent.
        assertEquals(xs.get(3).sopInstanceUid(), ScannerSimulator.convert(lgg(), List.of("DU"), 1, null, 1).get(3).sopInstanceUid());
        assertValidForDciodvfy(xs.get(xs.size() / 2));
    }

    @Test
    void aUidNamespaceSendsTheSameImagesAsNewStudiesAndRepeatsItself() throws Exception {
        ImageFolders.PatientFilter all = ImageFolders.PatientFilter.ALL;
        ScannerSimulator.Instance plain = ScannerSimulator.convert(lgg(), List.of("DU"), 1, all, null, 1, null, null, null).get(5);
        ScannerSimulator.Instance a = ScannerSimulator.convert(lgg(), List.of("DU"), 1, all, null, 1, null, null, "outage-1").get(5);
        ScannerSimulator.Instance again = ScannerSimulator.convert(lgg(), List.of("DU"), 1, all, null, 1, null, null, "outage-1").get(5);
        ScannerSimulator.Instance b = ScannerSimulator.convert(lgg(), List.of("DU"), 1, all, null, 1, null, null, "outage-2").get(5);
        assertEquals(plain.sopInstanceUid(), ScannerSimulator.convert(lgg(), List.of("DU"), 1, null, 1).get(5).sopInstanceUid(),
                "no namespace: the UIDs of before");
        assertEquals(a.sopInstanceUid(), again.sopInstanceUid());
        assertNotEquals(plain.sopInstanceUid(), a.sopInstanceUid());
        assertNotEquals(a.sopInstanceUid(), b.sopInstanceUid());
        for (com.pixelmed.dicom.AttributeTag t : List.of(TagFromName.StudyInstanceUID, TagFromName.SeriesInstanceUID)) {
            assertNotEquals(Attribute.getSingleStringValueOrNull(header(a), t), Attribute.getSingleStringValueOrNull(header(b), t), t.toString());
        }
        assertTrue(java.util.Arrays.equals(pixels(a), pixels(b)), "the same images");
    }

    @Test
    void aProfileShiftsTheImagesAndSaysSoInTheHeaders() throws Exception {
        ScannerSimulator.Instance clean = ScannerSimulator.convert(lgg(), List.of("DU"), 1, null, 1).get(10);
        ScannerSimulator.Instance shifted = ScannerSimulator.convert(lgg(), List.of("DU"), 1, "lowfield", 1).get(10);
        AttributeList h = header(shifted);
        assertEquals("SIM-LOWFIELD", Attribute.getSingleStringValueOrNull(h, TagFromName.StationName));
        assertTrue(Attribute.getSingleStringValueOrNull(h, TagFromName.SeriesDescription).startsWith("SIMULATED"));
        assertEquals("0.5", Attribute.getSingleStringValueOrNull(h, new com.pixelmed.dicom.AttributeTag(0x0018, 0x0087)));
        assertNotEquals(clean.sopInstanceUid(), shifted.sopInstanceUid(), "a simulated scanner's series is a different series");
        short[] a = pixels(clean);
        short[] b = pixels(shifted);
        double diff = 0;
        for (int i = 0; i < a.length; i++) diff += Math.abs(a[i] - b[i]);
        assertTrue(diff / a.length > 20, "the shift changes intensities: mean |diff| " + diff / a.length);
        assertValidForDciodvfy(shifted);
    }

    @Test
    void badInputIsAClearError() {
        IllegalArgumentException site = assertThrows(IllegalArgumentException.class,
                () -> ScannerSimulator.convert(lgg(), List.of("ZZ"), 1, null, 1));
        assertTrue(site.getMessage().contains("ZZ"));
        assertThrows(IllegalArgumentException.class, () -> AcquisitionProfile.parse("sepia"));
        assertThrows(IllegalArgumentException.class, () -> AcquisitionProfile.parse("gamma:q=2"));
        // the whole shift grammar of the adaptation suite is a profile too, with a stable station name
        AcquisitionProfile custom = AcquisitionProfile.parse("gamma:g=0.7+bias:a=0.3,pattern=lr");
        assertEquals(custom.stationName(), AcquisitionProfile.parse("gamma:g=0.7+bias:a=0.3,pattern=lr").stationName());
        assertTrue(custom.stationName().startsWith("SIM-SHIFT-"), custom.stationName());
        assertEquals("SIM-NEWSCANNER", AcquisitionProfile.parse("newscanner:g=0.6").stationName());
        assertThrows(IllegalArgumentException.class, () -> ScannerSimulator.convert(tmp, List.of(), 0, null, 1));
    }

    private void assertValidForDciodvfy(ScannerSimulator.Instance x) throws Exception {
        Path f = tmp.resolve(x.sopInstanceUid() + ".dcm");
        Files.write(f, x.part10());
        Process p = new ProcessBuilder("dciodvfy", "-new", f.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        List<String> errors = out.lines().filter(l -> l.startsWith("Error")).toList();
        assertEquals(List.of(), errors, out);
    }

    private static AttributeList header(ScannerSimulator.Instance x) {
        try {
            AttributeList l = new AttributeList();
            l.read(new DicomInputStream(new ByteArrayInputStream(x.part10())));
            return l;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static short[] pixels(ScannerSimulator.Instance x) throws Exception {
        return header(x).get(TagFromName.PixelData).getShortValues();
    }

    @Test
    void patientFilterAndExportWriteWhatWasSentWithTheMasks() throws Exception {
        List<String> du = ImageFolders.read(lgg(), List.of("DU"), 3).stream().map(ImageFolders.Patient::id).toList();
        ImageFolders.PatientFilter onlySecond = new ImageFolders.PatientFilter(Set.of(du.get(1)), Set.of());
        Path out = tmp.resolve("export");
        List<ScannerSimulator.Instance> xs = ScannerSimulator.convert(lgg(), List.of("DU"), 0, onlySecond, "gamma", 1, new SentSeriesExport(out));
        assertTrue(xs.stream().allMatch(x -> x.label().startsWith("DU/" + du.get(1) + "/")), "only the included patient");
        List<String> index = Files.readAllLines(out.resolve(SentSeriesExport.INDEX));
        assertEquals(1, index.size());
        String[] f = index.get(0).split("\t");
        assertEquals(header(xs.get(0)).get(TagFromName.SeriesInstanceUID).getSingleStringValueOrEmptyString(), f[0]);
        assertEquals(List.of("DU", du.get(1), "gamma", Integer.toString(xs.size())), List.of(f[2], f[3], f[4], f[5]));
        Path dir = out.resolve(f[6]);
        assertEquals("DU-GAMMA/" + du.get(1), f[6]);
        java.awt.image.Raster sent = javax.imageio.ImageIO.read(dir.resolve("slice_11_flair.png").toFile()).getRaster();
        short[] px = pixels(xs.get(10));
        int[] back = sent.getSamples(0, 0, sent.getWidth(), sent.getHeight(), 0, new int[px.length]);
        for (int i = 0; i < px.length; i += 97) assertEquals(px[i] & 0xFFFF, back[i], "exported pixels are the ones sent");
        assertTrue(Files.isRegularFile(dir.resolve("slice_11_mask.png")));
        ImageFolders.PatientFilter excludeFirst = new ImageFolders.PatientFilter(Set.of(), Set.of(du.get(0)));
        assertEquals(du.get(1), ImageFolders.read(lgg(), List.of("DU"), 1, excludeFirst).get(0).id());
        assertThrows(IllegalArgumentException.class, () -> ImageFolders.read(lgg(), List.of("DU"), 0,
                new ImageFolders.PatientFilter(Set.of("NO-SUCH-PATIENT"), Set.of())));
    }

    @Test
    void expertCorrectionsAreWrittenForTheFirstSeriesOnlyInInstanceOrder() throws Exception {
        Path dir = tmp.resolve("expert");
        List<ScannerSimulator.Instance> xs = ScannerSimulator.convert(lgg(), List.of("DU"), 2, ImageFolders.PatientFilter.ALL,
                "newscanner", 1, null, new ExpertCorrections(dir, 1));
        String first = header(xs.get(0)).get(TagFromName.SeriesInstanceUID).getSingleStringValueOrEmptyString();
        try (var s = Files.list(dir)) {
            assertEquals(List.of(first), s.map(p -> p.getFileName().toString()).toList(), "one series corrected, named by its UID");
        }
        ImageFolders.Patient p = ImageFolders.read(lgg(), List.of("DU"), 1).get(0);
        long slices = xs.stream().filter(x -> x.label().startsWith("DU/" + p.id() + "/")).count();
        try (var s = Files.list(dir.resolve(first))) {
            assertEquals(slices, s.count());
        }
        // slice_NNN counts instances from 000 (InstanceNumber 1): the same mask as the source's slice at that position
        int k = 10;
        java.awt.image.Raster m = javax.imageio.ImageIO.read(dir.resolve(first).resolve(String.format("slice_%03d_mask.png", k)).toFile()).getRaster();
        java.awt.image.Raster src = javax.imageio.ImageIO.read(ImageFolders.maskFor(p.files().get(k)).toFile()).getRaster();
        int[] a = m.getSamples(0, 0, m.getWidth(), m.getHeight(), 0, (int[]) null);
        int[] b = src.getSamples(0, 0, src.getWidth(), src.getHeight(), 0, (int[]) null);
        for (int i = 0; i < a.length; i++) assertEquals(b[i] > 0 ? 255 : 0, a[i]);
    }
}
