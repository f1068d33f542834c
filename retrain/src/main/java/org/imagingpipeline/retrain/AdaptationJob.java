package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDManager;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One adaptation job as a library call: a parent model, a target domain's images (and, optionally, a radiologist's
 * corrected masks of some of its series), the labelled source data; one method, or {@code auto}: every candidate
 * method in turn, each judged by the {@link PromotionGate}, and the best one that passes written to the output (none
 * when none passes). {@code ./pipeline adapt} and {@code ./pipeline bench adaptation} are its callers; the retraining
 * service runs the first.
 *
 * <p>Methods: {@code adabn} (source-referenced batch-norm statistics, {@link AdaBn}), {@code normaliser} (an input
 * normalisation module adapted by feature-statistics alignment, {@link NormaliserAdaptation}), {@code standardise} (the
 * same module set to the Nyul-Udupa landmark map of the target's intensities onto the source's,
 * {@link IntensityStandardisation}), {@code entropy}
 * ({@link EntropyMinimisation}), {@code adversarial} ({@link AdversarialAlignment}) and {@code finetune} (few-shot, from
 * the corrected masks, {@link FewShotFineTune}; judged leave-series-out: every corrected series is scored by a model
 * fine-tuned without it).
 */
public final class AdaptationJob {

    public static final List<String> METHODS = List.of("adabn", "normaliser", "standardise", "entropy", "adversarial",
            "finetune");
    /** What {@code auto} tries by default ({@code finetune} only when at least two series have corrected masks). */
    public static final List<String> AUTO_CANDIDATES = List.of("adabn", "normaliser", "standardise", "finetune");
    static final int REFERENCE_SLICES = 1024;
    static final int MAX_FOLDS = 4;

    /** Knobs; null step counts and learning rates mean each method's default. */
    public record Settings(int threads, int batch, long seed, double maxMinutes, Integer maxSteps, Float lr,
                           AdaBn.Scope scope, double bnWeight, String bnReference, int alignLevels,
                           PromotionGate.Config gate, boolean noGate, int patientsPerSite, List<String> candidates,
                           boolean keepCandidates, Path djlCache, boolean foreground) {

        public static Settings defaults() {
            return new Settings(Runtime.getRuntime().availableProcessors(), 8, 42, 10, null, null, AdaBn.Scope.levels(2),
                    1.0, null, 2, PromotionGate.Config.defaults(), false, 0, AUTO_CANDIDATES, false,
                    DjlRuntime.defaultCacheDir(), false);
        }

        int steps(String method) {
            if (maxSteps != null) {
                return maxSteps;
            }
            return switch (method) {
                case "adversarial" -> 200;
                case "normaliser" -> 150;
                default -> 100;
            };
        }

        float lr(String method) {
            return lr != null ? lr : method.equals("adversarial") ? 1e-4f : 1e-3f;
        }
    }

    /** What to adapt to what. {@code method} is one of {@link #METHODS} or {@code auto}. */
    public record Request(Path model, Path data, List<String> sites, String method, Path out, Path sourceData,
                          List<String> sourceSites, Path targetLabels, Settings settings) { }

    /** One adapted candidate and the gate's decision on it ({@code error} set when the method could not run). */
    public record Candidate(String method, Path file, String sha256, PromotionGate.Decision gate, OptimisationLog optimisation,
                            AdaBn.Report bn, double seconds, String error) {
        boolean passed() {
            return gate != null && gate.passed();
        }
    }

    /** The job's outcome; {@code chosen} is null when {@code auto} found no candidate that passes. */
    public record Result(String method, Candidate chosen, List<Candidate> candidates, Map<String, Object> summary) { }

    /** A target series with a radiologist's corrected masks, at native size and at the model's input size. */
    record LabelledSeries(TargetImages.Images images, List<byte[]> masks, List<float[]> resized, List<byte[]> resizedMasks) { }

    private final Request req;
    private final Settings s;
    private final PrintStream err;
    private final ProgressBar bar;
    private Map<String, String> parentMeta;

    private AdaptationJob(Request req, PrintStream err, ProgressBar.Format progress) {
        this.req = req;
        this.s = req.settings();
        this.err = err;
        this.bar = new ProgressBar(err, 10, progress);
    }

    /** Runs the job with the progress bar; {@link DataException} for bad input (nothing is written then). */
    public static Result run(Request req, PrintStream err) throws IOException {
        return run(req, err, ProgressBar.Format.BAR);
    }

    /** As {@link #run(Request, PrintStream)}, with progress on {@code err} shown as {@code progress} says. */
    public static Result run(Request req, PrintStream err, ProgressBar.Format progress) throws IOException {
        return new AdaptationJob(req, err, progress).run();
    }

    private Result run() throws IOException {
        long t0 = System.nanoTime();
        boolean auto = req.method().equals("auto");
        if (!auto && !METHODS.contains(req.method())) {
            throw new DataException("--method must be auto or one of " + String.join(", ", METHODS) + ", got '" + req.method() + "'");
        }
        List<String> methods = auto ? s.candidates() : List.of(req.method());
        for (String m : methods) {
            if (!METHODS.contains(m)) {
                throw new DataException("unknown candidate method '" + m + "' (known: " + String.join(", ", METHODS) + ")");
            }
        }
        if (!req.out().getFileName().toString().endsWith(".onnx")) {
            throw new DataException("--out must name an .onnx file, got " + req.out());
        }
        if (!Files.isRegularFile(req.model())) {
            throw new DataException("model file not found: " + req.model());
        }
        if (req.out().toAbsolutePath().normalize().equals(req.model().toAbsolutePath().normalize())) {
            throw new DataException("--out must not overwrite the parent model " + req.model());
        }
        Path labels = req.targetLabels();
        if (labels != null && !Files.isDirectory(labels)) {
            throw new DataException("--target-labels folder not found: " + labels);
        }
        if (labels != null && req.sourceData() == null) {
            throw new DataException("--target-labels feeds the gate, which needs --source-data");
        }
        if (auto && req.sourceData() == null) {
            throw new DataException("--method auto chooses by the gate, which needs the labelled source data (--source-data DIR)");
        }
        for (String m : methods) {
            if ((m.equals("adversarial") || m.equals("normaliser") || m.equals("standardise") || m.equals("finetune"))
                    && req.sourceData() == null) {
                throw new DataException("--method " + m + " needs the labelled source data (--source-data DIR)");
            }
        }
        String bnReference = s.bnReference() != null ? s.bnReference() : req.sourceData() == null ? "none" : "source";
        if (!bnReference.equals("source") && !bnReference.equals("none")) {
            throw new DataException("--bn-reference must be source or none, got '" + bnReference + "'");
        }
        if (bnReference.equals("source") && req.sourceData() == null) {
            throw new DataException("--bn-reference source needs the source data (--source-data DIR)");
        }
        if (s.batch() < 1 || (s.lr() != null && s.lr() <= 0)) {
            throw new DataException("--batch and --lr must be positive");
        }
        if (s.alignLevels() < 1) {
            throw new DataException("--align-levels must be at least 1");
        }

        // Inputs first: data errors are the commoner, and they must not wait for the engines.
        List<TargetImages.Series> target = firstPerSite(TargetImages.discover(req.data(), req.sites()), s.patientsPerSite());
        Path parentCardPath = ModelCard.pathFor(req.model());
        ModelCard parentCard = Files.isRegularFile(parentCardPath) ? ModelCard.read(parentCardPath) : null;
        SourceData source = req.sourceData() == null ? null
                : SourceData.of(req.sourceData(), req.sourceSites(), parentCard, parentCardPath);

        DjlRuntime.configure(s.djlCache(), s.threads());
        int size;
        String parentSha;
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            OnnxImporter.Imported p = OnnxImporter.read(req.model(), m);
            size = p.inputSize();
            parentSha = p.sha256();
            parentMeta = p.metadata();
        }
        if (size <= 0) {
            throw new DataException("model " + req.model() + " has no input_size in its metadata");
        }
        List<float[]> slices = new ArrayList<>();
        List<LabelledSeries> labelled = new ArrayList<>();
        for (TargetImages.Series series : target) {
            TargetImages.Images im = TargetImages.load(series);
            List<float[]> resized = new ArrayList<>();
            for (float[] x : im.slices()) {
                resized.add(Resampler.resize(x, im.width(), im.height(), size, size));
            }
            slices.addAll(resized);
            List<byte[]> masks = labels == null ? null : TargetLabels.load(labels, im);
            if (masks != null) {
                List<byte[]> rm = new ArrayList<>();
                for (byte[] mk : masks) {
                    rm.add(Resampler.resizeMask(mk, im.width(), im.height(), size, size));
                }
                labelled.add(new LabelledSeries(im, masks, resized, rm));
            }
        }
        err.printf(Locale.ROOT, "adapt: %s on %s: %d series (%d with corrected masks), %d slices (input %dx%d); parent %s%n",
                req.method(), req.sites(), target.size(), labelled.size(), slices.size(), size, size, req.model());
        if (!auto && req.method().equals("finetune") && labelled.size() < 2) {
            throw new DataException("--method finetune needs corrected masks (--target-labels) of at least 2 target series, got "
                    + labelled.size());
        }
        boolean needSourceMasks = methods.contains("adversarial") || (methods.contains("finetune") && labelled.size() >= 2);
        boolean needSource = bnReference.equals("source") || needSourceMasks || methods.contains("normaliser")
                || methods.contains("standardise");
        SourceSlices src = needSource ? SourceSlices.load(source.train(), size, needSourceMasks) : null;
        List<float[]> reference = src == null ? null : src.sample(REFERENCE_SLICES, s.seed());
        if (reference != null) {
            err.printf(Locale.ROOT, "adapt: source reference: %d slices of %d source training patients%n",
                    reference.size(), source.train().size());
        }

        Gate gate = source != null && !s.noGate()
                ? new Gate(new PromotionGate(s.gate(), s.threads(), err), req.model(), source, target, labels) : null;
        List<Candidate> candidates = new ArrayList<>();
        for (String method : methods) {
            Path file = auto ? candidateFile(req.out(), method) : req.out();
            if (method.equals("finetune") && labelled.size() < 2) {
                candidates.add(new Candidate(method, null, null, null, null, null, 0,
                        "needs corrected masks of at least 2 target series (" + labelled.size() + " given)"));
                err.println("adapt: finetune skipped: needs corrected masks of at least 2 target series");
                continue;
            }
            long tc = System.nanoTime();
            Adapted a;
            try {
                a = adapt(method, slices, reference, src, labelled, bnReference, file);
            } catch (DataException e) {
                if (!auto) {
                    throw e;
                }
                // One candidate that cannot use this domain's data (e.g. standardise on images without anatomy)
                // leaves the others to be judged; the job fails only when run for that method alone.
                candidates.add(new Candidate(method, null, null, null, null, null,
                        Math.round((System.nanoTime() - tc) / 1e8) / 10.0, e.getMessage()));
                err.println("adapt: " + method + " skipped: " + e.getMessage());
                continue;
            }
            PromotionGate.Decision d = null;
            if (gate != null) {
                Double cv = method.equals("finetune") ? crossValidatedDice(slices, reference, src, labelled, bnReference) : null;
                d = gate.judge(a, cv);
                err.println("adapt: gate on " + method + " " + (d.passed() ? "PASSED" : "FAILED") + ": " + d.reasons());
            }
            candidates.add(new Candidate(method, file, a.sha256(), d, a.log(), a.bn(),
                    Math.round((System.nanoTime() - tc) / 1e8) / 10.0, null));
        }

        Candidate chosen = auto ? choose(candidates) : candidates.get(0);
        if (auto) {
            for (Candidate c : candidates) {
                if (c.file() != null && c != chosen && !s.keepCandidates()) {
                    Files.deleteIfExists(c.file());
                }
            }
            if (chosen != null) {
                Files.move(chosen.file(), req.out(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                err.printf(Locale.ROOT, "adapt: auto chose %s (%s)%n", chosen.method(), req.out());
            } else {
                Files.deleteIfExists(req.out());
                err.println("adapt: auto: no candidate passed the gate; nothing written, the parent keeps serving");
            }
        }
        double seconds = Math.round((System.nanoTime() - t0) / 1e8) / 10.0;
        if (chosen != null) {
            writeCard(chosen, candidates, auto, target, slices.size(), source, parentCard, parentSha, size, bnReference);
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", chosen == null ? null : req.out().toString());
        summary.put("sha256", chosen == null ? null : chosen.sha256());
        summary.put("parent_sha256", parentSha);
        summary.put("method", req.method());
        if (auto) {
            summary.put("chosen_method", chosen == null ? null : chosen.method());
        }
        summary.put("sites", req.sites());
        summary.put("patients", target.size());
        summary.put("slices", slices.size());
        summary.put("labelled_series", labelled.size());
        summary.put("seconds", seconds);
        Candidate shown = chosen != null ? chosen : candidates.stream().filter(c -> c.gate() != null).findFirst().orElse(null);
        summary.put("gate", shown == null ? null : shown.gate());
        if (auto) {
            List<Map<String, Object>> cs = new ArrayList<>();
            for (Candidate c : candidates) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("method", c.method());
                m.put("passed", c.passed());
                m.put("seconds", c.seconds());
                if (c.sha256() != null) {
                    m.put("sha256", c.sha256());
                }
                // A candidate that was not chosen stays on disk only with --keep-candidates (the chosen one is --out).
                if (c != chosen && c.file() != null && Files.isRegularFile(c.file())) {
                    m.put("model", c.file().toString());
                }
                if (c.error() != null) {
                    m.put("error", c.error());
                }
                if (c.gate() != null) {
                    m.put("gate", c.gate());
                }
                cs.add(m);
            }
            summary.put("candidates", cs);
        }
        return new Result(req.method(), chosen, candidates, summary);
    }

    static Path candidateFile(Path out, String method) {
        String name = out.getFileName().toString().replaceFirst("\\.onnx$", "");
        return out.resolveSibling(name + ".candidate-" + method + ".onnx");
    }

    /**
     * The best candidate that passed: with corrected masks the highest labelled Dice (measured on series the candidate
     * did not train on), else the most label-free proxies judged better, then the lowest test-time-augmentation
     * disagreement; null when none passed.
     */
    static Candidate choose(List<Candidate> candidates) {
        Comparator<Candidate> score = Comparator.comparingDouble(c -> {
            PromotionGate.Decision d = c.gate();
            return d.labelledTargetDiceAfter() != null ? d.labelledTargetDiceAfter() : -d.ttaDisagreementAfter();
        });
        return candidates.stream().filter(Candidate::passed).max(score).orElse(null);
    }

    /** An adapted network exported to a file. */
    record Adapted(String method, Path file, String sha256, Path sourceView, OptimisationLog log, AdaBn.Report bn) { }

    /**
     * Adapts a fresh copy of the parent with {@code method} and exports it; also exports its source view (its weights
     * with the parent's batch-norm statistics and without an input normaliser) when its weights changed.
     */
    private Adapted adapt(String method, List<float[]> slices, List<float[]> reference, SourceSlices src,
                          List<LabelledSeries> labelled, String bnReference, Path file)
            throws IOException {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            AdaptedNet n = adaptInMemory(method, manager, slices, reference, src, labelled, bnReference);
            Map<String, String> meta = new LinkedHashMap<>(parentMeta);
            meta.remove(OnnxExporter.INPUT_NORMALISER);
            meta.put("adaptation_method", method);
            meta.put("adaptation_domain", String.join(",", req.sites()));
            meta.put("parent_sha256", Hashing.sha256Hex(req.model()));
            byte[] bytes = OnnxExporter.export(n.net(), meta, file);
            String sha = Hashing.sha256Hex(bytes);
            err.printf(Locale.ROOT, "adapt: %s: wrote %s (sha256 %s)%n", method, file, sha);
            Path view = null;
            if (n.weightsChanged()) {
                view = Files.createTempFile(file.toAbsolutePath().getParent(), ".source-view-", ".onnx");
                n.parentStats().restore(n.net(), unit -> true);
                OnnxExporter.export(n.net(), meta, view);
            }
            return new Adapted(method, file, sha, view, n.log(), n.bn());
        }
    }

    /** The network after adaptation, with what the card reports. */
    record AdaptedNet(UNet net, BnSnapshot parentStats, OptimisationLog log, AdaBn.Report bn, boolean weightsChanged) { }

    private AdaptedNet adaptInMemory(String method, NDManager manager, List<float[]> slices, List<float[]> reference,
                                     SourceSlices src, List<LabelledSeries> labelled, String bnReference) {
        bar.method(method);
        boolean normaliser = method.equals("normaliser") || method.equals("standardise");
        // A new input normaliser's first convolutions start from the engine's random initialiser: seeded, so that the
        // same request gives the same candidate (unseeded, the normaliser's Dice on one target varied by 0.03 per run).
        ai.djl.engine.Engine.getEngine("PyTorch").setRandomSeed((int) s.seed());
        OnnxImporter.Imported parent = OnnxImporter.read(req.model(), manager, normaliser);
        UNet net = parent.net();
        int size = parent.inputSize();
        BnSnapshot parentStats = BnSnapshot.of(net);
        List<float[]> ref = bnReference.equals("source") ? reference : null;
        OptimisationLog log = null;
        AdaBn.Report bn = null;
        boolean weightsChanged = false;
        switch (method) {
            case "adabn" -> {
                err.println("adapt: re-estimating batch-norm statistics on the target (AdaBN, " + s.scope() + ")");
                bn = AdaBn.reestimate(net, manager, slices, ref, size, 16, s.seed(), s.scope(), s.bnWeight(), s.foreground(), parentStats, bar);
            }
            case "normaliser" -> {
                AdaBn.Scope align = AdaBn.Scope.levels(s.alignLevels());
                err.printf(Locale.ROOT, "adapt: input normaliser aligned to the source's batch-norm input statistics of the "
                        + "first %d encoder levels%n", s.alignLevels());
                Map<String, BnStatistics> stats = AdaBn.statistics(net, manager, reference, size, 16, s.seed(), align,
                        s.foreground(), bar);
                log = NormaliserAdaptation.run(net, manager, slices, stats, s.alignLevels(), size, 16, s.lr(method),
                        s.seed(), s.foreground(), new StepBudget(s.steps(method), s.maxMinutes(), bar));
            }
            case "standardise" -> {
                long t0 = System.nanoTime();
                IntensityStandardisation.Mapping map = IntensityStandardisation.fit(slices, reference);
                IntensityStandardisation.install(map, net.normaliser());
                err.printf(Locale.ROOT, "adapt: intensity standardisation (Nyul-Udupa landmarks of the z-scored foreground): "
                        + "target %s -> source %s%n", java.util.Arrays.toString(IntensityStandardisation.round(map.target())),
                        java.util.Arrays.toString(IntensityStandardisation.round(map.mapped())));
                log = new OptimisationLog(0, Double.NaN, Double.NaN, Math.round((System.nanoTime() - t0) / 1e8) / 10.0,
                        "landmark map (no optimisation)", map.details());
            }
            case "entropy" -> {
                AdaBn.reestimate(net, manager, slices, ref, size, 16, s.seed(), s.scope(), s.bnWeight(), s.foreground(), parentStats, bar);
                err.println("adapt: entropy minimisation of the batch-norm affine parameters");
                log = EntropyMinimisation.run(net, manager, slices, size, s.batch(), s.lr(method), s.seed(),
                        new StepBudget(s.steps(method), s.maxMinutes(), bar));
                bn = AdaBn.reestimate(net, manager, slices, ref, size, 16, s.seed(), s.scope(), s.bnWeight(), s.foreground(), parentStats, bar);
                weightsChanged = true;
            }
            case "adversarial" -> {
                err.printf(Locale.ROOT, "adapt: adversarial feature alignment with %d source training slices and the "
                        + "source loss kept%n", src.images().size());
                log = AdversarialAlignment.run(net, manager, slices, src.images(), src.masks(), size, s.batch(),
                        s.lr(method), s.seed(), new StepBudget(s.steps(method), s.maxMinutes(), bar));
                bn = AdaBn.reestimate(net, manager, slices, ref, size, 16, s.seed(), s.scope(), s.bnWeight(), s.foreground(), parentStats, bar);
                weightsChanged = true;
            }
            case "finetune" -> {
                bn = AdaBn.reestimate(net, manager, slices, ref, size, 16, s.seed(), s.scope(), s.bnWeight(), s.foreground(), parentStats, bar);
                List<float[]> ti = new ArrayList<>();
                List<byte[]> tm = new ArrayList<>();
                for (LabelledSeries l : labelled) {
                    ti.addAll(l.resized());
                    tm.addAll(l.resizedMasks());
                }
                err.printf(Locale.ROOT, "adapt: few-shot fine-tuning on %d corrected series (%d slices) with source replay%n",
                        labelled.size(), ti.size());
                log = FewShotFineTune.run(net, manager, ti, tm, src.images(), src.masks(), size, s.batch(), s.lr(method),
                        s.seed(), new StepBudget(s.steps(method), s.maxMinutes(), bar));
                weightsChanged = true;
            }
            default -> throw new IllegalArgumentException(method);
        }
        return new AdaptedNet(net, parentStats, log, bn, weightsChanged);
    }

    /**
     * Leave-series-out Dice of {@code finetune}: the corrected series in up to {@link #MAX_FOLDS} folds; each fold's
     * series are segmented by a model fine-tuned on the other folds' series; the mean over all corrected series.
     */
    private double crossValidatedDice(List<float[]> slices, List<float[]> reference, SourceSlices src,
                                      List<LabelledSeries> labelled, String bnReference) throws IOException {
        int folds = Math.min(MAX_FOLDS, labelled.size());
        double sum = 0;
        for (int f = 0; f < folds; f++) {
            List<LabelledSeries> trainOn = new ArrayList<>();
            List<LabelledSeries> heldOut = new ArrayList<>();
            for (int i = 0; i < labelled.size(); i++) {
                (i % folds == f ? heldOut : trainOn).add(labelled.get(i));
            }
            err.printf(Locale.ROOT, "adapt: finetune fold %d/%d: trained on %d corrected series, scored on %d%n",
                    f + 1, folds, trainOn.size(), heldOut.size());
            Path tmp = Files.createTempFile(req.out().toAbsolutePath().getParent(), ".finetune-fold-", ".onnx");
            try {
                try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
                    AdaptedNet n = adaptInMemory("finetune", manager, slices, reference, src, trainOn, bnReference);
                    OnnxExporter.export(n.net(), parentMeta, tmp);
                }
                try (OrtSegmenter seg = new OrtSegmenter(tmp, s.threads())) {
                    for (LabelledSeries l : heldOut) {
                        TargetImages.Images im = l.images();
                        sum += Dice.volume(seg.segment(im.slices(), im.width(), im.height(), 16), l.masks());
                    }
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
        return sum / labelled.size();
    }

    /** The gate with the parent's side measured once for every candidate. */
    private final class Gate {
        final PromotionGate gate;
        final SourceData source;
        final List<TargetImages.Series> target;
        final Path labels;
        final double[] range;
        final PromotionGate.Side before;

        Gate(PromotionGate gate, Path parent, SourceData source, List<TargetImages.Series> target, Path labels) throws IOException {
            this.gate = gate;
            this.source = source;
            this.target = target;
            this.labels = labels;
            this.range = PromotionGate.plausibleRange(source.all());
            this.before = gate.measure("parent", parent, source.validation(), target, labels, range);
        }

        /** @param crossValidated leave-series-out labelled Dice to judge instead of the candidate's own (finetune) */
        PromotionGate.Decision judge(Adapted a, Double crossValidated) throws IOException {
            try {
                PromotionGate.Side after = gate.measure("candidate " + a.method(), a.file(), source.validation(), target, labels, range);
                double view = a.sourceView() == null ? before.sourceDice()
                        : gate.sourceDice("candidate's source view (its weights, the parent's batch-norm statistics)",
                                a.sourceView(), source.validation());
                TargetProxies.Measures t = after.target();
                if (crossValidated != null) {
                    t = new TargetProxies.Measures(t.meanEntropy(), t.ttaDisagreement(), t.volumes(), crossValidated,
                            t.labelledSeries());
                }
                return gate.judge(before, new PromotionGate.Side(view, t, after.plausibility()), after.sourceDice(),
                        source.validation().size(), target.size(),
                        a.sourceView() == null ? "source view (network weights unchanged: the parent's)" : "source view");
            } finally {
                if (a.sourceView() != null) {
                    Files.deleteIfExists(a.sourceView());
                }
            }
        }
    }

    private void writeCard(Candidate chosen, List<Candidate> all, boolean auto, List<TargetImages.Series> target, int slices,
                           SourceData source, ModelCard parentCard, String parentSha, int size, String bnReference)
            throws IOException {
        Map<String, Object> details = new LinkedHashMap<>();
        if (chosen.bn() != null) {
            details.put("bn_shift_per_unit", chosen.bn().shiftPerUnit());
            details.put("bn_variance_ratio_per_unit", chosen.bn().varianceRatioPerUnit());
        }
        OptimisationLog opt = chosen.optimisation();
        if (opt != null) {
            if (opt.steps() > 0) {
                details.put("loss_first_step", opt.firstLoss());
                details.put("loss_last_steps_ema", opt.lastLoss());
            }
            details.putAll(opt.details());
        }
        details.put("bn_scope", s.scope().name());
        details.put("bn_target_weight", s.bnWeight());
        details.put("bn_reference", bnReference);
        details.put("bn_pixels", s.foreground() ? "foreground (anatomy)" : "all");
        details.put("seed", s.seed());
        details.put("threads", s.threads());
        if (auto) {
            List<Map<String, Object>> cs = new ArrayList<>();
            for (Candidate c : all) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("method", c.method());
                m.put("passed", c.passed());
                m.put("reasons", c.gate() == null ? List.of(c.error() == null ? "no gate" : c.error()) : c.gate().reasons());
                cs.add(m);
            }
            details.put("auto_candidates", cs);
        }
        String stem = req.out().getFileName().toString().replaceFirst("\\.onnx$", "");
        String version = stem + "-" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
                .withZone(ZoneOffset.UTC).format(Instant.now()) + "-" + chosen.sha256().substring(0, 8);
        ModelCard.Adaptation adaptation = new ModelCard.Adaptation(chosen.method(), req.sites(), target.size(), slices,
                TargetImages.seriesHash(target), source == null ? null : source.sites(),
                source == null ? 0 : source.train().size(),
                opt == null ? 0 : opt.steps(), opt == null ? 0 : opt.seconds(),
                opt == null ? "AdaBN only" : opt.stopReason(), chosen.bn() == null ? null : chosen.bn().meanShift(),
                details, chosen.gate());
        ModelCard card = new ModelCard(1, version, DateTimeFormatter.ISO_INSTANT.format(Instant.now()),
                req.out().getFileName().toString(), chosen.sha256(),
                new ModelCard.Parent(parentCard == null ? null : parentCard.version(), parentSha,
                        req.model().getFileName().toString()),
                parentCard == null ? "2D U-Net" : parentCard.architecture()
                        + (chosen.method().equals("normaliser") || chosen.method().equals("standardise")
                        ? "; input normaliser " + InputNormaliser.DESCRIPTION : ""),
                parentCard == null ? new ModelCard.Onnx(OnnxExporter.OPSET, OnnxExporter.INPUT,
                        OnnxExporter.OUTPUT, "[N,1,H,W] float32") : parentCard.onnx(),
                size, OnnxExporter.NORMALISATION, parentCard == null ? null : parentCard.training(),
                new LinkedHashMap<>(), adaptation);
        card.write(ModelCard.pathFor(req.out()));
        err.println("adapt: wrote " + ModelCard.pathFor(req.out()));
    }

    static List<TargetImages.Series> firstPerSite(List<TargetImages.Series> all, int perSite) {
        if (perSite <= 0) {
            return all;
        }
        Map<String, Integer> taken = new TreeMap<>();
        return all.stream().filter(x -> taken.merge(x.site(), 1, Integer::sum) <= perSite).toList();
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
}
