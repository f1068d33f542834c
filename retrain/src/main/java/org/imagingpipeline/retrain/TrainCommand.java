package org.imagingpipeline.retrain;

import com.fasterxml.jackson.databind.ObjectMapper;

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
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code ./pipeline train --data DIR --sites S[,S] --out MODEL.onnx [options]}: patient split, DJL training,
 * ONNX export, validation through ONNX Runtime, model card. Last stdout line: a JSON summary.
 */
public final class TrainCommand {

    static final String USAGE = """
            usage: train --data DIR --sites S[,S] --out MODEL.onnx [options]
              --size N            input size, 128 (default) or 256 (multiple of 2^depth)
              --epochs N          maximum epochs (default 40)
              --batch N           batch size (default 16)
              --lr X              Adam learning rate (default 0.001)
              --max-minutes X     stop training after X minutes (default 25; 0 = no limit)
              --max-steps N       stop after N optimiser steps (default 0 = no cap)
              --steps-per-epoch N default: one pass over the training slices
              --patience N        early stopping: epochs without better validation Dice (default 8; 0 = off)
              --val-fraction X    share of patients held out for validation (default 0.2)
              --seed N            weight initialisation, shuffling and augmentation seed (default 42)
              --split-seed N      seed of the per-site patient split (default: --seed); models that share it
                                  hold out the same validation patients (paired comparisons)
              --patients N        use only the first N patients (sorted by id) of each site (quick runs)
              --base-filters N    U-Net width at the first level (default 8)
              --depth N           U-Net levels (default 4)
              --intensity-aug     add gamma / bias-field / noise / blur augmentation (the first version)
              --acquisition-aug P stacked random acquisition shifts (contrast curves, bias fields, resolution
                                  loss, Gaussian/Rician noise), each family with probability P (e.g. 0.5)
              --lr-schedule S     fixed (default) or cosine (decay to 5% of --lr at the last planned step)
              --warmup-steps N    linear learning-rate warm-up over the first N steps (default 0)
              --select S          best (default: the epoch with the best validation Dice) or last (the final
                                  weights; the validation patients then stay a held-out set)
              --bn-recalibrate    after training, set the batch-norm statistics to the population statistics
                                  of the un-augmented training slices
              --no-augment        no augmentation at all
              --parent M.onnx     record this model as the parent in the card (lineage)
              --checkpoints DIR   best-weights checkpoint folder (default: beside --out)
              --threads N         PyTorch threads (default: all cores)
              --djl-cache DIR     DJL native-library cache (default target/djl-cache)
            """;

    private static final Set<String> VALUES = Set.of("--data", "--sites", "--out", "--size", "--epochs", "--batch",
            "--lr", "--max-minutes", "--max-steps", "--steps-per-epoch", "--patience", "--val-fraction", "--seed",
            "--patients", "--base-filters", "--depth", "--parent", "--checkpoints", "--threads", "--djl-cache",
            "--acquisition-aug", "--lr-schedule", "--warmup-steps", "--select", "--split-seed");
    private static final Set<String> FLAGS = Set.of("--intensity-aug", "--no-augment", "--bn-recalibrate", "--help");

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
        m.put("bn_statistics", cfg.bnRecalibrate() ? "population statistics of the un-augmented training slices"
                : "moving average over training batches");
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
        try {
            Args a = new Args(argv, VALUES, FLAGS);
            if (a.flag("--help")) {
                err.print(USAGE);
                return 0;
            }
            Path data = Path.of(a.required("--data"));
            List<String> sites = a.list("--sites");
            Path outModel = Path.of(a.required("--out"));
            if (!outModel.getFileName().toString().endsWith(".onnx")) {
                throw new DataException("--out must name an .onnx file, got " + outModel);
            }
            TrainConfig d = TrainConfig.defaults();
            String stem = outModel.getFileName().toString().replaceFirst("\\.onnx$", "");
            Path checkpoints = Path.of(a.get("--checkpoints",
                    outModel.toAbsolutePath().resolveSibling(stem + ".checkpoints").toString()));
            TrainConfig cfg = new TrainConfig(a.intValue("--size", d.size()), a.intValue("--batch", d.batch()),
                    a.intValue("--epochs", d.epochs()), a.intValue("--steps-per-epoch", 0),
                    a.intValue("--max-steps", 0), a.doubleValue("--max-minutes", d.maxMinutes()),
                    (float) a.doubleValue("--lr", d.learningRate()), a.intValue("--base-filters", d.baseFilters()),
                    a.intValue("--depth", d.depth()), a.doubleValue("--val-fraction", d.valFraction()),
                    a.intValue("--seed", (int) d.seed()), a.intValue("--patience", d.patience()),
                    !a.flag("--no-augment"), a.flag("--intensity-aug"), a.intValue("--threads", d.threads()),
                    checkpoints, a.doubleValue("--acquisition-aug", 0), a.get("--lr-schedule", d.lrSchedule()),
                    a.intValue("--warmup-steps", 0), selectBest(a.get("--select", "best")),
                    a.flag("--bn-recalibrate")).validate();
            Path parent = a.get("--parent", null) == null ? null : Path.of(a.get("--parent", null));
            if (parent != null && !Files.isRegularFile(parent)) {
                throw new DataException("--parent model not found: " + parent);
            }
            int perSite = a.intValue("--patients", 0);

            List<SliceDataset.PatientRef> patients = SliceDataset.discover(data, sites);
            if (perSite > 0) {
                Map<String, Integer> taken = new TreeMap<>();
                patients = patients.stream().filter(p -> taken.merge(p.site(), 1, Integer::sum) <= perSite).toList();
            }
            long splitSeed = a.intValue("--split-seed", (int) cfg.seed());
            PatientSplit split = PatientSplit.of(patients, cfg.valFraction(), splitSeed);
            DjlRuntime.configure(Path.of(a.get("--djl-cache", DjlRuntime.defaultCacheDir().toString())), cfg.threads());

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
                    data, sites, patients.size(), train.size(), val.size(), (System.nanoTime() - tLoad) / 1e9);

            ProgressBar bar = new ProgressBar(err, 10);
            try (UNetTrainer.Result r = new UNetTrainer(cfg, bar).train(train, val)) {
                train = null; // let the full-resolution training slices go
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put("input_size", Integer.toString(cfg.size()));
                meta.put("training_sites", String.join(",", sites));
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
                                .evaluate(String.join(",", sites), split.validation(), sha);
                        metrics.put("validation_patients", rep.patients());
                        metrics.put("validation_dice_mean", rep.diceMean());
                        metrics.put("validation_dice_median", rep.diceMedian());
                        metrics.put("validation_lesion_voxels_median", rep.lesionVoxelsMedian());
                        metrics.put("validation_engine", "onnxruntime, native resolution");
                    }
                }
                List<Map<String, Object>> epochs = new ArrayList<>();
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
                    epochs.add(m);
                }
                metrics.put("epochs", epochs);

                ModelCard.Parent parentRef = null;
                if (parent != null) {
                    Path pc = ModelCard.pathFor(parent);
                    String pv = Files.isRegularFile(pc) ? ModelCard.read(pc).version() : null;
                    parentRef = new ModelCard.Parent(pv, Hashing.sha256Hex(parent), parent.getFileName().toString());
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
                        new ModelCard.Training(sites, trainIds.size(), r.trainSlices(),
                                SliceDataset.patientHash(trainIds),
                                split.validation().stream().map(SliceDataset.PatientRef::patientId).toList(),
                                cfg.seed(), r.epochs().size(), r.steps(), cfg.batch(),
                                Double.parseDouble(Float.toString(cfg.learningRate())),
                                "BCE + (1 - soft Dice)", "Adam",
                                new Augmenter(cfg.augment(), cfg.intensityAugment(), cfg.acquisitionAug()).describe(), r.stopReason(),
                                r.bestEpoch(), Math.round(r.seconds() * 10) / 10.0, r.peakRssMb(), cfg.threads(),
                                "DJL " + ai.djl.engine.Engine.getDjlVersion() + " PyTorch "
                                        + ai.djl.engine.Engine.getInstance().getVersion() + " CPU",
                                recipe(cfg, splitSeed), "./pipeline train " + String.join(" ", argv)),
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
        } catch (DataException e) {
            err.println("train: error: " + e.getMessage());
            return 2;
        } catch (Exception | LinkageError e) {
            err.println("train: failed: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }
}
