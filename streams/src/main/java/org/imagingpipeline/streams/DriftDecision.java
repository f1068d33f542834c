package org.imagingpipeline.streams;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.imagingpipeline.events.DomainEvent;

/**
 * The decision rule for a CANDIDATE domain, given its series' image statistics and every KNOWN domain's reference:
 * <ul>
 * <li>fewer than {@link DriftConfig#minSeries()} patients' series, or no KNOWN domain that can be tested: no test, it
 *     stays CANDIDATE (the unit is the patient: several series of one patient count once, {@link DomainState#perPatient});</li>
 * <li>{@link ShrunkHotelling} against each KNOWN domain; p &lt; alpha against every testable one: DRIFT_CONFIRMED;</li>
 * <li>otherwise, once it has {@link DriftConfig#maxSeries()} series: ALIAS of the KNOWN domain with the largest
 *     p-value (its images are not distinguishable from that domain's with this many series);</li>
 * <li>otherwise it stays CANDIDATE and is tested again with its next series.</li>
 * </ul>
 * A KNOWN domain is testable when its reference is large enough for an exact permutation test to reach p &lt; alpha
 * ({@link ShrunkHotelling#smallestP}); a smaller one (a domain approved with a handful of series) is listed in the
 * evidence as not tested and does not hold a decision up.
 * The evidence names the KNOWN domain with the largest p-value (for DRIFT_CONFIRMED that is the weakest rejection,
 * the one that decided; for ALIAS the match); {@code details} says which features moved against it, by how much and
 * with which p-values, the series tested and every KNOWN domain's statistic and p-value.
 * {@code driftScore} is the statistic against that closest KNOWN domain.
 */
public final class DriftDecision {
    public static final String TEST = ShrunkHotelling.NAME;
    /** Features listed in the evidence: those with a marginal p below alpha, and at least this many. */
    static final int EVIDENCE_FEATURES = 5;

    private DriftDecision() {
    }

    /** A test outcome: the status it leads to (CANDIDATE = undecided), the evidence and the closest KNOWN domain. */
    public record Outcome(DomainEvent.Status status, DomainEvent.Evidence evidence, double driftScore, String closest) {
    }

    /** Null when no test is due (too few series or no testable KNOWN domain). */
    public static Outcome decide(String domainId, List<DomainState.Entry> series, Map<String, List<double[]>> known, DriftConfig c) {
        List<double[]> values = DomainState.perPatient(series);
        int n = values.size();
        if (n < c.minSeries() || known.isEmpty()) return null;
        Map<String, Object> perDomain = new LinkedHashMap<>();
        List<String> untestable = new ArrayList<>();
        String closest = null;
        ShrunkHotelling.Result best = null;
        for (Map.Entry<String, List<double[]>> k : known.entrySet()) {
            int m = k.getValue().size();
            if (ShrunkHotelling.smallestP(n, m) >= c.alpha() || 1.0 / (c.permutations() + 1) >= c.alpha()) {
                untestable.add(k.getKey() + " (" + m + " reference series: p < " + c.alpha() + " unreachable with " + n + " series)");
                continue;
            }
            ShrunkHotelling.Result r = ShrunkHotelling.test(values, k.getValue(), ImageStatistics.DETECTOR_NAMES, c.permutations(),
                    seed(c.seed(), domainId, k.getKey(), n));
            perDomain.put(k.getKey(), Map.of("statistic", round(r.statistic()), "pValue", r.pValue(), "referenceSize", r.referenceSize(),
                    "topFeatures", r.moved(c.alpha(), 3).stream().limit(3).map(f -> f.feature() + " " + signed(f.shift())).toList()));
            if (best == null || r.pValue() > best.pValue() || (r.pValue() == best.pValue() && r.statistic() < best.statistic())) {
                best = r;
                closest = k.getKey();
            }
        }
        if (best == null) return null;
        DomainEvent.Status status = best.pValue() < c.alpha() ? DomainEvent.Status.DRIFT_CONFIRMED
                : n >= c.maxSeries() ? DomainEvent.Status.ALIAS : DomainEvent.Status.CANDIDATE;
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("rule", "DRIFT_CONFIRMED if p < threshold against every testable KNOWN domain after >= " + c.minSeries()
                + " series; ALIAS of the best-matching KNOWN domain after " + c.maxSeries() + " series otherwise");
        details.put("movedFeatures", evidence(best, c.alpha()));
        details.put("families", families(best));
        details.put("seriesTested", series.stream().map(DomainState.Entry::seriesInstanceUid).toList());
        details.put("patientsTested", n);
        details.put("perKnownDomain", perDomain);
        if (!untestable.isEmpty()) details.put("notTested", untestable);
        details.put("features", ImageStatistics.DETECTOR_NAMES.size() + " image statistics in 4 families (docs/drift.md)");
        details.put("permutations", c.permutations());
        return new Outcome(status, new DomainEvent.Evidence(TEST, best.statistic(), best.pValue(), n, c.alpha(), closest, details),
                best.statistic(), closest);
    }

    /**
     * The acquisition watch of a KNOWN domain: its most recent monitored series (a full window, one row per patient)
     * against its reference. Null when no test is due; otherwise DRIFT_CONFIRMED when p &lt; the watch's alpha, KNOWN
     * (nothing to report) when not.
     */
    public static Outcome watch(String domainId, List<DomainState.Entry> window, List<double[]> reference, long monitored, DriftConfig c) {
        if (DomainState.values(window).size() < c.watchWindow() || reference.size() < 2) return null;
        List<double[]> values = DomainState.perPatient(window);
        if (values.size() < c.minSeries() || ShrunkHotelling.smallestP(values.size(), reference.size()) >= c.watchAlpha()) return null;
        ShrunkHotelling.Result r = ShrunkHotelling.test(values, reference, ImageStatistics.DETECTOR_NAMES,
                c.watchPermutations(), seed(c.seed(), domainId, "watch", (int) monitored));
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("rule", "acquisition drift: the last " + c.watchWindow() + " monitored series (one row per patient) vs the domain's own"
                + " reference, tested every " + c.watchEvery() + " series, p < threshold");
        details.put("movedFeatures", evidence(r, c.watchAlpha()));
        details.put("families", families(r));
        details.put("seriesTested", window.stream().map(DomainState.Entry::seriesInstanceUid).toList());
        details.put("patientsTested", values.size());
        details.put("referenceSize", r.referenceSize());
        details.put("permutations", c.watchPermutations());
        DomainEvent.Status status = r.pValue() < c.watchAlpha() ? DomainEvent.Status.DRIFT_CONFIRMED : DomainEvent.Status.KNOWN;
        return new Outcome(status, new DomainEvent.Evidence(TEST, r.statistic(), r.pValue(), r.n(), c.watchAlpha(), domainId, details),
                r.statistic(), domainId);
    }

    /** The features that moved (marginal p below alpha, at least a few), readable: name, family, shift in reference SDs, values, p. */
    static List<Map<String, Object>> evidence(ShrunkHotelling.Result r, double alpha) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ShrunkHotelling.FeatureShift f : r.moved(alpha, EVIDENCE_FEATURES)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("feature", f.feature());
            m.put("family", f.family());
            m.put("shiftSd", round(f.shift()));
            m.put("seriesMean", round(f.seriesMean()));
            m.put("referenceMedian", round(f.referenceMedian()));
            m.put("pValue", f.pValue());
            out.add(m);
        }
        return out;
    }

    /** Per family: the largest absolute shift (reference SDs) and the smallest marginal p-value. */
    static Map<String, Object> families(ShrunkHotelling.Result r) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (ShrunkHotelling.FeatureShift f : r.features()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> fam = (Map<String, Object>) out.computeIfAbsent(f.family(), k -> new LinkedHashMap<>(Map.of("maxShiftSd", 0.0,
                    "minPValue", 1.0)));
            if (Math.abs(f.shift()) > Math.abs((double) fam.get("maxShiftSd"))) fam.put("maxShiftSd", round(f.shift()));
            if (f.pValue() < (double) fam.get("minPValue")) fam.put("minPValue", f.pValue());
        }
        return out;
    }

    /** The moved features in a few words for the event's reason, e.g. "fine1y -7.2 SD, flatSd +5.1 SD". */
    @SuppressWarnings("unchecked")
    static String summary(DomainEvent.Evidence e) {
        Object moved = e.details() == null ? null : e.details().get("movedFeatures");
        if (!(moved instanceof List<?> list) || list.isEmpty()) return "no single feature stands out";
        List<String> parts = new ArrayList<>();
        for (Object o : list.subList(0, Math.min(3, list.size()))) {
            Map<String, Object> f = (Map<String, Object>) o;
            parts.add(f.get("feature") + " " + signed(((Number) f.get("shiftSd")).doubleValue()));
        }
        return String.join(", ", parts);
    }

    private static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 1e4) / 1e4 : v;
    }

    private static String signed(double v) {
        return String.format(Locale.ROOT, "%+.1f SD", v);
    }

    /** Seeds differ per (domain, reference, n) but are fixed for each: a replay gives the same p-values. */
    static long seed(long base, String domainId, String referenceId, int n) {
        long h = base;
        for (char ch : (domainId + "|" + referenceId + "|" + n).toCharArray()) h = h * 1_000_003L + ch;
        return h;
    }
}
