package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code ./pipeline adapt --model M.onnx --data DIR --sites S[,S] --method auto|adabn|normaliser|entropy|adversarial|finetune
 * --out NEW.onnx [--source-data DIR --source-sites S] [--target-labels DIR] ...}: the command-line face of
 * {@link AdaptationJob} (adaptation of an exported model to a target domain from its images - target masks are never
 * read by the adaptation: {@link TargetImages} cannot list them - export with a card, and the promotion gate).
 * Progress on stderr; the last stdout line is one JSON object. Exit 0 on success (also when the gate says no), 2 bad
 * input, 1 failure.
 */
public final class AdaptCommand {

    static final String USAGE = """
            usage: adapt --model M.onnx --data DIR --sites S[,S] --method M --out NEW.onnx
                         [--source-data DIR --source-sites S] [--target-labels DIR] [options]
              --method M          auto (the candidates below, each judged by the gate; the best that passes is
                                  written to --out, nothing when none passes), or one of: adabn, normaliser,
                                  entropy, adversarial, finetune
              --candidates L      auto's candidates (default adabn,normaliser,finetune; finetune only runs with
                                  corrected masks of >= 2 series)
              --data DIR          target images: DIR/SITE/SERIES/*.png (8- or 16-bit grey; *_mask* files are
                                  never read) or kaggle_3m TIFF
              --source-data DIR   labelled source data (lgg-flair layout): needed by auto, normaliser, finetune,
                                  adversarial and the gate; the parent's card (M.card.json) names the source
                                  validation patients
              --source-sites S    source sites (default: the parent card's training sites)
              --target-labels DIR a radiologist's corrected target masks (DIR/SITE/SERIES/NAME_mask.png): the gate
                                  judges on them (finetune also trains on them, judged leave-series-out)
              --max-steps N       optimisation steps (entropy and finetune 100, normaliser 150, adversarial 200)
              --max-minutes X     wall-clock cap for each optimisation (default 10; 0 = none)
              --batch N           slices per step (default 8; AdaBN and the normaliser use 16)
              --lr X              learning rate (default 0.001; adversarial 0.0001)
              --tolerance X       gate: allowed loss of source validation Dice (default 0.02)
              --min-entropy-gain X gate: relative entropy change that counts as better/worse (default 0.05)
              --min-labelled-gain X gate: required rise of the labelled target Dice (default 0.02)
              --min-proxies-better N gate without labels: how many of the 3 proxies must be better, none worse
                                  (default 2; docs/results.md replays 1 on the shift suite's tuning half)
              --bn-scope S        batch norms AdaBN re-estimates: levels:N (the first N encoder levels; default
                                  levels:2), encoder (encoder + bottleneck) or all
              --bn-weight W       weight of the target statistics against the parent's (default 1 = pure AdaBN)
              --bn-reference R    source (default with --source-data): move the parent's statistics by the
                                  target-minus-source difference measured the same way on source training slices;
                                  none: replace them with the target's (plain AdaBN)
              --align-levels N    normaliser: encoder levels whose batch-norm inputs are aligned (default 2)
              --bn-pixels P       all or foreground: which pixels the batch-norm statistics of AdaBN and of the
                                  normaliser's alignment count (foreground: the anatomy, not the air around it)
              --no-gate           skip the gate even with --source-data ("gate": null; for experiments)
              --keep-candidates   auto: keep every candidate as NEW.candidate-METHOD.onnx
              --seed N            sampling seed (default 42)
              --patients N        only the first N series (sorted) of each target site
              --threads N         PyTorch / ONNX Runtime threads (default: all cores)
              --djl-cache DIR     DJL native-library cache (default target/djl-cache)
            """;

    public static final List<String> METHODS = AdaptationJob.METHODS;

    private static final Set<String> VALUES = Set.of("--model", "--data", "--sites", "--method", "--out",
            "--source-data", "--source-sites", "--target-labels", "--max-steps", "--max-minutes", "--batch", "--lr",
            "--tolerance", "--min-entropy-gain", "--min-labelled-gain", "--min-proxies-better", "--seed", "--bn-scope", "--bn-weight",
            "--bn-reference", "--patients", "--threads", "--djl-cache", "--candidates", "--align-levels", "--bn-pixels");
    private static final Set<String> FLAGS = Set.of("--help", "--no-gate", "--keep-candidates");

    private AdaptCommand() {
    }

    private static boolean pixels(String p) {
        return switch (p) {
            case "all" -> false;
            case "foreground" -> true;
            default -> throw new DataException("--bn-pixels must be all or foreground, got '" + p + "'");
        };
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] argv, PrintStream out, PrintStream err) {
        try {
            Args a = new Args(argv, VALUES, FLAGS);
            if (a.flag("--help")) {
                err.print(USAGE);
                return 0;
            }
            AdaptationJob.Settings d = AdaptationJob.Settings.defaults();
            PromotionGate.Config g = PromotionGate.Config.defaults();
            int minProxiesBetter = a.intValue("--min-proxies-better", g.minProxiesBetter());
            if (minProxiesBetter < 1 || minProxiesBetter > 3) {
                throw new DataException("--min-proxies-better must be 1, 2 or 3, got " + minProxiesBetter);
            }
            AdaptationJob.Settings settings = new AdaptationJob.Settings(
                    a.intValue("--threads", d.threads()), a.intValue("--batch", d.batch()), a.intValue("--seed", (int) d.seed()),
                    a.doubleValue("--max-minutes", d.maxMinutes()),
                    a.get("--max-steps", null) == null ? null : a.intValue("--max-steps", 0),
                    a.get("--lr", null) == null ? null : (float) a.doubleValue("--lr", 0),
                    AdaBn.Scope.parse(a.get("--bn-scope", d.scope().name())), a.doubleValue("--bn-weight", d.bnWeight()),
                    a.get("--bn-reference", null), a.intValue("--align-levels", d.alignLevels()),
                    new PromotionGate.Config(a.doubleValue("--tolerance", g.tolerance()),
                            a.doubleValue("--min-entropy-gain", g.minEntropyGain()), g.ttaSlack(),
                            a.doubleValue("--min-labelled-gain", g.minLabelledGain()),
                            minProxiesBetter),
                    a.flag("--no-gate"), a.intValue("--patients", 0),
                    a.get("--candidates", null) == null ? d.candidates() : a.list("--candidates"),
                    a.flag("--keep-candidates"), Path.of(a.get("--djl-cache", d.djlCache().toString())),
                    pixels(a.get("--bn-pixels", d.foreground() ? "foreground" : "all")));
            AdaptationJob.Request request = new AdaptationJob.Request(Path.of(a.required("--model")),
                    Path.of(a.required("--data")), a.list("--sites"), a.required("--method"), Path.of(a.required("--out")),
                    a.get("--source-data", null) == null ? null : Path.of(a.get("--source-data", null)),
                    a.get("--source-sites", null) == null ? null : a.list("--source-sites"),
                    a.get("--target-labels", null) == null ? null : Path.of(a.get("--target-labels", null)), settings);
            AdaptationJob.Result result = AdaptationJob.run(request, err);
            out.println(new ObjectMapper().writeValueAsString(result.summary()));
            return 0;
        } catch (DataException e) {
            err.println("adapt: error: " + e.getMessage());
            return 2;
        } catch (Exception | LinkageError e) {
            err.println("adapt: failed: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }
}
