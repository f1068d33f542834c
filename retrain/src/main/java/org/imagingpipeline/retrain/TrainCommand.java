package org.imagingpipeline.retrain;

import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code ./pipeline train --data DIR --sites S[,S] --out MODEL.onnx [options]}: patient split, DJL training,
 * ONNX export, validation through ONNX Runtime, model card. Last stdout line: a JSON summary.
 */
@Command(name = "train", sortOptions = false, usageHelpAutoWidth = true,
        customSynopsis = "train --data DIR --sites S[,S] --out MODEL.onnx [options]",
        description = {"Supervised training of the source model: per-site patient split, DJL U-Net training with early"
                + " stopping, ONNX export (opset 17, normalisation inside the graph), validation through ONNX Runtime and a"
                + " model card beside the model (MODEL.card.json).",
                "Logs and progress on stderr; the last stdout line is one JSON object. Exit 0 ok, 2 bad input, 1 failure."})
public final class TrainCommand {

    private static final TrainConfig D = TrainConfig.defaults();

    @Option(names = "--data", paramLabel = "DIR",
            description = "lgg-flair PNG layout (DIR/SITE/PATIENT/*.png with *_mask.png) or kaggle_3m TIFF")
    String data;

    @Option(names = "--sites", paramLabel = "S[,S]", description = "the sites whose patients train the model")
    String sites;

    @Option(names = "--out", paramLabel = "MODEL.onnx",
            description = "the model to write; its card goes beside it (MODEL.card.json)")
    String outFile;

    @Option(names = "--size", paramLabel = "N",
            description = "input size, 128 or 256 (a multiple of 2^depth; default: ${DEFAULT-VALUE})")
    int size = D.size();

    @Option(names = "--epochs", paramLabel = "N", description = "maximum epochs (default: ${DEFAULT-VALUE})")
    int epochs = D.epochs();

    @Option(names = "--batch", paramLabel = "N", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch = D.batch();

    @Option(names = "--lr", paramLabel = "X", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
    double lr = Double.parseDouble(Float.toString(D.learningRate()));

    @Option(names = "--max-minutes", paramLabel = "X",
            description = "stop training after X minutes (default: ${DEFAULT-VALUE}; 0 = no limit)")
    double maxMinutes = D.maxMinutes();

    @Option(names = "--max-steps", paramLabel = "N", description = "stop after N optimiser steps (default: 0 = no cap)")
    int maxSteps;

    @Option(names = "--steps-per-epoch", paramLabel = "N", description = "default: one pass over the training slices")
    int stepsPerEpoch;

    @Option(names = "--patience", paramLabel = "N",
            description = "early stopping: epochs without better validation Dice (default: ${DEFAULT-VALUE}; 0 = off)")
    int patience = D.patience();

    @Option(names = "--val-fraction", paramLabel = "X",
            description = "share of patients held out for validation (default: ${DEFAULT-VALUE})")
    double valFraction = D.valFraction();

    @Option(names = "--seed", paramLabel = "N",
            description = "weight initialisation, shuffling and augmentation seed (default: ${DEFAULT-VALUE})")
    int seed = (int) D.seed();

    @Option(names = "--split-seed", paramLabel = "N", description = "seed of the per-site patient split (default: --seed);"
            + " models that share it hold out the same validation patients (paired comparisons)")
    Integer splitSeed;

    @Option(names = "--patients", paramLabel = "N",
            description = "use only the first N patients (sorted by id) of each site (quick runs)")
    int patients;

    @Option(names = "--base-filters", paramLabel = "N", description = "U-Net width at the first level (default: ${DEFAULT-VALUE})")
    int baseFilters = D.baseFilters();

    @Option(names = "--depth", paramLabel = "N", description = "U-Net levels (default: ${DEFAULT-VALUE})")
    int depth = D.depth();

    @Option(names = "--intensity-aug", description = "add gamma / bias-field / noise / blur augmentation (the first version)")
    boolean intensityAug;

    @Option(names = "--acquisition-aug", paramLabel = "P", description = "stacked random acquisition shifts (contrast"
            + " curves, bias fields, resolution loss, Gaussian/Rician noise), each family with probability P (e.g. 0.5)")
    double acquisitionAug;

    @Option(names = "--lr-schedule", paramLabel = "S",
            description = "fixed (default) or cosine (decay to 5%% of --lr at the last planned step)")
    String lrSchedule = D.lrSchedule();

    @Option(names = "--warmup-steps", paramLabel = "N",
            description = "linear learning-rate warm-up over the first N steps (default: 0)")
    int warmupSteps;

    @Option(names = "--select", paramLabel = "S", description = "best (default: the epoch with the best validation Dice)"
            + " or last (the final weights; the validation patients then stay a held-out set)")
    String select = "best";

    @Option(names = "--bn-recalibrate", description = "after training, set the batch-norm statistics to the population"
            + " statistics of the un-augmented training slices")
    boolean bnRecalibrate;

    @Option(names = "--domain-batches", description = "domain-specific batch normalisation (MS-Net): each batch holds one"
            + " site's slices, sites taking turns; with --bn-recalibrate the statistics become the mean of the sites' own")
    boolean domainBatches;

    @Option(names = "--no-augment", description = "no augmentation at all")
    boolean noAugment;

    @Option(names = "--parent", paramLabel = "M.onnx", description = "record this model as the parent in the card (lineage)")
    String parent;

    @Option(names = "--checkpoints", paramLabel = "DIR",
            description = "best-weights checkpoint folder (default: MODEL.checkpoints beside --out)")
    String checkpoints;

    @Option(names = "--threads", paramLabel = "N", description = "PyTorch threads (default: all cores)")
    int threads = D.threads();

    @Mixin
    Cli.DjlOptions djl;

    @Mixin
    Cli.Help help;

    private TrainCommand() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    private static boolean selectBest(String s) {
        return switch (s) {
            case "best" -> true;
            case "last" -> false;
            default -> throw new DataException("--select must be best or last, got '" + s + "'");
        };
    }

    /** The settings of the training recipe beyond the card's fixed fields. */
    static Map<String, Object> recipe(TrainConfig cfg, long splitSeed) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("lr_schedule", cfg.lrSchedule().equals("cosine") ? "cosine to 5% of the rate" : "fixed");
        m.put("warmup_steps", cfg.warmupSteps());
        m.put("selection", cfg.selectBest() ? "epoch with the best validation Dice" : "last weights");
        m.put("acquisition_aug_probability", cfg.acquisitionAug());
        m.put("bn_statistics", cfg.bnRecalibrate() ? (cfg.domainBatches()
                ? "mean over sites of each site's population statistics (un-augmented training slices)"
                : "population statistics of the un-augmented training slices") : "moving average over training batches");
        m.put("batches", cfg.domainBatches() ? "one site per batch, sites taking turns (domain-specific batch normalisation)"
                : "slices of all sites shuffled together");
        m.put("size", cfg.size());
        m.put("base_filters", cfg.baseFilters());
        m.put("depth", cfg.depth());
        m.put("val_fraction", cfg.valFraction());
        m.put("split", "per site: seeded shuffle of the site's sorted patient ids");
        m.put("split_seed", splitSeed);
        return m;
    }

    /** Runs the command; returns the exit status (0 ok, 2 bad input, 1 failure). */
    public static int run(String[] argv, PrintStream out, PrintStream err) {
        TrainCommand c = new TrainCommand();
        return Cli.run("train", c, argv, out, err, () -> c.train(argv, out, err));
    }

    private int train(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Path dataDir = Path.of(Cli.required(data, "--data"));
        List<String> siteList = Cli.list(sites, "--sites");
        Path outModel = Path.of(Cli.required(outFile, "--out"));
        if (!outModel.getFileName().toString().endsWith(".onnx")) {
            throw new DataException("--out must name an .onnx file, got " + outModel);
        }
        String stem = outModel.getFileName().toString().replaceFirst("\\.onnx$", "");
        Path checkpointDir = checkpoints != null ? Path.of(checkpoints)
                : outModel.toAbsolutePath().resolveSibling(stem + ".checkpoints");
        TrainConfig cfg = new TrainConfig(size, batch, epochs, stepsPerEpoch, maxSteps, maxMinutes, (float) lr,
                baseFilters, depth, valFraction, seed, patience, !noAugment, intensityAug, threads, checkpointDir,
                acquisitionAug, lrSchedule, warmupSteps, selectBest(select), bnRecalibrate, domainBatches).validate();
        ProgressBar.Format progressFormat = djl.progress();
        Path parentModel = parent == null ? null : Path.of(parent);
        if (parentModel != null && !Files.isRegularFile(parentModel)) {
            throw new DataException("--parent model not found: " + parentModel);
        }

        List<SliceDataset.PatientRef> refs = SliceDataset.discover(dataDir, siteList);
        if (patients > 0) {
            Map<String, Integer> taken = new TreeMap<>();
            refs = refs.stream().filter(p -> taken.merge(p.site(), 1, Integer::sum) <= patients).toList();
        }
        long splitSeedValue = splitSeed == null ? cfg.seed() : splitSeed;
        PatientSplit split = PatientSplit.of(refs, cfg.valFraction(), splitSeedValue);
        DjlRuntime.configure(djl.cache(), cfg.threads());

        long tLoad = System.nanoTime();
        List<SliceDataset.Volume> train = new ArrayList<>();
        for (SliceDataset.PatientRef p : split.train()) {
            train.add(SliceDataset.load(p));
        }
        List<SliceDataset.Volume> val = new ArrayList<>();
        for (SliceDataset.PatientRef p : split.validation()) {
            val.add(SliceDataset.load(p));
        }
        err.printf(Locale.ROOT, "train: data %s, sites %s: %d patients (%d train, %d validation), read in %.1f s%n",
                dataDir, siteList, refs.size(), train.size(), val.size(), (System.nanoTime() - tLoad) / 1e9);

        ProgressBar bar = new ProgressBar(err, 10, progressFormat);
        try (UNetTrainer.Result r = new UNetTrainer(cfg, bar).train(train, val)) {
            train = null; // let the full-resolution training slices go
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("input_size", Integer.toString(cfg.size()));
            meta.put("training_sites", String.join(",", siteList));
            byte[] bytes = OnnxExporter.export(r.net(), meta, outModel);
            String sha = Hashing.sha256Hex(bytes);
            err.printf(Locale.ROOT, "train: wrote %s (%d bytes, sha256 %s)%n", outModel, bytes.length, sha);

            Map<String, Object> metrics = new LinkedHashMap<>();
            metrics.put("loss_first_step", DiceEvaluator.round(r.firstLoss()));
            metrics.put("loss_last_steps_ema", DiceEvaluator.round(r.lastLoss()));
            metrics.put("validation_dice_djl_at_input_size", DiceEvaluator.round(r.bestValDice()));
            if (!split.validation().isEmpty()) {
                try (OrtSegmenter ort = new OrtSegmenter(outModel, cfg.threads())) {
                    DiceEvaluator.SiteReport rep = new DiceEvaluator(ort, 16, err)
                            .evaluate(String.join(",", siteList), split.validation(), sha);
                    metrics.put("validation_patients", rep.patients());
                    metrics.put("validation_dice_mean", rep.diceMean());
                    metrics.put("validation_dice_median", rep.diceMedian());
                    metrics.put("validation_lesion_voxels_median", rep.lesionVoxelsMedian());
                    metrics.put("validation_engine", "onnxruntime, native resolution");
                }
            }
            List<Map<String, Object>> epochLogs = new ArrayList<>();
            for (UNetTrainer.EpochLog e : r.epochs()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("epoch", e.epoch());
                m.put("steps", e.steps());
                m.put("mean_loss", DiceEvaluator.round(e.meanLoss()));
                m.put("validation_dice", DiceEvaluator.round(e.valDice()));
                m.put("seconds", Math.round(e.seconds()));
                m.put("rss_mb", e.rssMb());
                m.put("heap_used_mb", e.heapMb());
                m.put("native_mb", e.nativeMb());
                epochLogs.add(m);
            }
            metrics.put("epochs", epochLogs);

            ModelCard.Parent parentRef = null;
            if (parentModel != null) {
                Path pc = ModelCard.pathFor(parentModel);
                String pv = Files.isRegularFile(pc) ? ModelCard.read(pc).version() : null;
                parentRef = new ModelCard.Parent(pv, Hashing.sha256Hex(parentModel), parentModel.getFileName().toString());
            }
            String created = DateTimeFormatter.ISO_INSTANT.format(Instant.now());
            String version = stem + "-" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
                    .withZone(ZoneOffset.UTC).format(Instant.now()) + "-" + sha.substring(0, 8);
            List<String> trainIds = split.train().stream().map(SliceDataset.PatientRef::patientId).toList();
            ModelCard card = new ModelCard(1, version, created, outModel.getFileName().toString(), sha, parentRef,
                    String.format(Locale.ROOT, "2D U-Net, depth %d, base filters %d, conv3x3+BN+ReLU, "
                            + "nearest upsample + conv (no ConvTranspose), sigmoid output", cfg.depth(), cfg.baseFilters()),
                    new ModelCard.Onnx(OnnxExporter.OPSET, OnnxExporter.INPUT, OnnxExporter.OUTPUT,
                            "[N,1,H,W] float32, H and W multiples of " + (1 << cfg.depth())),
                    cfg.size(), OnnxExporter.NORMALISATION,
                    new ModelCard.Training(siteList, trainIds.size(), r.trainSlices(),
                            SliceDataset.patientHash(trainIds),
                            split.validation().stream().map(SliceDataset.PatientRef::patientId).toList(),
                            cfg.seed(), r.epochs().size(), r.steps(), cfg.batch(),
                            Double.parseDouble(Float.toString(cfg.learningRate())),
                            "BCE + (1 - soft Dice)", "Adam",
                            new Augmenter(cfg.augment(), cfg.intensityAugment(), cfg.acquisitionAug()).describe(), r.stopReason(),
                            r.bestEpoch(), Math.round(r.seconds() * 10) / 10.0, r.peakRssMb(), cfg.threads(),
                            "DJL " + ai.djl.engine.Engine.getDjlVersion() + " PyTorch "
                                    + ai.djl.engine.Engine.getInstance().getVersion() + " CPU",
                            recipe(cfg, splitSeedValue), "./pipeline train " + String.join(" ", argv)),
                    metrics, null);
            Path cardPath = ModelCard.pathFor(outModel);
            card.write(cardPath);
            err.println("train: wrote " + cardPath);

            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("model", outModel.toString());
            summary.put("card", cardPath.toString());
            summary.put("version", version);
            summary.put("sha256", sha);
            summary.put("steps", r.steps());
            summary.put("epochs", r.epochs().size());
            summary.put("train_seconds", Math.round(r.seconds()));
            summary.put("peak_rss_mb", r.peakRssMb());
            summary.put("validation_dice_mean", metrics.get("validation_dice_mean"));
            summary.put("validation_dice_median", metrics.get("validation_dice_median"));
            out.println(new ObjectMapper().writeValueAsString(summary));
        }
        return 0;
    }
}
