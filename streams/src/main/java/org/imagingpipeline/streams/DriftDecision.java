package org.imagingpipeline.streams;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.imagingpipeline.events.DomainEvent;

/**
 * The decision rule for a CANDIDATE domain, given its series' image statistics and every KNOWN domain's reference:
 * <ul>
 * <li>fewer than {@link DriftConfig#minSeries()} series, or no KNOWN domain: no test, it stays CANDIDATE;</li>
 * <li>kernel MMD permutation test against each KNOWN domain; p &lt; alpha against every one: DRIFT_CONFIRMED;</li>
 * <li>otherwise, once it has {@link DriftConfig#maxSeries()} series: ALIAS of the KNOWN domain with the largest
 *     p-value (its images are not distinguishable from that domain's with this many series);</li>
 * <li>otherwise it stays CANDIDATE and is tested again with its next series.</li>
 * </ul>
 * The evidence names the KNOWN domain with the largest p-value (for DRIFT_CONFIRMED that is the weakest rejection,
 * the one that decided; for ALIAS the match); {@code details} has every KNOWN domain's statistic and p-value.
 * {@code driftScore} is the MMD^2 against that closest KNOWN domain.
 */
public final class DriftDecision {
    public static final String TEST = "kernel-mmd-permutation";

    private DriftDecision() {
    }

    /** A test outcome: the status it leads to (CANDIDATE = undecided), the evidence and the closest KNOWN domain. */
    public record Outcome(DomainEvent.Status status, DomainEvent.Evidence evidence, double driftScore, String closest) {
    }

    /** Null when no test is due (too few series or no KNOWN domain). */
    public static Outcome decide(String domainId, List<double[]> series, Map<String, List<double[]>> known, DriftConfig c) {
        int n = series.size();
        if (n < c.minSeries() || known.isEmpty()) return null;
        Map<String, Object> perDomain = new LinkedHashMap<>();
        String closest = null;
        KernelMmd.Result best = null;
        for (Map.Entry<String, List<double[]>> k : known.entrySet()) {
            if (k.getValue().size() < 2) continue;
            KernelMmd.Result r = KernelMmd.test(series, k.getValue(), c.permutations(), seed(c.seed(), domainId, k.getKey(), n));
            perDomain.put(k.getKey(), Map.of("statistic", r.statistic(), "pValue", r.pValue(), "referenceSize", r.referenceSize(),
                    "bandwidth", r.bandwidth()));
            if (best == null || r.pValue() > best.pValue() || (r.pValue() == best.pValue() && r.statistic() < best.statistic())) {
                best = r;
                closest = k.getKey();
            }
        }
        if (best == null) return null;
        DomainEvent.Status status = best.pValue() < c.alpha() ? DomainEvent.Status.DRIFT_CONFIRMED
                : n >= c.maxSeries() ? DomainEvent.Status.ALIAS : DomainEvent.Status.CANDIDATE;
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("rule", "DRIFT_CONFIRMED if p < threshold against every KNOWN domain after >= " + c.minSeries()
                + " series; ALIAS of the best-matching KNOWN domain after " + c.maxSeries() + " series otherwise");
        details.put("features", ImageStatistics.DETECTOR_NAMES);
        details.put("permutations", c.permutations());
        details.put("perKnownDomain", perDomain);
        return new Outcome(status, new DomainEvent.Evidence(TEST, best.statistic(), best.pValue(), n, c.alpha(), closest, details),
                best.statistic(), closest);
    }

    /**
     * The intensity-drift watch of a KNOWN domain: its most recent monitored series (a full window) against its
     * reference. DRIFT_CONFIRMED when p &lt; the watch's alpha, else null (nothing to report).
     */
    public static Outcome watch(String domainId, List<double[]> window, List<double[]> reference, long monitored, DriftConfig c) {
        if (window.size() < c.watchWindow() || reference.size() < 2) return null;
        KernelMmd.Result r = KernelMmd.test(window, reference, c.watchPermutations(), seed(c.seed(), domainId, "watch", (int) monitored));
        if (r.pValue() >= c.watchAlpha()) return null;
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("rule", "intensity drift: the last " + c.watchWindow() + " monitored series vs the domain's own reference, tested every "
                + c.watchEvery() + " series, p < threshold");
        details.put("features", ImageStatistics.DETECTOR_NAMES);
        details.put("permutations", c.watchPermutations());
        details.put("referenceSize", r.referenceSize());
        details.put("bandwidth", r.bandwidth());
        return new Outcome(DomainEvent.Status.DRIFT_CONFIRMED,
                new DomainEvent.Evidence(TEST, r.statistic(), r.pValue(), r.n(), c.watchAlpha(), domainId, details), r.statistic(), domainId);
    }

    /** Seeds differ per (domain, reference, n) but are fixed for each: a replay gives the same p-values. */
    static long seed(long base, String domainId, String referenceId, int n) {
        long h = base;
        for (char ch : (domainId + "|" + referenceId + "|" + n).toCharArray()) h = h * 1_000_003L + ch;
        return h;
    }
}
