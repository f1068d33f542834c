package org.imagingpipeline.streams;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.imagingpipeline.events.DomainEvent;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.shifts.AcquisitionShift;
import org.imagingpipeline.shifts.ShiftSuite;
import org.imagingpipeline.simulator.ImageFolders;

/**
 * The offline half of {@code ./pipeline bench drift}: detection power of the drift detector's decision rule
 * ({@link DriftDecision}, {@link ShrunkHotelling}) on the pre-registered shift suite (acquisition-shifts), from the
 * same image statistics the service computes ({@link ImageStatistics} on the same slices, 12-bit values as the scanner
 * simulator writes them), without a broker.
 * <ul>
 * <li>Each draw splits DU's patients at random like the source model's card (80% training = the KNOWN reference, 20%
 *     held out) and sends held-out DU patients through the shift (noise seeded per draw): power at 1, 2, 3 and 5
 *     series is the share of draws whose test at that many series has p &lt; alpha; "confirmed within 3" and
 *     "decided within 5" run the detector's sequential rule (test from min-series on, ALIAS at max-series).</li>
 * <li>The same against a two-site KNOWN reference (DU and HT, each split 80/20: a candidate must differ from both),
 *     and the real sites CS and HT as candidates.</li>
 * <li>False flags: {@code --replays} (500) replays of held-out DU patients (slice positions, head position,
 *     gain vary: the same scanner), streamed through the KNOWN domain's watch, and, stricter,
 *     sent as if they came with a new header key (candidate domains of max-series series each).</li>
 * </ul>
 * Usage: {@code DriftPowerBench --data DIR [--half reporting|tuning|all] [--shifts ID,..] [--draws 60] [--replays 500] [--seed 1]};
 * JSON on the last stdout line, progress on stderr.
 */
public final class DriftPowerBench {
    static final int[] POWER_AT = {1, 2, 3, 5};
    /** Share of each site's patients that trains the source model (retrain's PatientSplit default). */
    static final double TRAINING_SHARE = 0.8;
    /** Noise realisations per (patient, shift): a draw picks one. */
    static final int NOISE_SEEDS = 4;

    private final Map<String, List<ImageFolders.Patient>> sites;
    private final Map<String, double[]> cache = new ConcurrentHashMap<>();
    private final AtomicLong featureNanos = new AtomicLong();
    private final AtomicLong featureSeries = new AtomicLong();
    private final DriftConfig config;
    private final long seed;

    DriftPowerBench(Map<String, List<ImageFolders.Patient>> sites, DriftConfig config, long seed) {
        this.sites = sites;
        this.config = config;
        this.seed = seed;
    }

    public static void main(String[] args) {
        System.exit(new picocli.CommandLine(new Cli()).execute(args));
    }

    /** The command line ({@code ./pipeline bench drift} runs it with the simulator's class path: picocli, ImageFolders). */
    @picocli.CommandLine.Command(name = "bench-drift-offline", mixinStandardHelpOptions = true,
            description = "Detection power of the drift decision rule on the shift suite, real new sites and false flags over held-out"
                    + " DU replays, without a broker; JSON on stdout, progress on stderr.")
    static final class Cli implements java.util.concurrent.Callable<Integer> {
        @picocli.CommandLine.Option(names = "--data", required = true, description = "the lgg-flair folder (DU, HT, CS)")
        Path data;

        @picocli.CommandLine.Option(names = "--half", defaultValue = "reporting",
                description = "shift-suite half: reporting, tuning or all (default: ${DEFAULT-VALUE})")
        String half;

        @picocli.CommandLine.Option(names = "--shifts", split = ",", description = "only these shift ids (e.g. b01,c04)")
        List<String> only;

        @picocli.CommandLine.Option(names = "--draws", defaultValue = "60", description = "random draws per shift and site (default: ${DEFAULT-VALUE})")
        int draws;

        @picocli.CommandLine.Option(names = "--replays", defaultValue = "500", description = "held-out DU replays for false flags (default: ${DEFAULT-VALUE})")
        int replays;

        @picocli.CommandLine.Option(names = "--seed", defaultValue = "1", description = "seed of the draws (default: ${DEFAULT-VALUE})")
        long seed;

        @Override
        public Integer call() throws Exception {
            ShiftSuite.Half h = ShiftSuite.Half.parse(half);
            Map<String, List<ImageFolders.Patient>> sites = new LinkedHashMap<>();
            for (String s : List.of("DU", "HT", "CS")) sites.put(s, ImageFolders.read(data, List.of(s), 0));
            List<ShiftSuite.Entry> shifts = ShiftSuite.load().half(h);
            if (only != null && !only.isEmpty()) shifts = shifts.stream().filter(e -> only.contains(e.id())).toList();
            DriftPowerBench b = new DriftPowerBench(sites, DriftConfig.DEFAULT, seed);
            System.out.println(EventJson.mapper().writeValueAsString(b.run(shifts, h, draws, replays)));
            return 0;
        }
    }

    Map<String, Object> run(List<ShiftSuite.Entry> shifts, ShiftSuite.Half half, int draws, int replays) {
        long t0 = System.nanoTime();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("bench", "drift-power");
        out.put("half", half == null ? "all" : half.label());
        out.put("test", ShrunkHotelling.NAME);
        out.put("alpha", config.alpha());
        out.put("min_series", config.minSeries());
        out.put("max_series", config.maxSeries());
        out.put("permutations", config.permutations());
        out.put("draws", draws);
        out.put("reference", "per draw: a random " + Math.round(TRAINING_SHARE * 100) + "% of each KNOWN site's patients (the source model's training"
                + " share); shifted candidates are the other DU patients");
        out.put("features", ImageStatistics.DETECTOR_NAMES);
        Map<String, Object> du = new LinkedHashMap<>(), duHt = new LinkedHashMap<>();
        for (ShiftSuite.Entry e : shifts) {
            du.put(e.id(), shiftRow(e, draws, List.of("DU")));
            duHt.put(e.id(), shiftRow(e, draws, List.of("DU", "HT")));
            System.err.printf(Locale.ROOT, "bench drift: %s %s done (%.0f s)%n", e.id(), e.shift().spec(), (System.nanoTime() - t0) / 1e9);
        }
        Map<String, Object> known = new LinkedHashMap<>();
        known.put("shifts", du);
        known.put("sites", Map.of("CS", siteRow("CS", draws, List.of("DU")), "HT", siteRow("HT", draws, List.of("DU"))));
        out.put("known_DU", known);
        Map<String, Object> known2 = new LinkedHashMap<>();
        known2.put("shifts", duHt);
        known2.put("sites", Map.of("CS", siteRow("CS", draws, List.of("DU", "HT"))));
        out.put("known_DU_HT", known2);
        out.put("false_flags", falseFlags(replays));
        out.put("feature_series", featureSeries.get());
        out.put("feature_ms_per_series", Math.round(featureNanos.get() / 1e5 / Math.max(1, featureSeries.get())) / 10.0);
        out.put("seconds", Math.round((System.nanoTime() - t0) / 1e8) / 10.0);
        return out;
    }

    /** A draw's KNOWN references (site -> its training patients' features) and the held-out patients of each site. */
    record Split(Map<String, List<double[]>> known, Map<String, List<ImageFolders.Patient>> heldOut) {
    }

    Split split(List<String> knownSites, Random r) {
        Map<String, List<double[]>> known = new LinkedHashMap<>();
        Map<String, List<ImageFolders.Patient>> held = new LinkedHashMap<>();
        for (String site : List.of("DU", "HT", "CS")) {
            List<ImageFolders.Patient> ps = new ArrayList<>(sites.get(site));
            Collections.shuffle(ps, r);
            int train = knownSites.contains(site) ? (int) Math.round(ps.size() * TRAINING_SHARE) : 0;
            if (train > 0) known.put(site, ps.subList(0, train).stream().map(p -> features(p, AcquisitionShift.NONE, 0)).toList());
            held.put(site, ps.subList(train, ps.size()));
        }
        return new Split(known, held);
    }

    /** Power at 1, 2, 3, 5 series and the sequential rule's outcome for one shift of held-out DU patients. */
    Map<String, Object> shiftRow(ShiftSuite.Entry e, int draws, List<String> knownSites) {
        int[] hits = new int[POWER_AT.length];
        Map<String, Integer> outcome = new LinkedHashMap<>();
        int within3 = 0;
        List<Integer> confirmedAt = new ArrayList<>();
        for (int t = 0; t < draws; t++) {
            Random r = new Random(seed * 1_000_003L + e.id().hashCode() * 7919L + t);
            Split s = split(knownSites, r);
            List<ImageFolders.Patient> held = new ArrayList<>(s.heldOut().get("DU"));
            Collections.shuffle(held, r);
            int noise = r.nextInt(NOISE_SEEDS);
            List<DomainState.Entry> cand = new ArrayList<>();
            for (int i = 0; i < Math.min(held.size(), config.maxSeries()); i++) {
                cand.add(new DomainState.Entry(held.get(i).id() + "+" + e.id(), features(held.get(i), e.shift(), noise), held.get(i).id()));
            }
            tally(e.id() + "#" + t, cand, s.known(), hits, outcome, confirmedAt);
        }
        for (int n : confirmedAt) if (n <= 3) within3++;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("spec", e.shift().spec());
        m.put("family", e.family());
        m.put("power", power(hits, draws));
        m.put("confirmed_within_3", within3 + "/" + draws);
        m.put("sequential", sequential(outcome, confirmedAt));
        return m;
    }

    /** A real site's patients as the candidate domain. */
    Map<String, Object> siteRow(String site, int draws, List<String> knownSites) {
        int[] hits = new int[POWER_AT.length];
        Map<String, Integer> outcome = new LinkedHashMap<>();
        List<Integer> confirmedAt = new ArrayList<>();
        for (int t = 0; t < draws; t++) {
            Random r = new Random(seed * 1_000_003L + site.hashCode() * 7919L + t);
            Split s = split(knownSites, r);
            List<ImageFolders.Patient> pool = new ArrayList<>(s.heldOut().get(site));
            Collections.shuffle(pool, r);
            List<DomainState.Entry> cand = new ArrayList<>();
            for (int i = 0; i < Math.min(pool.size(), config.maxSeries()); i++) {
                cand.add(new DomainState.Entry(pool.get(i).id(), features(pool.get(i), AcquisitionShift.NONE, 0), pool.get(i).id()));
            }
            tally(site + "#" + t, cand, s.known(), hits, outcome, confirmedAt);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("power", power(hits, draws));
        m.put("sequential", sequential(outcome, confirmedAt));
        return m;
    }

    /** One draw: single tests at each POWER_AT size (p below alpha against every KNOWN domain), then the sequential rule. */
    private void tally(String id, List<DomainState.Entry> cand, Map<String, List<double[]>> known, int[] hits, Map<String, Integer> outcome,
                       List<Integer> confirmedAt) {
        for (int k = 0; k < POWER_AT.length; k++) {
            int n = POWER_AT[k];
            if (n > cand.size()) continue;
            boolean all = true;
            for (Map.Entry<String, List<double[]>> ref : known.entrySet()) {
                ShrunkHotelling.Result res = ShrunkHotelling.test(DomainState.perPatient(cand.subList(0, n)), ref.getValue(),
                        ImageStatistics.DETECTOR_NAMES, config.permutations(), DriftDecision.seed(config.seed(), id, ref.getKey(), n));
                if (res.pValue() >= config.alpha()) {
                    all = false;
                    break;
                }
            }
            if (all) hits[k]++;
        }
        DriftDecision.Outcome o = null;
        int n;
        for (n = 1; n <= cand.size(); n++) {
            o = DriftDecision.decide(id, cand.subList(0, n), known, config);
            if (o != null && o.status() != DomainEvent.Status.CANDIDATE) break;
        }
        String st = o == null ? "CANDIDATE" : o.status().name();
        outcome.merge(st, 1, Integer::sum);
        if (o != null && o.status() == DomainEvent.Status.DRIFT_CONFIRMED) confirmedAt.add(n);
    }

    private static Map<String, String> power(int[] hits, int draws) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int k = 0; k < POWER_AT.length; k++) m.put(Integer.toString(POWER_AT[k]), hits[k] + "/" + draws);
        return m;
    }

    private static Map<String, Object> sequential(Map<String, Integer> outcome, List<Integer> confirmedAt) {
        Map<String, Object> m = new LinkedHashMap<>(outcome);
        Collections.sort(confirmedAt);
        if (!confirmedAt.isEmpty()) {
            m.put("confirmed_after_median", confirmedAt.get(confirmedAt.size() / 2));
            m.put("confirmed_after_max", confirmedAt.get(confirmedAt.size() - 1));
        }
        return m;
    }

    /**
     * Replays of held-out DU patients: per split (10 random ones), replays/10 series streamed through the KNOWN
     * domain's watch and cut into candidate domains of max-series series each.
     */
    Map<String, Object> falseFlags(int replays) {
        int splits = 10, perSplit = Math.max(1, replays / splits);
        int watchTests = 0, watchFlags = 0, domains = 0, confirmed = 0, aliases = 0;
        double minWatchP = 1, minCandidateP = 1;
        Map<String, Integer> flaggedBy = new java.util.TreeMap<>();
        for (int sp = 0; sp < splits; sp++) {
            Random r = new Random(seed * 31 + 104_729L * sp);
            Split s = split(List.of("DU"), r);
            List<ImageFolders.Patient> held = s.heldOut().get("DU");
            List<DomainState.Entry> stream = new ArrayList<>();
            for (int i = 0; i < perSplit; i++) {
                ImageFolders.Patient p = held.get(i % held.size());
                stream.add(new DomainState.Entry(p.id() + "~" + sp + "." + i, replay(p, new Random(r.nextLong())), p.id()));
            }
            List<double[]> ref = s.known().get("DU");
            List<DomainState.Entry> window = new ArrayList<>();
            for (int i = 0; i < stream.size(); i++) {
                window.add(stream.get(i));
                if (window.size() > config.watchWindow()) window.remove(0);
                long monitored = i + 1;
                if (window.size() == config.watchWindow() && monitored % config.watchEvery() == 0) {
                    watchTests++;
                    DriftDecision.Outcome o = DriftDecision.watch("DU", window, ref, monitored, config);
                    if (o == null) continue;
                    minWatchP = Math.min(minWatchP, o.evidence().pValue());
                    if (o.status() == DomainEvent.Status.DRIFT_CONFIRMED) {
                        watchFlags++;
                        flaggedBy.merge(topFeature(o), 1, Integer::sum);
                    }
                }
            }
            for (int from = 0; from + config.maxSeries() <= stream.size(); from += config.maxSeries()) {
                domains++;
                List<DomainState.Entry> cand = stream.subList(from, from + config.maxSeries());
                for (int n = config.minSeries(); n <= cand.size(); n++) {
                    DriftDecision.Outcome o = DriftDecision.decide("replay" + sp + "." + from, cand.subList(0, n), s.known(), config);
                    if (o == null) continue;
                    minCandidateP = Math.min(minCandidateP, o.evidence().pValue());
                    if (o.status() == DomainEvent.Status.DRIFT_CONFIRMED) {
                        confirmed++;
                        flaggedBy.merge(topFeature(o), 1, Integer::sum);
                    }
                    if (o.status() == DomainEvent.Status.ALIAS) aliases++;
                    if (o.status() != DomainEvent.Status.CANDIDATE) break;
                }
            }
            System.err.printf(Locale.ROOT, "bench drift: false flags, split %d of %d%n", sp + 1, splits);
        }
        Map<String, Object> watch = new LinkedHashMap<>();
        watch.put("tests", watchTests);
        watch.put("false_flags", watchFlags);
        watch.put("min_p", minWatchP);
        Map<String, Object> asNew = new LinkedHashMap<>();
        asNew.put("domains", domains);
        asNew.put("false_flags", confirmed);
        asNew.put("alias", aliases);
        asNew.put("min_p", minCandidateP);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("replays", splits * perSplit);
        m.put("splits", splits);
        m.put("known_domain_watch", watch);
        m.put("as_new_header_key", asNew);
        m.put("false_flags_top_feature", flaggedBy);
        return m;
    }

    @SuppressWarnings("unchecked")
    private static String topFeature(DriftDecision.Outcome o) {
        List<Map<String, Object>> moved = (List<Map<String, Object>>) o.evidence().details().get("movedFeatures");
        return moved.isEmpty() ? "?" : String.valueOf(moved.get(0).get("feature"));
    }

    /** Features of one patient through a shift (noise realisation {@code noise}), cached. */
    double[] features(ImageFolders.Patient p, AcquisitionShift shift, int noise) {
        boolean noisy = shift.families().contains("noise");
        String key = p.site() + "/" + p.id() + "|" + shift.spec() + "|" + (noisy ? noise : 0);
        return cache.computeIfAbsent(key, k -> {
            int[] pick = SliceSelection.pick(p.slices().size(), config.slicesPerSeries());
            return measure(p, pick, shift, 20261205L + noise, 1.0, 0, 0);
        });
    }

    /**
     * A replay of the patient on the same scanner: other slice positions (+-2 slices), head position (+-8 px, moved
     * with its background: a circular shift) and gain (0.8-1.25). The image is not mirrored: the scanner's own
     * shading would mirror with it, which a second visit to the same scanner does not do.
     */
    double[] replay(ImageFolders.Patient p, Random r) {
        int[] pick = SliceSelection.pick(p.slices().size(), config.slicesPerSeries());
        int off = r.nextInt(5) - 2;
        for (int i = 0; i < pick.length; i++) pick[i] = Math.max(0, Math.min(p.slices().size() - 1, pick[i] + off));
        return measure(p, pick, AcquisitionShift.NONE, 0, 0.8 + 0.45 * r.nextDouble(), r.nextInt(17) - 8, r.nextInt(17) - 8);
    }

    /** Detector features of the picked slices through the shift, moved (circularly) and scaled, as the simulator's 12-bit values. */
    double[] measure(ImageFolders.Patient p, int[] pick, AcquisitionShift shift, long noiseSeed, double gain, int dx, int dy) {
        long t0 = System.nanoTime();
        List<ImageStatistics.Slice> slices = new ArrayList<>();
        int w = p.width(), h = p.height();
        for (int i : pick) {
            int[] src = p.slices().get(i);
            float[] v = new float[src.length];
            for (int k = 0; k < src.length; k++) v[k] = src[k] / 255f;
            if (!shift.steps().isEmpty()) v = shift.apply(v, w, h, noiseSeed, p.id(), i);
            float[] q = new float[v.length];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int sx = Math.floorMod(x - dx, w), sy = Math.floorMod(y - dy, h);
                    float val = v[sy * w + sx];
                    q[y * w + x] = (float) Math.round(Math.round(val * 4095) * gain);
                }
            }
            slices.add(new ImageStatistics.Slice(q, w, h));
        }
        double[] f = ImageStatistics.detectorFeatures(ImageStatistics.of(slices));
        featureNanos.addAndGet(System.nanoTime() - t0);
        featureSeries.incrementAndGet();
        return f;
    }
}
