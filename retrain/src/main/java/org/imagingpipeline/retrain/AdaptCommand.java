package org.imagingpipeline.retrain;

import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code ./pipeline adapt --model M.onnx --data DIR --sites S[,S] --method auto|adabn|normaliser|standardise|entropy|
 * adversarial|finetune --out NEW.onnx [--source-data DIR --source-sites S] [--target-labels DIR] ...}: the command-line face of
 * {@link AdaptationJob} (adaptation of an exported model to a target domain from its images - target masks are never
 * read by the adaptation: {@link TargetImages} cannot list them - export with a card, and the promotion gate).
 * Progress on stderr; the last stdout line is one JSON object. Exit 0 on success (also when the gate says no), 2 bad
 * input, 1 failure.
 */
@Command(name = "adapt", sortOptions = false, usageHelpAutoWidth = true,
        customSynopsis = {"adapt --model M.onnx --data DIR --sites S[,S] --method M --out NEW.onnx",
                "      [--source-data DIR --source-sites S] [--target-labels DIR] [options]"},
        description = {"Unsupervised adaptation of an exported model to a target domain from its images (target masks are"
                + " never read), export with a model card (lineage), and the promotion gate when the source data is given.",
                "Progress on stderr; the last stdout line is one JSON object. Exit 0 on success (also when the gate says"
                        + " no), 2 bad input, 1 failure."})
public final class AdaptCommand {

    public static final List<String> METHODS = AdaptationJob.METHODS;

    private static final AdaptationJob.Settings D = AdaptationJob.Settings.defaults();
    private static final PromotionGate.Config G = PromotionGate.Config.defaults();

    @Option(names = "--model", paramLabel = "M.onnx",
            description = "the parent model; its card (M.card.json) names the source validation patients")
    String model;

    @Option(names = "--data", paramLabel = "DIR", description = "target images: DIR/SITE/SERIES/*.png (8-"
            + " or 16-bit grey; *_mask* files are never read) or kaggle_3m TIFF")
    String data;

    @Option(names = "--sites", paramLabel = "S[,S]", description = "the target sites (domains)")
    String sites;

    @Option(names = "--method", paramLabel = "M", description = "auto (the candidates below, each judged by"
            + " the gate; the best that passes is written to --out, nothing when none passes), or one of: adabn,"
            + " normaliser, standardise, entropy, adversarial, finetune")
    String method;

    @Option(names = "--out", paramLabel = "NEW.onnx", description = "the adapted model; its card goes beside it")
    String outFile;

    @Option(names = "--candidates", paramLabel = "L", description = "auto's candidates (default: adabn,normaliser,standardise,finetune;"
            + " finetune only runs with corrected masks of >= 2 series)")
    String candidates;

    @Option(names = "--source-data", paramLabel = "DIR", description = "labelled source data (lgg-flair layout): needed by"
            + " auto, normaliser, standardise, finetune, adversarial and the gate; the parent's card (M.card.json) names the source"
            + " validation patients")
    String sourceData;

    @Option(names = "--source-sites", paramLabel = "S", description = "source sites (default: the parent card's training sites)")
    String sourceSites;

    @Option(names = "--target-labels", paramLabel = "DIR", description = "a radiologist's corrected target masks"
            + " (DIR/SITE/SERIES/NAME_mask.png): the gate judges on them (finetune also trains on them, judged"
            + " leave-series-out)")
    String targetLabels;

    @Option(names = "--max-steps", paramLabel = "N",
            description = "optimisation steps (default: entropy and finetune 100, normaliser 150, adversarial 200)")
    Integer maxSteps;

    @Option(names = "--max-minutes", paramLabel = "X",
            description = "wall-clock cap for each optimisation (default: ${DEFAULT-VALUE}; 0 = none)")
    double maxMinutes = D.maxMinutes();

    @Option(names = "--batch", paramLabel = "N",
            description = "slices per step (default: ${DEFAULT-VALUE}; AdaBN and the normaliser use 16)")
    int batch = D.batch();

    @Option(names = "--lr", paramLabel = "X", description = "learning rate (default: 0.001; adversarial 0.0001)")
    Double lr;

    @Option(names = "--tolerance", paramLabel = "X",
            description = "gate: allowed loss of source validation Dice (default: ${DEFAULT-VALUE})")
    double tolerance = G.tolerance();

    @Option(names = "--min-entropy-gain", paramLabel = "X",
            description = "gate: relative entropy change that counts as better/worse (default: ${DEFAULT-VALUE})")
    double minEntropyGain = G.minEntropyGain();

    @Option(names = "--min-labelled-gain", paramLabel = "X",
            description = "gate: required rise of the labelled target Dice (default: ${DEFAULT-VALUE})")
    double minLabelledGain = G.minLabelledGain();

    @Option(names = "--min-proxies-better", paramLabel = "N", description = "gate without labels: how many of the 3 proxies"
            + " must be better, none worse (default: ${DEFAULT-VALUE}; docs/results.md replays 1 on the shift suite's"
            + " tuning half)")
    int minProxiesBetter = G.minProxiesBetter();

    @Option(names = "--strong-tta-fall", paramLabel = "X", description = "gate without labels, rule B: relative fall of"
            + " the TTA disagreement that promotes despite a small entropy rise (default: ${DEFAULT-VALUE}; 1 switches"
            + " rule B off; retrain/experiments/gate-margin-decision.md)")
    double strongTtaFall = G.strongTtaFall();

    @Option(names = "--strong-max-entropy-rise", paramLabel = "X", description = "gate without labels, rule B: the"
            + " largest relative rise of the mean entropy it accepts (default: ${DEFAULT-VALUE})")
    double strongMaxEntropyRise = G.strongMaxEntropyRise();

    @Option(names = "--bn-scope", paramLabel = "S", description = "batch norms AdaBN re-estimates: levels:N (the first N"
            + " encoder levels; default: ${DEFAULT-VALUE}), encoder (encoder + bottleneck) or all")
    String bnScope = D.scope().name();

    @Option(names = "--bn-weight", paramLabel = "W", description = "weight of the target statistics against the parent's"
            + " (default: ${DEFAULT-VALUE} = pure AdaBN)")
    double bnWeight = D.bnWeight();

    @Option(names = "--bn-reference", paramLabel = "R", description = "source (default with --source-data): move the"
            + " parent's statistics by the target-minus-source difference measured the same way on source training"
            + " slices; none: replace them with the target's (plain AdaBN)")
    String bnReference;

    @Option(names = "--align-levels", paramLabel = "N",
            description = "normaliser: encoder levels whose batch-norm inputs are aligned (default: ${DEFAULT-VALUE})")
    int alignLevels = D.alignLevels();

    @Option(names = "--bn-pixels", paramLabel = "P", description = "all (default) or foreground: which pixels the"
            + " batch-norm statistics of AdaBN and of the normaliser's alignment count (foreground: the anatomy, not the"
            + " air around it)")
    String bnPixels = D.foreground() ? "foreground" : "all";

    @Option(names = "--no-gate", description = "skip the gate even with --source-data (\"gate\": null; for experiments)")
    boolean noGate;

    @Option(names = "--keep-candidates", description = "auto: keep every candidate as NEW.candidate-METHOD.onnx")
    boolean keepCandidates;

    @Option(names = "--seed", paramLabel = "N", description = "sampling seed (default: ${DEFAULT-VALUE})")
    int seed = (int) D.seed();

    @Option(names = "--patients", paramLabel = "N", description = "only the first N series (sorted) of each target site")
    int patients;

    @Option(names = "--threads", paramLabel = "N", description = "PyTorch / ONNX Runtime threads (default: all cores)")
    int threads = D.threads();

    @Mixin
    Cli.DjlOptions djl;

    @Mixin
    Cli.Help help;

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
        AdaptCommand c = new AdaptCommand();
        return Cli.run("adapt", c, argv, out, err, () -> c.adapt(out, err));
    }

    private int adapt(PrintStream out, PrintStream err) throws Exception {
        if (minProxiesBetter < 1 || minProxiesBetter > 3) {
            throw new DataException("--min-proxies-better must be 1, 2 or 3, got " + minProxiesBetter);
        }
        if (!(strongTtaFall > 0) || !(strongMaxEntropyRise >= 0)) {
            throw new DataException("--strong-tta-fall must be > 0 and --strong-max-entropy-rise >= 0");
        }
        AdaptationJob.Settings settings = new AdaptationJob.Settings(threads, batch, seed, maxMinutes, maxSteps,
                lr == null ? null : (float) (double) lr, AdaBn.Scope.parse(bnScope), bnWeight, bnReference, alignLevels,
                new PromotionGate.Config(tolerance, minEntropyGain, G.ttaSlack(), minLabelledGain, minProxiesBetter,
                        strongTtaFall, strongMaxEntropyRise),
                noGate, patients, candidates == null ? D.candidates() : Cli.list(candidates, "--candidates"),
                keepCandidates, djl.cache(), pixels(bnPixels));
        AdaptationJob.Request request = new AdaptationJob.Request(Path.of(Cli.required(model, "--model")),
                Path.of(Cli.required(data, "--data")), Cli.list(sites, "--sites"), Cli.required(method, "--method"),
                Path.of(Cli.required(outFile, "--out")), sourceData == null ? null : Path.of(sourceData),
                sourceSites == null ? null : Cli.list(sourceSites, "--source-sites"),
                targetLabels == null ? null : Path.of(targetLabels), settings);
        AdaptationJob.Result result = AdaptationJob.run(request, err, djl.progress());
        out.println(new ObjectMapper().writeValueAsString(result.summary()));
        return 0;
    }
}
