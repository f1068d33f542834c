package org.imagingpipeline.retrain;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Decides whether an adapted model may replace its parent for a target domain, with evidence.
 * <ol>
 *   <li>Source safety: per-patient Dice on the parent's source validation patients must not fall by more than
 *       {@code tolerance}.</li>
 *   <li>With expert target masks: their mean per-series Dice must rise (that alone decides the target side).</li>
 *   <li>Without: the label-free target proxies must improve: mean predictive entropy falls by at least
 *       {@code minEntropyGain} (relative), test-time-augmentation disagreement does not rise by more than
 *       {@code ttaSlack}, and the share of series with a plausible predicted lesion volume (inside the central
 *       95% of the source patients' lesion volumes) does not fall.</li>
 * </ol>
 */
public final class PromotionGate {

    /** Thresholds; see the class comment. */
    public record Config(double tolerance, double minEntropyGain, double ttaSlack) {
        public static Config defaults() {
            return new Config(0.02, 0.05, 0.01);
        }
    }

    /** The decision and its evidence (the {@code gate} object of {@code ./pipeline adapt}). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"passed", "reasons", "source_dice_before", "source_dice_after", "source_dice_tolerance",
        "target_entropy_before", "target_entropy_after", "tta_disagreement_before", "tta_disagreement_after",
        "volume_plausibility_before", "volume_plausibility_after", "labelled_target_dice_before",
        "labelled_target_dice_after", "labelled_target_series", "source_validation_patients", "target_series"})
    public record Decision(boolean passed, List<String> reasons,
                           @JsonProperty("source_dice_before") double sourceDiceBefore,
                           @JsonProperty("source_dice_after") double sourceDiceAfter,
                           @JsonProperty("source_dice_tolerance") double sourceDiceTolerance,
                           @JsonProperty("target_entropy_before") double targetEntropyBefore,
                           @JsonProperty("target_entropy_after") double targetEntropyAfter,
                           @JsonProperty("tta_disagreement_before") double ttaDisagreementBefore,
                           @JsonProperty("tta_disagreement_after") double ttaDisagreementAfter,
                           @JsonProperty("volume_plausibility_before") double volumePlausibilityBefore,
                           @JsonProperty("volume_plausibility_after") double volumePlausibilityAfter,
                           @JsonProperty("labelled_target_dice_before") Double labelledTargetDiceBefore,
                           @JsonProperty("labelled_target_dice_after") Double labelledTargetDiceAfter,
                           @JsonProperty("labelled_target_series") Integer labelledTargetSeries,
                           @JsonProperty("source_validation_patients") int sourceValidationPatients,
                           @JsonProperty("target_series") int targetSeries) { }

    private final Config cfg;
    private final int threads;
    private final PrintStream log;

    public PromotionGate(Config cfg, int threads, PrintStream log) {
        this.cfg = cfg;
        this.threads = threads;
        this.log = log;
    }

    /**
     * @param sourceValidation the parent's source validation patients (labelled)
     * @param sourcePatients   source patients whose lesion volumes define what is plausible
     * @param labels           expert target masks folder, or null
     */
    public Decision decide(Path parent, Path candidate, List<SliceDataset.PatientRef> sourceValidation,
                           List<SliceDataset.PatientRef> sourcePatients, List<TargetImages.Series> target,
                           Path labels) throws java.io.IOException {
        double[] range = plausibleRange(sourcePatients);
        log.printf(Locale.ROOT, "gate: plausible lesion volume %.0f - %.0f voxels (256x256 grid; central 95%% of %d "
                + "source patients)%n", range[0], range[1], sourcePatients.size());
        Side before = measure("parent", parent, sourceValidation, target, labels, range);
        Side after = measure("candidate", candidate, sourceValidation, target, labels, range);
        return judge(before, after, sourceValidation.size(), target.size());
    }

    /** One model's evidence. */
    record Side(double sourceDice, TargetProxies.Measures target, double plausibility) { }

    private Side measure(String which, Path model, List<SliceDataset.PatientRef> sourceValidation,
                         List<TargetImages.Series> target, Path labels, double[] range) throws java.io.IOException {
        try (OrtSegmenter seg = new OrtSegmenter(model, threads)) {
            long t0 = System.nanoTime();
            double source = new DiceEvaluator(seg, 16, log).evaluate("source", sourceValidation,
                    Hashing.sha256Hex(model)).diceMean();
            TargetProxies.Measures m = TargetProxies.measure(seg, target, 16, labels);
            double plausible = m.volumes().stream().filter(v -> v >= range[0] && v <= range[1]).count()
                    / (double) m.volumes().size();
            log.printf(Locale.ROOT, "gate: %s: source Dice %.4f, target entropy %.5f, TTA disagreement %.4f, "
                    + "plausible volumes %.2f%s (%.0f s)%n", which, source, m.meanEntropy(), m.ttaDisagreement(),
                    plausible, m.labelledSeries() > 0 ? String.format(Locale.ROOT, ", labelled target Dice %.4f",
                            m.labelledDice()) : "", (System.nanoTime() - t0) / 1e9);
            return new Side(source, m, plausible);
        }
    }

    Decision judge(Side before, Side after, int sourcePatients, int targetSeries) {
        List<String> reasons = new ArrayList<>();
        boolean ok = check(reasons, after.sourceDice() >= before.sourceDice() - cfg.tolerance(),
                "source validation Dice %.4f -> %.4f (may fall by at most %.3f)", before.sourceDice(),
                after.sourceDice(), cfg.tolerance());
        boolean labelled = after.target().labelledSeries() > 0;
        if (labelled) {
            ok &= check(reasons, after.target().labelledDice() > before.target().labelledDice(),
                    "labelled target Dice %.4f -> %.4f on %d series (must rise; it decides over the proxies)",
                    before.target().labelledDice(), after.target().labelledDice(), after.target().labelledSeries());
        } else {
            double eb = before.target().meanEntropy();
            double ea = after.target().meanEntropy();
            ok &= check(reasons, ea <= eb * (1 - cfg.minEntropyGain()),
                    "target mean entropy %.5f -> %.5f (must fall by at least %.0f%%)", eb, ea, cfg.minEntropyGain() * 100);
            ok &= check(reasons, after.target().ttaDisagreement() <= before.target().ttaDisagreement() + cfg.ttaSlack(),
                    "test-time-augmentation disagreement %.4f -> %.4f (may rise by at most %.3f)",
                    before.target().ttaDisagreement(), after.target().ttaDisagreement(), cfg.ttaSlack());
            ok &= check(reasons, after.plausibility() >= before.plausibility(),
                    "share of plausible lesion volumes %.3f -> %.3f (must not fall)", before.plausibility(),
                    after.plausibility());
        }
        return new Decision(ok, reasons, r(before.sourceDice()), r(after.sourceDice()), cfg.tolerance(),
                r6(before.target().meanEntropy()), r6(after.target().meanEntropy()),
                r(before.target().ttaDisagreement()), r(after.target().ttaDisagreement()),
                r(before.plausibility()), r(after.plausibility()),
                labelled ? r(before.target().labelledDice()) : null, labelled ? r(after.target().labelledDice()) : null,
                labelled ? after.target().labelledSeries() : null, sourcePatients, targetSeries);
    }

    private static boolean check(List<String> reasons, boolean ok, String format, Object... args) {
        reasons.add((ok ? "pass: " : "fail: ") + String.format(Locale.ROOT, format, args));
        return ok;
    }

    /** Central 95% of the source patients' lesion volumes (256x256-grid voxels). */
    static double[] plausibleRange(List<SliceDataset.PatientRef> sourcePatients) {
        if (sourcePatients.isEmpty()) {
            throw new DataException("no source patients to learn plausible lesion volumes from");
        }
        double[] v = new double[sourcePatients.size()];
        for (int i = 0; i < v.length; i++) {
            SliceDataset.Volume vol = SliceDataset.load(sourcePatients.get(i));
            v[i] = vol.lesionVoxels() * (256.0 * 256.0) / ((double) vol.width() * vol.height());
        }
        Arrays.sort(v);
        return new double[] {quantile(v, 0.025), quantile(v, 0.975)};
    }

    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    private static double r(double v) {
        return DiceEvaluator.round(v);
    }

    private static double r6(double v) {
        return Double.isFinite(v) ? Math.round(v * 1e6) / 1e6 : v;
    }
}
