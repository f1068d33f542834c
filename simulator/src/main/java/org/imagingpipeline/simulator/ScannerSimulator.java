package org.imagingpipeline.simulator;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Turns image folders (lgg-flair PNG or kaggle_3m TIFF) into DICOM MR series, one per patient, as a scanner
 * at that site would send them: InstitutionName = site code, consistent UIDs (derived from patient and
 * profile, so re-sending is idempotent) and geometry. With a profile, the images get a documented
 * acquisition-like shift and the headers say SIMULATED, with the profile's station name and field strength.
 * Geometry: 1 mm pixels and 1 mm slice spacing are assumptions (the curated data has none), stated in
 * ImageComments.
 */
public final class ScannerSimulator {
    private ScannerSimulator() {
    }

    /** One generated instance, ready to send. */
    public record Instance(String sopClassUid, String sopInstanceUid, byte[] part10, String label) {
    }

    public static List<Instance> convert(Path data, List<String> sites, int patientsPerSite, String profileSpec, long seed) throws Exception {
        return convert(data, sites, patientsPerSite, ImageFolders.PatientFilter.ALL, profileSpec, seed, null);
    }

    /**
     * As {@link #convert(Path, List, int, String, long)} for the patients the filter accepts; with an exporter, each
     * series' pixels as sent (after the profile) and the expert masks beside them are also written out, so that a
     * caller holding the masks (the demo) can measure Dice on exactly what the pipeline received.
     */
    static List<Instance> convert(Path data, List<String> sites, int patientsPerSite, ImageFolders.PatientFilter filter,
                                  String profileSpec, long seed, SentSeriesExport export) throws Exception {
        return convert(data, sites, patientsPerSite, filter, profileSpec, seed, export, null);
    }

    /** As above; with {@code expert}, the first series' expert masks are written as returned corrections (before sending). */
    static List<Instance> convert(Path data, List<String> sites, int patientsPerSite, ImageFolders.PatientFilter filter,
                                  String profileSpec, long seed, SentSeriesExport export, ExpertCorrections expert) throws Exception {
        return convert(data, sites, patientsPerSite, filter, profileSpec, seed, export, expert, null);
    }

    /**
     * As above; a non-null {@code uidNamespace} enters every UID, so that the same images are sent again as new studies
     * (load and outage benchmarks), while the same namespace gives the same UIDs again (a re-send is a duplicate).
     */
    static List<Instance> convert(Path data, List<String> sites, int patientsPerSite, ImageFolders.PatientFilter filter,
                                  String profileSpec, long seed, SentSeriesExport export, ExpertCorrections expert,
                                  String uidNamespace) throws Exception {
        AcquisitionProfile profile = profileSpec == null ? null : AcquisitionProfile.parse(profileSpec);
        List<Instance> out = new ArrayList<>();
        for (ImageFolders.Patient p : ImageFolders.read(data, sites, patientsPerSite, filter)) {
            String key = (uidNamespace == null ? "" : "ns=" + uidNamespace + "|") + p.id() + "|" + (profile == null ? "" : profile.name() + profile);
            boolean sim = profile != null;
            MrImage.Series series = new MrImage.Series(p.id(), "ANONYMOUS^" + p.id(), MrImage.uidFor("study|" + key),
                    MrImage.uidFor("series|" + key), MrImage.uidFor("for|" + key), "20000101",
                    sim ? "SIMULATED" : "UNKNOWN (image folders)", sim ? "profile " + profile.name() : "unknown",
                    p.site(), sim ? profile.stationName() : p.site() + "-MR", sim ? profile.fieldStrength() : 1.5,
                    (sim ? "SIMULATED " + profile.name().toUpperCase() + " " : "") + "AX FLAIR", "AX FLAIR",
                    "Converted from curated 8-bit FLAIR slices; pixel spacing and slice spacing 1 mm ASSUMED"
                            + (sim ? "; SIMULATED acquisition shift: " + profile : ""));
            Random rnd = new Random(seed ^ p.id().hashCode());
            int n = p.slices().size();
            List<short[]> sent = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int[] src = p.slices().get(i);
                float[] v = new float[src.length];
                for (int k = 0; k < src.length; k++) v[k] = src[k] / 255f;
                if (sim) profile.apply(v, p.width(), p.height(), rnd);
                short[] px = new short[v.length];
                for (int k = 0; k < v.length; k++) px[k] = (short) Math.round(v[k] * 4095);
                sent.add(px);
                String sop = MrImage.uidFor("sop|" + key + "|" + (i + 1));
                out.add(new Instance(MrImage.MR_IMAGE_STORAGE, sop,
                        MrImage.build(series, sop, i + 1, i * 1.0, px, p.height(), p.width(), 12, 1.0, 1.0), p.site() + "/" + p.id() + "/" + (i + 1)));
            }
            if (export != null) {
                export.write(p, profile == null ? null : profile.name(), series.studyUid(), series.seriesUid(), sent);
            }
            if (expert != null) {
                expert.write(p, series.seriesUid());
            }
        }
        return out;
    }
}
