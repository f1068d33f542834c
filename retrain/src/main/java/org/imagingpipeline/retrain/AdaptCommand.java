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
 * {@code ./pipeline adapt --model M.onnx --data DIR --sites S[,S] --method adabn|entropy|adversarial --out NEW.onnx
 * [--source-data DIR --source-sites S] ...}: unsupervised adaptation of an exported model to a target domain from
 * its images alone (target masks are never read: {@link TargetImages} cannot list them), export of the adapted
 * model with a card (lineage), and - with the labelled source data - the promotion gate. Progress on stderr;
 * the last stdout line is one JSON object. Exit 0 on success (also when the gate says no), 2 bad input,
 * 1 failure.
 */
public final class AdaptCommand {

    static final String USAGE = """
            usage: adapt --model M.onnx --data DIR --sites S[,S] --method adabn|entropy|adversarial --out NEW.onnx
                         [--source-data DIR --source-sites S] [options]
              --data DIR          target images: DIR/SITE/SERIES/*.png (8- or 16-bit grey; *_mask* files are
                                  never read) or kaggle_3m TIFF
              --source-data DIR   labelled source data (lgg-flair layout): needed by adversarial and by the gate;
                                  the parent's card (M.card.json) names the source validation patients
              --source-sites S    source sites (default: the parent card's training sites)
              --target-labels DIR expert target masks (DIR/SITE/SERIES/NAME_mask.png) for the gate only
              --max-steps N       optimisation steps (entropy default 100, adversarial default 200)
              --max-minutes X     wall-clock cap for the optimisation (default 10; 0 = none)
              --batch N           slices per step (default 8; AdaBN uses 16)
              --lr X              learning rate (entropy default 0.001, adversarial default 0.0001)
              --tolerance X       gate: allowed loss of source validation Dice (default 0.02)
              --min-entropy-gain X gate: relative entropy change that counts as better/worse (default 0.05)
              --min-labelled-gain X gate: required rise of the labelled target Dice (default 0.02)
              --bn-scope S        batch norms AdaBN re-estimates: encoder (encoder + bottleneck; default), all,
                                  or levels:N (the first N encoder levels only)
              --bn-weight W       weight of the target statistics against the parent's (default 1 = pure AdaBN)
              --bn-reference R    source (default with --source-data): move the parent's statistics by the
                                  target-minus-source difference measured the same way on source training slices;
                                  none: replace them with the target's (plain AdaBN)
              --no-gate           skip the gate even with --source-data ("gate": null; for experiments)
              --seed N            sampling seed (default 42)
              --patients N        only the first N series (sorted) of each target site
              --threads N         PyTorch / ONNX Runtime threads (default: all cores)
              --djl-cache DIR     DJL native-library cache (default target/djl-cache)
            """;

    public static final List<String> METHODS = List.of("adabn", "entropy", "adversarial");

    private static final Set<String> VALUES = Set.of("--model", "--data", "--sites", "--method", "--out",
            "--source-data", "--source-sites", "--target-labels", "--max-steps", "--max-minutes", "--batch", "--lr",
            "--tolerance", "--min-entropy-gain", "--min-labelled-gain", "--seed", "--bn-scope", "--bn-weight", "--bn-reference", "--patients", "--threads", "--djl-cache");
    private static final Set<String> FLAGS = Set.of("--help", "--no-gate");

    private AdaptCommand() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] argv, PrintStream out, PrintStream err) {
        long t0 = System.nanoTime();
        try {
            Args a = new Args(argv, VALUES, FLAGS);
            if (a.flag("--help")) {
                err.print(USAGE);
                return 0;
            }
            Path model = Path.of(a.required("--model"));
            Path data = Path.of(a.required("--data"));
            List<String> sites = a.list("--sites");
            String method = a.required("--method");
            if (!METHODS.contains(method)) {
                throw new DataException("--method must be one of " + String.join(", ", METHODS) + ", got '" + method + "'");
            }
            Path outModel = Path.of(a.required("--out"));
            if (!outModel.getFileName().toString().endsWith(".onnx")) {
                throw new DataException("--out must name an .onnx file, got " + outModel);
            }
            if (!Files.isRegularFile(model)) {
                throw new DataException("model file not found: " + model);
            }
            if (outModel.toAbsolutePath().normalize().equals(model.toAbsolutePath().normalize())) {
                throw new DataException("--out must not overwrite the parent model " + model);
            }
            Path sourceData = a.get("--source-data", null) == null ? null : Path.of(a.get("--source-data", null));
            Path labels = a.get("--target-labels", null) == null ? null : Path.of(a.get("--target-labels", null));
            if (labels != null && !Files.isDirectory(labels)) {
                throw new DataException("--target-labels folder not found: " + labels);
            }
            if (labels != null && sourceData == null) {
                throw new DataException("--target-labels feeds the gate, which needs --source-data");
            }
            if (method.equals("adversarial") && sourceData == null) {
                throw new DataException("--method adversarial needs the labelled source data (--source-data DIR)");
            }
            int threads = a.intValue("--threads", Runtime.getRuntime().availableProcessors());
            int batch = a.intValue("--batch", 8);
            int seed = a.intValue("--seed", 42);
            double maxMinutes = a.doubleValue("--max-minutes", 10);
            int maxSteps = a.intValue("--max-steps", method.equals("adversarial") ? 200 : 100);
            float lr = (float) a.doubleValue("--lr", method.equals("adversarial") ? 1e-4 : 1e-3);
            AdaBn.Scope scope = AdaBn.Scope.parse(a.get("--bn-scope", "levels:2"));
            double bnWeight = a.doubleValue("--bn-weight", 1.0);
            String bnReference = a.get("--bn-reference", a.get("--source-data", null) == null ? "none" : "source");
            if (!bnReference.equals("source") && !bnReference.equals("none")) {
                throw new DataException("--bn-reference must be source or none, got '" + bnReference + "'");
            }
            if (bnReference.equals("source") && a.get("--source-data", null) == null) {
                throw new DataException("--bn-reference source needs the source data (--source-data DIR)");
            }
            PromotionGate.Config gateCfg = new PromotionGate.Config(
                    a.doubleValue("--tolerance", PromotionGate.Config.defaults().tolerance()),
                    a.doubleValue("--min-entropy-gain", PromotionGate.Config.defaults().minEntropyGain()),
                    PromotionGate.Config.defaults().ttaSlack(),
                    a.doubleValue("--min-labelled-gain", PromotionGate.Config.defaults().minLabelledGain()));
            if (batch < 1 || lr <= 0) {
                throw new DataException("--batch and --lr must be positive");
            }

            // Inputs first: data errors are the commoner, and they must not wait for the engines.
            List<TargetImages.Series> target = firstPerSite(TargetImages.discover(data, sites), a.intValue("--patients", 0));
            Path parentCardPath = ModelCard.pathFor(model);
            ModelCard parentCard = Files.isRegularFile(parentCardPath) ? ModelCard.read(parentCardPath) : null;
            SourceData source = sourceData == null ? null
                    : SourceData.of(sourceData, a.get("--source-sites", null) == null ? null : a.list("--source-sites"),
                            parentCard, parentCardPath);

            DjlRuntime.configure(Path.of(a.get("--djl-cache", DjlRuntime.defaultCacheDir().toString())), threads);
            ProgressBar bar = new ProgressBar(err, 10);
            Map<String, Object> summary;
            try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
                OnnxImporter.Imported parent = OnnxImporter.read(model, manager);
                int size = parent.inputSize();
                if (size <= 0) {
                    throw new DataException("model " + model + " has no input_size in its metadata");
                }
                List<float[]> slices = new ArrayList<>();
                for (TargetImages.Series s : target) {
                    TargetImages.Images im = TargetImages.load(s);
                    for (float[] x : im.slices()) {
                        slices.add(Resampler.resize(x, im.width(), im.height(), size, size));
                    }
                }
                err.printf(Locale.ROOT, "adapt: %s on %s: %d series, %d slices (input %dx%d); parent %s%n", method,
                        sites, target.size(), slices.size(), size, size, model);
                BnSnapshot parentStats = BnSnapshot.of(parent.net());
                // The source training slices, read once: the AdaBN reference samples them, adversarial trains on them.
                boolean adversarial = method.equals("adversarial");
                SourceSlices src = bnReference.equals("source") || adversarial
                        ? SourceSlices.load(source.train(), size, adversarial) : null;
                List<float[]> reference = null;
                if (bnReference.equals("source")) {
                    reference = src.sample(REFERENCE_SLICES, seed);
                    err.printf(Locale.ROOT, "adapt: batch-norm statistics referenced to %d slices of %d source training "
                            + "patients%n", reference.size(), source.train().size());
                }
                int sourceTrain = 0;
                OptimisationLog opt = null;
                if (method.equals("entropy")) {
                    AdaBn.reestimate(parent.net(), manager, slices, reference, size, 16, seed, scope, bnWeight, parentStats, bar);
                    err.println("adapt: entropy minimisation of the batch-norm affine parameters");
                    opt = EntropyMinimisation.run(parent.net(), manager, slices, size, batch, lr, seed,
                            new StepBudget(maxSteps, maxMinutes, bar));
                } else if (adversarial) {
                    sourceTrain = source.train().size();
                    err.printf(Locale.ROOT, "adapt: adversarial feature alignment with %d source training patients "
                            + "(%d slices) and the source loss kept%n", sourceTrain, src.images().size());
                    opt = AdversarialAlignment.run(parent.net(), manager, slices, src.images(), src.masks(), size, batch,
                            lr, seed, new StepBudget(maxSteps, maxMinutes, bar));
                }
                err.println("adapt: re-estimating batch-norm statistics on the target (AdaBN)");
                AdaBn.Report bn = AdaBn.reestimate(parent.net(), manager, slices, reference, size, 16, seed, scope, bnWeight, parentStats, bar);

                Map<String, String> meta = new LinkedHashMap<>(parent.metadata());
                meta.put("adaptation_method", method);
                meta.put("adaptation_domain", String.join(",", sites));
                meta.put("parent_sha256", parent.sha256());
                byte[] bytes = OnnxExporter.export(parent.net(), meta, outModel);
                String sha = Hashing.sha256Hex(bytes);
                err.printf(Locale.ROOT, "adapt: wrote %s (sha256 %s)%n", outModel, sha);

                PromotionGate.Decision gate = null;
                if (source != null && !a.flag("--no-gate")) {
                    // The candidate's source view: its weights with the parent's batch-norm statistics (see PromotionGate).
                    Path sourceView = Files.createTempFile(outModel.toAbsolutePath().getParent(), ".source-view-", ".onnx");
                    try {
                        BnSnapshot adapted = BnSnapshot.of(parent.net());
                        parentStats.restore(parent.net(), unit -> true);
                        OnnxExporter.export(parent.net(), meta, sourceView);
                        adapted.restore(parent.net(), unit -> true);
                        gate = new PromotionGate(gateCfg, threads, err).decide(model, outModel, sourceView,
                                source.validation(), source.all(), target, labels);
                    } finally {
                        Files.deleteIfExists(sourceView);
                    }
                    err.println("adapt: gate " + (gate.passed() ? "PASSED" : "FAILED") + ": " + gate.reasons());
                }
                double seconds = Math.round((System.nanoTime() - t0) / 1e8) / 10.0;
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("bn_shift_per_unit", bn.shiftPerUnit());
                details.put("bn_variance_ratio_per_unit", bn.varianceRatioPerUnit());
                if (opt != null) {
                    details.put("loss_first_step", opt.firstLoss());
                    details.put("loss_last_steps_ema", opt.lastLoss());
                    details.putAll(opt.details());
                }
                details.put("bn_scope", scope.name());
                details.put("bn_target_weight", bnWeight);
                details.put("bn_reference", bnReference);
                details.put("seed", seed);
                details.put("threads", threads);
                String stem = outModel.getFileName().toString().replaceFirst("\\.onnx$", "");
                String version = stem + "-" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
                        .withZone(ZoneOffset.UTC).format(Instant.now()) + "-" + sha.substring(0, 8);
                ModelCard.Adaptation adaptation = new ModelCard.Adaptation(method, sites, target.size(), slices.size(),
                        TargetImages.seriesHash(target), source == null ? null : source.sites(), sourceTrain,
                        opt == null ? 0 : opt.steps(), opt == null ? 0 : opt.seconds(),
                        opt == null ? "AdaBN only" : opt.stopReason(), bn.meanShift(), details, gate);
                ModelCard card = new ModelCard(1, version, DateTimeFormatter.ISO_INSTANT.format(Instant.now()),
                        outModel.getFileName().toString(), sha,
                        new ModelCard.Parent(parentCard == null ? null : parentCard.version(), parent.sha256(),
                                model.getFileName().toString()),
                        parentCard == null ? "2D U-Net" : parentCard.architecture(),
                        parentCard == null ? new ModelCard.Onnx(OnnxExporter.OPSET, OnnxExporter.INPUT,
                                OnnxExporter.OUTPUT, "[N,1,H,W] float32") : parentCard.onnx(),
                        size, OnnxExporter.NORMALISATION, parentCard == null ? null : parentCard.training(),
                        new LinkedHashMap<>(), adaptation);
                card.write(ModelCard.pathFor(outModel));
                err.println("adapt: wrote " + ModelCard.pathFor(outModel));

                summary = new LinkedHashMap<>();
                summary.put("model", outModel.toString());
                summary.put("sha256", sha);
                summary.put("parent_sha256", parent.sha256());
                summary.put("method", method);
                summary.put("sites", sites);
                summary.put("patients", target.size());
                summary.put("slices", slices.size());
                summary.put("seconds", seconds);
                summary.put("gate", gate);
            }
            out.println(new ObjectMapper().writeValueAsString(summary));
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

    private static List<TargetImages.Series> firstPerSite(List<TargetImages.Series> all, int perSite) {
        if (perSite <= 0) {
            return all;
        }
        Map<String, Integer> taken = new TreeMap<>();
        return all.stream().filter(s -> taken.merge(s.site(), 1, Integer::sum) <= perSite).toList();
    }

    /** The labelled source data: its sites, the parent's validation patients, the rest for training. */
    record SourceData(List<String> sites, List<SliceDataset.PatientRef> all, List<SliceDataset.PatientRef> train,
                      List<SliceDataset.PatientRef> validation) {

        static SourceData of(Path dir, List<String> sites, ModelCard parentCard, Path cardPath) {
            if (parentCard == null || parentCard.training() == null
                    || parentCard.training().validationPatients() == null
                    || parentCard.training().validationPatients().isEmpty()) {
                throw new DataException("--source-data needs the parent's card " + cardPath
                        + " with training.validation_patients (which source patients the gate may use)");
            }
            List<String> s = sites != null ? sites : parentCard.training().sites();
            List<SliceDataset.PatientRef> all = SliceDataset.discover(dir, s);
            Set<String> val = new HashSet<>(parentCard.training().validationPatients());
            List<SliceDataset.PatientRef> validation = all.stream().filter(p -> val.contains(p.patientId())).toList();
            List<SliceDataset.PatientRef> train = all.stream().filter(p -> !val.contains(p.patientId())).toList();
            if (validation.isEmpty()) {
                throw new DataException("none of the parent's validation patients " + val + " is in " + dir + " " + s);
            }
            return new SourceData(s, all, train, validation);
        }
    }

    /** The source training patients' slices resized to the model input, with their masks when asked for. */
    record SourceSlices(List<float[]> images, List<byte[]> masks) {
        static SourceSlices load(List<SliceDataset.PatientRef> train, int size, boolean withMasks) {
            if (train.isEmpty()) {
                throw new DataException("the source data has no training patients");
            }
            List<float[]> images = new ArrayList<>();
            List<byte[]> masks = withMasks ? new ArrayList<>() : null;
            for (SliceDataset.PatientRef p : train) {
                SliceDataset.Volume v = SliceDataset.load(p);
                for (int i = 0; i < v.images().size(); i++) {
                    images.add(Resampler.resize(v.images().get(i), v.width(), v.height(), size, size));
                    if (withMasks) {
                        masks.add(Resampler.resizeMask(v.masks().get(i), v.width(), v.height(), size, size));
                    }
                }
            }
            return new SourceSlices(images, masks);
        }

        /** At most {@code n} of the images, a seeded sample (the list itself keeps its order). */
        List<float[]> sample(int n, long seed) {
            List<float[]> all = new ArrayList<>(images);
            java.util.Collections.shuffle(all, new java.util.Random(seed));
            return new ArrayList<>(all.subList(0, Math.min(n, all.size())));
        }
    }

    static final int REFERENCE_SLICES = 1024;
}
