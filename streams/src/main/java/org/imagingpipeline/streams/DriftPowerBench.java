package org.imagingpipeline.streams;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.imagingpipeline.simulator.AcquisitionProfile;
import org.imagingpipeline.simulator.ImageFolders;
import org.imagingpipeline.events.DomainEvent;
import org.imagingpipeline.events.EventJson;

/**
 * The offline half of {@code ./pipeline bench drift}: detection power of the drift detector's decision rule
 * ({@link DriftDecision}) over repeated random draws, from the same image statistics the service computes
 * ({@link ImageStatistics} on the same slices, 12-bit values as the scanner simulator writes them), without a broker.
 * <ul>
 * <li>per patient of DU, HT, CS: one feature vector; DU patients also through each acquisition profile
 *     (gamma, biasfield, lowfield, newscanner) and as replays with small perturbations (gain, contrast, shading,
 *     left-right flip);</li>
 * <li>each trial draws a reference of {@code --reference} DU patients (the KNOWN domain) and tests n new series
 *     (CS, HT, profiles: from the other DU patients, held-out DU) at p &lt; alpha, as in the issue's baseline table;</li>
 * <li>series-until-flag: the detector's sequential rule (test from minSeries on, ALIAS at maxSeries);</li>
 * <li>false flags: the KNOWN-domain watch run over a stream of >= 500 perturbed DU replays.</li>
 * </ul>
 * Usage: {@code DriftPowerBench --data DIR [--trials 60] [--reference 30] [--replays 12] [--seed 1]}; JSON on the
 * last stdout line, progress on stderr.
 */
@picocli.CommandLine.Command(name = "bench-drift-offline", mixinStandardHelpOptions = true,
        description = "Detection power, series-until-flag and false flags of the drift decision rule, without a broker; JSON on stdout.")
public final class DriftPowerBench implements java.util.concurrent.Callable<Integer> {
    static final List<String> PROFILES = List.of("gamma", "biasfield", "lowfield", "newscanner");

    @picocli.CommandLine.Option(names = "--data", required = true, description = "the lgg-flair folder (DU, HT, CS)")
    Path data;

    @picocli.CommandLine.Option(names = "--trials", defaultValue = "60", description = "random draws (default: ${DEFAULT-VALUE})")
    int trials;

    @picocli.CommandLine.Option(names = "--reference", defaultValue = "30", description = "DU patients of the KNOWN reference (default: ${DEFAULT-VALUE})")
    int refSize;

    @picocli.CommandLine.Option(names = "--replays", defaultValue = "12", description = "perturbed replays per DU patient (default: ${DEFAULT-VALUE})")
    int replays;

    @picocli.CommandLine.Option(names = "--seed", defaultValue = "1")
    long seed;

    public static void main(String[] args) {
        System.exit(new picocli.CommandLine(new DriftPowerBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        DriftConfig c = DriftConfig.DEFAULT;
        Features f = Features.compute(data, replays, c.slicesPerSeries(), seed);
        System.out.println(EventJson.mapper().writeValueAsString(run(f, trials, refSize, seed, c)));
        return 0;
    }

    /** Feature vectors per group: "DU", "HT", "CS", "DU+gamma", ... (one per patient, DU order kept) and replays per DU patient. */
    record Features(Map<String, List<double[]>> groups, List<String> duPatients, Map<String, List<double[]>> replays, double seconds,
                    int series) {
        static Features compute(Path data, int replays, int slices, long seed) throws Exception {
            Map<String, List<double[]>> groups = new LinkedHashMap<>();
            Map<String, List<double[]>> rep = new LinkedHashMap<>();
            List<String> du = new ArrayList<>();
            long t0 = System.nanoTime();
            int series = 0;
            for (String site : List.of("DU", "HT", "CS")) {
                for (ImageFolders.Patient p : ImageFolders.read(data, List.of(site), 0)) {
                    int[] pick = SliceSelection.pick(p.slices().size(), slices);
                    groups.computeIfAbsent(site, k -> new ArrayList<>()).add(features(p, pick, null, 1.0, false, new Random(seed)));
                    series++;
                    if (!site.equals("DU")) continue;
                    du.add(p.id());
                    for (String prof : PROFILES) {
                        groups.computeIfAbsent("DU+" + prof, k -> new ArrayList<>())
                                .add(features(p, pick, AcquisitionProfile.parse(prof), 1.0, false, new Random(seed ^ p.id().hashCode())));
                        series++;
                    }
                    Random r = new Random(seed * 31 + p.id().hashCode());
                    List<double[]> mine = new ArrayList<>();
                    for (int i = 0; i < replays; i++) {
                        String spec = String.format(Locale.ROOT, "newscanner:g=%.3f,a=%.3f,blur=0,noise=0", 0.97 + 0.06 * r.nextDouble(),
                                0.05 * r.nextDouble());
                        mine.add(features(p, pick, AcquisitionProfile.parse(spec), 0.7 + 0.3 * r.nextDouble(), r.nextBoolean(), r));
                        series++;
                    }
                    rep.put(p.id(), mine);
                }
                System.err.printf("bench drift: features of %s done (%d series so far)%n", site, series);
            }
            return new Features(groups, du, rep, (System.nanoTime() - t0) / 1e9, series);
        }
    }

    /** Features of one patient's picked slices, optionally through a profile, scaled by a gain and mirrored, as 12-bit values. */
    static double[] features(ImageFolders.Patient p, int[] pick, AcquisitionProfile profile, double gain, boolean flip, Random rnd) {
        List<ImageStatistics.Slice> slices = new ArrayList<>();
        int w = p.width(), h = p.height();
        for (int i : pick) {
            int[] src = p.slices().get(i);
            float[] v = new float[src.length];
            for (int k = 0; k < src.length; k++) v[k] = src[k] / 255f;
            if (profile != null) profile.apply(v, w, h, rnd);
            float[] q = new float[v.length];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int from = y * w + (flip ? w - 1 - x : x);
                    q[y * w + x] = Math.round(Math.round(v[from] * 4095) * gain);
                }
            }
            slices.add(new ImageStatistics.Slice(q, w, h));
        }
        return ImageStatistics.detectorFeatures(ImageStatistics.of(slices));
    }

    static Map<String, Object> run(Features f, int trials, int refSize, long seed, DriftConfig c) {
        Map<String, Object> out = new LinkedHashMap<>();
        List<double[]> du = f.groups().get("DU");
        Map<String, Object> power = new LinkedHashMap<>();
        Map<String, Object> untilFlag = new LinkedHashMap<>();
        List<String> targets = new ArrayList<>(List.of("CS", "HT", "DU-heldout"));
        for (String p : PROFILES) targets.add("DU+" + p);
        for (String target : targets) {
            for (int n : target.startsWith("DU+") ? new int[] {3} : new int[] {3, 5}) {
                int flagged = 0;
                for (int t = 0; t < trials; t++) {
                    Random r = new Random(seed + 7919L * t + n);
                    Draw d = draw(f, target, refSize, r);
                    List<double[]> sample = d.candidates.subList(0, Math.min(n, d.candidates.size()));
                    KernelMmd.Result res = KernelMmd.test(sample, d.reference, c.permutations(), r.nextLong());
                    if (res.pValue() < c.alpha()) flagged++;
                }
                power.put(target + " n=" + n, flagged + "/" + trials);
            }
            untilFlag.put(target, sequential(f, target, refSize, trials, seed, c));
        }
        out.put("bench", "drift-power");
        out.put("alpha", c.alpha());
        out.put("reference_du_patients", refSize);
        out.put("trials", trials);
        out.put("features", ImageStatistics.DETECTOR_NAMES);
        out.put("slices_per_series", c.slicesPerSeries());
        out.put("power", power);
        out.put("series_until_decision", untilFlag);
        out.put("watch_false_flags", watchFalseFlags(f, refSize, seed, c));
        out.put("centroid_site_accuracy", centroidAccuracy(f));
        out.put("feature_series", f.series());
        out.put("feature_ms_per_series", Math.round(1000 * f.seconds() / Math.max(1, f.series()) * 10) / 10.0);
        return out;
    }

    record Draw(List<double[]> reference, List<double[]> candidates, List<Integer> heldOut) {
    }

    /** A random DU reference and the candidates of the target (shuffled); DU targets use only held-out DU patients. */
    static Draw draw(Features f, String target, int refSize, Random r) {
        List<double[]> du = f.groups().get("DU");
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < du.size(); i++) idx.add(i);
        Collections.shuffle(idx, r);
        List<double[]> ref = new ArrayList<>();
        for (int i : idx.subList(0, refSize)) ref.add(du.get(i));
        List<Integer> held = new ArrayList<>(idx.subList(refSize, idx.size()));
        List<double[]> cand = new ArrayList<>();
        if (target.equals("DU-heldout")) for (int i : held) cand.add(du.get(i));
        else if (target.startsWith("DU+")) for (int i : held) cand.add(f.groups().get(target).get(i));
        else {
            cand.addAll(f.groups().get(target));
            Collections.shuffle(cand, r);
        }
        return new Draw(ref, cand, held);
    }

    /** The detector's sequential rule over random arrival orders: when (and how) it decides. */
    static Map<String, Object> sequential(Features f, String target, int refSize, int trials, long seed, DriftConfig c) {
        Map<String, Integer> decided = new LinkedHashMap<>();
        List<Integer> confirmedAt = new ArrayList<>();
        for (int t = 0; t < trials; t++) {
            Random r = new Random(seed * 17 + 104729L * t);
            Draw d = draw(f, target, refSize, r);
            DriftDecision.Outcome o = null;
            int n = 0;
            for (n = 1; n <= Math.min(c.maxSeries(), d.candidates.size()); n++) {
                o = DriftDecision.decide(target + "#" + t, d.candidates.subList(0, n), Map.of("DU", d.reference), c);
                if (o != null && o.status() != DomainEvent.Status.CANDIDATE) break;
            }
            String s = o == null ? "CANDIDATE" : o.status().name();
            decided.merge(s, 1, Integer::sum);
            if (o != null && o.status() == DomainEvent.Status.DRIFT_CONFIRMED) confirmedAt.add(n);
        }
        Map<String, Object> m = new LinkedHashMap<>(decided);
        Collections.sort(confirmedAt);
        if (!confirmedAt.isEmpty()) {
            m.put("confirmed_after_median", confirmedAt.get(confirmedAt.size() / 2));
            m.put("confirmed_after_max", confirmedAt.get(confirmedAt.size() - 1));
        }
        return m;
    }

    /** The KNOWN-domain watch over a stream of perturbed DU replays (training and held-out patients), reference = 30 DU. */
    static Map<String, Object> watchFalseFlags(Features f, int refSize, long seed, DriftConfig c) {
        Random r = new Random(seed * 101);
        Draw d = draw(f, "DU-heldout", refSize, r);
        List<double[]> stream = new ArrayList<>();
        for (List<double[]> rep : f.replays().values()) stream.addAll(rep);
        Collections.shuffle(stream, r);
        List<double[]> window = new ArrayList<>();
        int tests = 0, flags = 0;
        double minP = 1;
        for (int i = 0; i < stream.size(); i++) {
            window.add(stream.get(i));
            if (window.size() > c.watchWindow()) window.remove(0);
            long monitored = i + 1;
            if (window.size() == c.watchWindow() && monitored % c.watchEvery() == 0) {
                tests++;
                KernelMmd.Result res = KernelMmd.test(window, d.reference, c.watchPermutations(),
                        DriftDecision.seed(c.seed(), "DU", "watch", (int) monitored));
                minP = Math.min(minP, res.pValue());
                if (DriftDecision.watch("DU", window, d.reference, monitored, c) != null) flags++;
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("series", stream.size());
        m.put("tests", tests);
        m.put("false_flags", flags);
        m.put("min_p", minP);
        return m;
    }

    /** Leave-one-out nearest-centroid site classification (standardised features), as in the issue's baseline. */
    static double centroidAccuracy(Features f) {
        List<String> sites = List.of("DU", "HT", "CS");
        List<double[]> all = new ArrayList<>();
        List<Integer> label = new ArrayList<>();
        for (int s = 0; s < sites.size(); s++) for (double[] v : f.groups().get(sites.get(s))) {
            all.add(v);
            label.add(s);
        }
        int d = all.get(0).length;
        double[] mean = new double[d], sd = new double[d];
        for (double[] v : all) for (int j = 0; j < d; j++) mean[j] += v[j] / all.size();
        for (double[] v : all) for (int j = 0; j < d; j++) sd[j] += (v[j] - mean[j]) * (v[j] - mean[j]) / all.size();
        for (int j = 0; j < d; j++) sd[j] = sd[j] > 1e-12 ? Math.sqrt(sd[j]) : 1;
        int correct = 0;
        for (int i = 0; i < all.size(); i++) {
            double[][] cen = new double[sites.size()][d];
            int[] cnt = new int[sites.size()];
            for (int k = 0; k < all.size(); k++) {
                if (k == i) continue;
                cnt[label.get(k)]++;
                for (int j = 0; j < d; j++) cen[label.get(k)][j] += (all.get(k)[j] - mean[j]) / sd[j];
            }
            int best = -1;
            double bestD = Double.MAX_VALUE;
            for (int s = 0; s < sites.size(); s++) {
                double dist = 0;
                for (int j = 0; j < d; j++) {
                    double z = Double.isFinite(all.get(i)[j]) ? (all.get(i)[j] - mean[j]) / sd[j] : 0;
                    dist += Math.pow(z - cen[s][j] / cnt[s], 2);
                }
                if (dist < bestD) {
                    bestD = dist;
                    best = s;
                }
            }
            if (best == label.get(i)) correct++;
        }
        return Math.round(1000.0 * correct / all.size()) / 1000.0;
    }
}
