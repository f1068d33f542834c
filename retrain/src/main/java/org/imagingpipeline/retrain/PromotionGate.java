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
 *       {@code tolerance}. An adapted model is domain-specific (DSBN): the inference service routes only its
 *       domain to it, and the source domain keeps the parent. So the check runs on the candidate's <em>source
 *       view</em> - its weights with the parent's batch-norm statistics - which answers "did adaptation damage
 *       what the network knows?" (entropy and adversarial change weights; AdaBN changes none, so its source view
 *       is the parent). The candidate as served, with the target's statistics, is measured on the source
 *       patients too and reported ({@code source_dice_as_served}), but a target-specific model is not expected to
 *       suit the source domain. Without a source view (an ONNX file from elsewhere) the candidate as served is
 *       checked.</li>
 *   <li>With expert target masks: their mean per-series Dice must rise by at least {@code minLabelledGain} (that
 *       alone decides the target side; a smaller rise on a few series is noise).</li>
 *   <li>Without: the label-free target proxies must improve, by either of two rules. Each proxy is "better", "no
 *       worse" or "worse": mean predictive entropy better when it falls by at least {@code minEntropyGain}
 *       (relative), worse when it rises by more than that; test-time-augmentation disagreement better when it falls
 *       by at least {@code ttaSlack}, worse when it rises by more; the share of series with a plausible predicted
 *       lesion volume (inside the central 95% of the source patients' lesion volumes) better when it rises, worse
 *       when it falls.
 *       <b>Rule A</b>: none worse and at least {@code minProxiesBetter} (default two; the command checks 1-3) better.
 *       (A collapsed model - "no lesion" anywhere - is certain and stable, so entropy and TTA call it better; its
 *       volumes are implausible. AdaBN does not minimise entropy, so requiring entropy itself to fall rejected real
 *       gains.)
 *       <b>Rule B</b>, strong agreement: TTA disagreement falls by at least {@code strongTtaFall} (relative), mean
 *       entropy rises by at most {@code strongMaxEntropyRise} (relative) and plausible volumes are not worse. Mean
 *       entropy over whole slices is dominated by lesion-boundary pixels: a model that finds lesions again that it had
 *       lost draws more boundary, so its mean entropy rises although it is right more often (on the shift suite's
 *       tuning half standardise gained +0.03 Dice on two contrast shifts with entropy +9-11% and TTA disagreement
 *       -39%, and rule A vetoed it). Thresholds chosen on the tuning half only:
 *       retrain/experiments/gate-margin-decision.md. {@code strongTtaFall >= 1} switches rule B off.</li>
 * </ol>
 */
public final class PromotionGate {

    /** Thresholds; see the class comment. */
    public record Config(double tolerance, double minEntropyGain, double ttaSlack, double minLabelledGain,
                         int minProxiesBetter, double strongTtaFall, double strongMaxEntropyRise) {
        public static Config defaults() {
            return new Config(0.02, 0.05, 0.01, 0.02, 2, 0.25, 0.20);
        }

        /** The same thresholds with rule B (strong agreement) switched off. */
        public Config withoutStrongAgreement() {
            return new Config(tolerance, minEntropyGain, ttaSlack, minLabelledGain, minProxiesBetter, 1.0, strongMaxEntropyRise);
        }
    }

    /** The decision and its evidence (the {@code gate} object of {@code ./pipeline adapt}). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"passed", "reasons", "source_check", "source_dice_before", "source_dice_after",
        "source_dice_tolerance", "source_dice_as_served",
        "target_entropy_before", "target_entropy_after", "tta_disagreement_before", "tta_disagreement_after",
        "volume_plausibility_before", "volume_plausibility_after", "labelled_target_dice_before",
        "labelled_target_dice_after", "labelled_target_series", "source_validation_patients", "target_series"})
    public record Decision(boolean passed, List<String> reasons,
                           @JsonProperty("source_check") String sourceCheck,
                           @JsonProperty("source_dice_before") double sourceDiceBefore,
                           @JsonProperty("source_dice_after") double sourceDiceAfter,
                           @JsonProperty("source_dice_tolerance") double sourceDiceTolerance,
                           @JsonProperty("source_dice_as_served") Double sourceDiceAsServed,
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
        return decide(parent, candidate, null, sourceValidation, sourcePatients, target, labels);
    }

    /**
     * @param candidateSourceView the candidate's weights with the parent's batch-norm statistics (see the class
     *                            comment), or null to check the candidate as served on the source patients
     */
    public Decision decide(Path parent, Path candidate, Path candidateSourceView,
                           List<SliceDataset.PatientRef> sourceValidation,
                           List<SliceDataset.PatientRef> sourcePatients, List<TargetImages.Series> target,
                           Path labels) throws java.io.IOException {
        double[] range = plausibleRange(sourcePatients);
        log.printf(Locale.ROOT, "gate: plausible lesion volume %.0f - %.0f voxels (256x256 grid; central 95%% of %d "
                + "source patients)%n", range[0], range[1], sourcePatients.size());
        Side before = measure("parent", parent, sourceValidation, target, labels, range);
        Side after = measure("candidate", candidate, sourceValidation, target, labels, range);
        if (candidateSourceView == null) {
            return judge(before, after, null, sourceValidation.size(), target.size());
        }
        double view = sourceDice("candidate's source view (its weights, the parent's batch-norm statistics)",
                candidateSourceView, sourceValidation);
        return judge(before, new Side(view, after.target(), after.plausibility()), after.sourceDice(),
                sourceValidation.size(), target.size());
    }

    /** One model's evidence. */
    record Side(double sourceDice, TargetProxies.Measures target, double plausibility) { }

    double sourceDice(String which, Path model, List<SliceDataset.PatientRef> sourceValidation) {
        try (OrtSegmenter seg = new OrtSegmenter(model, threads)) {
            long t0 = System.nanoTime();
            double dice = new DiceEvaluator(seg, 16, log).evaluate("source", sourceValidation,
                    Hashing.sha256Hex(model)).diceMean();
            log.printf(Locale.ROOT, "gate: %s: source Dice %.4f (%.0f s)%n", which, dice, (System.nanoTime() - t0) / 1e9);
            return dice;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    Side measure(String which, Path model, List<SliceDataset.PatientRef> sourceValidation,
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

    /** @param asServed the candidate's source Dice as served when {@code after} holds its source view's, else null */
    Decision judge(Side before, Side after, Double asServed, int sourcePatients, int targetSeries) {
        return judge(before, after, asServed, sourcePatients, targetSeries, asServed == null ? "as served" : "source view");
    }

    /** As above, with the name of the source check the evidence reports. */
    Decision judge(Side before, Side after, Double asServed, int sourcePatients, int targetSeries, String sourceCheck) {
        List<String> reasons = new ArrayList<>();
        boolean ok = check(reasons, after.sourceDice() >= before.sourceDice() - cfg.tolerance(),
                "source validation Dice %.4f -> %.4f %s(may fall by at most %.3f)", before.sourceDice(),
                after.sourceDice(), asServed == null ? "" : String.format(Locale.ROOT,
                        "with the candidate's weights and the parent's statistics; %.4f as served with the target's ",
                        asServed), cfg.tolerance());
        boolean labelled = after.target().labelledSeries() > 0;
        if (labelled) {
            ok &= check(reasons, after.target().labelledDice() >= before.target().labelledDice() + cfg.minLabelledGain(),
                    "labelled target Dice %.4f -> %.4f on %d series (must rise by at least %.3f; it decides over the proxies)",
                    before.target().labelledDice(), after.target().labelledDice(), after.target().labelledSeries(),
                    cfg.minLabelledGain());
        } else {
            double eb = before.target().meanEntropy();
            double ea = after.target().meanEntropy();
            int entropy = ea <= eb * (1 - cfg.minEntropyGain()) ? 1 : ea > eb * (1 + cfg.minEntropyGain()) ? -1 : 0;
            double tb = before.target().ttaDisagreement();
            double ta = after.target().ttaDisagreement();
            int tta = ta <= tb - cfg.ttaSlack() ? 1 : ta > tb + cfg.ttaSlack() ? -1 : 0;
            int volume = Double.compare(after.plausibility(), before.plausibility());
            reasons.add(String.format(Locale.ROOT, "%s: target mean entropy %.5f -> %.5f (%+.1f%%): %s (better: falls by >= %.0f%%; "
                    + "worse: rises by more)", entropy >= 0 ? "pass" : "fail", eb, ea, relative(eb, ea), word(entropy),
                    cfg.minEntropyGain() * 100));
            reasons.add(String.format(Locale.ROOT, "%s: test-time-augmentation disagreement %.4f -> %.4f (%+.1f%%): %s "
                    + "(better/worse: moves by more than %.3f)", tta >= 0 ? "pass" : "fail", tb, ta, relative(tb, ta),
                    word(tta), cfg.ttaSlack()));
            reasons.add(String.format(Locale.ROOT, "%s: share of plausible lesion volumes %.3f -> %.3f: %s",
                    volume >= 0 ? "pass" : "fail", before.plausibility(), after.plausibility(), word(volume)));
            int better = (entropy > 0 ? 1 : 0) + (tta > 0 ? 1 : 0) + (volume > 0 ? 1 : 0);
            boolean ruleA = entropy >= 0 && tta >= 0 && volume >= 0 && better >= cfg.minProxiesBetter();
            reasons.add(String.format(Locale.ROOT, "%s: rule A: %d of the 3 target proxies better (needs %d, none worse)",
                    ruleA ? "pass" : "fail", better, cfg.minProxiesBetter()));
            boolean ruleB = false;
            if (cfg.strongTtaFall() < 1) {
                ruleB = volume >= 0 && ta <= tb * (1 - cfg.strongTtaFall()) && ea <= eb * (1 + cfg.strongMaxEntropyRise());
                reasons.add(String.format(Locale.ROOT, "%s: rule B (strong agreement): TTA disagreement %+.1f%% (needs <= -%.0f%%), "
                        + "mean entropy %+.1f%% (at most +%.0f%%), plausible volumes %s (must not be worse)",
                        ruleB ? "pass" : "fail", relative(tb, ta), cfg.strongTtaFall() * 100, relative(eb, ea),
                        cfg.strongMaxEntropyRise() * 100, word(volume)));
            }
            ok &= check(reasons, ruleA || ruleB, "target side: %s", ruleA && ruleB ? "rules A and B pass"
                    : ruleA ? "rule A passes" : ruleB ? "rule B passes" : "neither rule A nor rule B passes");
        }
        return new Decision(ok, reasons, sourceCheck,
                r(before.sourceDice()), r(after.sourceDice()), cfg.tolerance(), asServed == null ? null : r(asServed),
                r6(before.target().meanEntropy()), r6(after.target().meanEntropy()),
                r(before.target().ttaDisagreement()), r(after.target().ttaDisagreement()),
                r(before.plausibility()), r(after.plausibility()),
                labelled ? r(before.target().labelledDice()) : null, labelled ? r(after.target().labelledDice()) : null,
                labelled ? after.target().labelledSeries() : null, sourcePatients, targetSeries);
    }

    /** Relative change in percent (0 when both are 0). */
    private static double relative(double before, double after) {
        return before == 0 ? (after == 0 ? 0 : Double.POSITIVE_INFINITY) : (after / before - 1) * 100;
    }

    private static String word(int direction) {
        return direction > 0 ? "better" : direction < 0 ? "worse" : "no worse";
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
