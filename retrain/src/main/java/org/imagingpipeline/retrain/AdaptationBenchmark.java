package org.imagingpipeline.retrain;

import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import org.imagingpipeline.shifts.AcquisitionShift;
import org.imagingpipeline.shifts.ShiftSuite;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * {@code ./pipeline bench adaptation}: the pre-registered shift suite ({@link ShiftSuite}, reporting half by default)
 * through the adaptation job exactly as the retraining service runs it. For each shift (and noise seed) the source
 * model's held-out patients (its card's validation patients) are written through the shift as a new "scanner" (16-bit
 * PNGs of 12-bit values, as the service exports DICOM series); then source-only Dice, the job ({@code auto}: every
 * candidate method, the gate, the choice; optionally with a simulated radiologist's corrected masks of the first N
 * series), every candidate's Dice and the Dice of the model that would be served (the chosen one, else the source
 * model). Dice is per patient in 3D through ONNX Runtime. Real sites (default: every site of the data the model was
 * not trained on) go through the same job unshifted. Prints one JSON object (last stdout line) with per-patient values
 * for paired statistics; progress on stderr.
 */
@Command(name = "bench adaptation", sortOptions = false, usageHelpAutoWidth = true,
        customSynopsis = "bench adaptation [--model models/source.onnx] [--data DIR] [options]",
        description = {"The pre-registered shift suite (reporting half by default) through the adaptation job exactly as the"
                + " retraining service runs it: per shift and seed, source-only Dice, the job (auto), every candidate's Dice"
                + " and the served model's, per patient (3D, ONNX Runtime); real unseen sites unshifted.",
                "Progress on stderr; one JSON object as the last stdout line."})
public final class AdaptationBenchmark {

    @Option(names = "--model", paramLabel = "M", description = "the source model (default: ${DEFAULT-VALUE}); its card names"
            + " the held-out patients")
    String modelFile = "models/source.onnx";

    @Option(names = "--data", paramLabel = "DIR", description = "lgg-flair layout data (default: ${DEFAULT-VALUE})")
    String dataDir = "../shared/data/lgg-flair";

    @Option(names = "--half", paramLabel = "H", description = "reporting (default), tuning or all")
    String halfName = "reporting";

    @Option(names = "--shifts", paramLabel = "L", description = "only these suite ids (comma-separated)")
    String shiftIds;

    @Option(names = "--shift-spec", paramLabel = "S",
            description = "instead of the suite: one ad-hoc shift (AcquisitionShift grammar), id \"adhoc\"")
    String shiftSpec;

    @Option(names = "--seeds", paramLabel = "L", description = "noise seeds per shift (default: ${DEFAULT-VALUE})")
    String seeds = "1";

    @Option(names = "--candidates", paramLabel = "L",
            description = "the job's candidate methods (default: the adapt command's auto candidates)")
    String candidates;

    @Option(names = "--expert-series", paramLabel = "N", description = "a simulated radiologist returns corrected masks for"
            + " the first N series (default: ${DEFAULT-VALUE})")
    int expertSeries;

    @Option(names = "--real-sites", paramLabel = "L", description = "unshifted real sites as targets (default: the data's"
            + " sites the model did not train on; 'none' for none)")
    String realSites;

    @Option(names = "--target-sites", paramLabel = "L", description = "only the held-out patients of these sites (default:"
            + " all the card's validation patients)")
    String targetSites;

    @Option(names = "--held-out-card", paramLabel = "C", description = "take the held-out patients (and their sites) from"
            + " another model's card C, so that models trained on different sites are compared on the same patients")
    String heldOutCard;

    @Option(names = "--work", paramLabel = "DIR", description = "scratch folder (default: ${DEFAULT-VALUE})")
    String work = "target/bench-adaptation";

    @Option(names = "--threads", paramLabel = "N", description = "(default: all cores)")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--source-only", description = "no adaptation job: the source model's Dice under every shift only")
    boolean sourceOnlyMode;

    @Option(names = "--jsonl", paramLabel = "FILE",
            description = "also append each shift's (and real site's) row to FILE as soon as it is done")
    Path jsonl;

    @Option(names = "--bn-scope", paramLabel = "S", description = "passed to the job (adapt --bn-scope)")
    String bnScope;

    @Option(names = "--bn-reference", paramLabel = "R", description = "passed to the job (adapt --bn-reference: source or none)")
    String bnReference;

    @Option(names = "--align-levels", paramLabel = "N", description = "passed to the job (adapt --align-levels)")
    Integer alignLevels;

    @Option(names = "--max-steps", paramLabel = "N", description = "passed to the job (adapt --max-steps)")
    Integer maxSteps;

    @Option(names = "--lr", paramLabel = "X", description = "passed to the job (adapt --lr)")
    Double lr;

    @Option(names = "--bn-pixels", paramLabel = "P", description = "passed to the job (adapt --bn-pixels)")
    String bnPixels;

    @Mixin
    Cli.Help help;

    private void stream(Map<String, Object> row) throws IOException {
        if (jsonl != null) {
            Files.writeString(jsonl, new ObjectMapper().writeValueAsString(row) + "\n",
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        }
    }

    private AdaptationBenchmark() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        AdaptationBenchmark b = new AdaptationBenchmark();
        return Cli.run("bench adaptation", b, argv, out, err, () -> {
            out.println(new ObjectMapper().writeValueAsString(b.bench(err)));
            return 0;
        });
    }

    private Map<String, Object> bench(PrintStream err) throws IOException {
        long t0 = System.nanoTime();
        Path model = Path.of(modelFile);
        Path data = Path.of(dataDir);
        if (!Files.isRegularFile(model)) {
            throw new DataException("model not found: " + model);
        }
        ModelCard card = ModelCard.read(ModelCard.pathFor(model));
        ShiftSuite.Half half = ShiftSuite.Half.parse(halfName);
        List<ShiftSuite.Entry> shifts = ShiftSuite.load().half(half);
        if (shiftSpec != null) {
            shifts = List.of(new ShiftSuite.Entry("adhoc", "adhoc", null, ShiftedCopy.parseShift(shiftSpec), ""));
        } else if (shiftIds != null) {
            Set<String> keep = new HashSet<>(Cli.list(shiftIds, "--shifts"));
            shifts = shifts.stream().filter(e -> keep.contains(e.id())).toList();
        }
        List<Long> seedList;
        try {
            seedList = List.of(seeds.split(",")).stream().map(x -> Long.parseLong(x.trim())).toList();
        } catch (NumberFormatException e) {
            throw new DataException("--seeds needs whole numbers, got '" + seeds + "'");
        }
        int expert = expertSeries;
        Path workDir = Path.of(work);
        List<String> trainingSites = card.training().sites();
        ModelCard heldOutFrom = heldOutCard == null ? card : ModelCard.read(Path.of(heldOutCard));
        Set<String> validation = new HashSet<>(heldOutFrom.training().validationPatients());
        List<String> targets = targetSites == null ? heldOutFrom.training().sites() : Cli.list(targetSites, "--target-sites");
        List<SliceDataset.PatientRef> heldOut = SliceDataset.discover(data, targets).stream()
                .filter(p -> validation.contains(p.patientId())).toList();
        if (heldOut.isEmpty()) {
            throw new DataException("no held-out (validation) patients of " + targets + " in " + data);
        }
        List<String> realSiteList;
        if (realSites == null) {
            realSiteList = SliceDataset.sites(data).stream().filter(x -> !trainingSites.contains(x)).toList();
        } else {
            realSiteList = realSites.equals("none") ? List.of() : Cli.list(realSites, "--real-sites");
        }
        AdaptationJob.Settings d = AdaptationJob.Settings.defaults();
        AdaptationJob.Settings settings = new AdaptationJob.Settings(threads, d.batch(), d.seed(), d.maxMinutes(),
                maxSteps, lr == null ? null : (float) (double) lr,
                bnScope == null ? d.scope() : AdaBn.Scope.parse(bnScope), d.bnWeight(), bnReference,
                alignLevels == null ? d.alignLevels() : alignLevels, d.gate(), false, 0,
                candidates == null ? d.candidates() : Cli.list(candidates, "--candidates"), true, d.djlCache(),
                bnPixels == null ? d.foreground() : bnPixels.equals("foreground"));
        DjlRuntime.configure(settings.djlCache(), threads);
        err.printf(Locale.ROOT, "bench adaptation: model %s (%s), %d held-out patients of %s, %d shifts (%s half) x %d seeds, "
                + "candidates %s, %d corrected series; real sites %s; load average %s%n", model, card.version(),
                heldOut.size(), targets, shifts.size(), half == null ? "all" : half.label(), seedList.size(),
                settings.candidates(), expert, realSiteList, loadAverage());

        Map<String, Object> result = new LinkedHashMap<>();
        result.put("benchmark", "adaptation");
        result.put("model", model.toString());
        result.put("model_version", card.version());
        result.put("model_sha256", card.sha256());
        result.put("half", half == null ? "all" : half.label());
        result.put("candidates", settings.candidates());
        result.put("expert_series", expert);
        result.put("threads", threads);
        result.put("load_average_start", loadAverage());
        result.put("patients", heldOut.stream().map(SliceDataset.PatientRef::patientId).toList());

        Map<String, Double> clean = dice(model, heldOut, threads, err);
        double cleanMean = mean(clean.values());
        result.put("clean_dice_mean", r(cleanMean));
        result.put("clean_dice", rounded(clean));

        List<Map<String, Object>> rows = new ArrayList<>();
        List<Double> jobSeconds = new ArrayList<>();
        for (ShiftSuite.Entry e : shifts) {
            for (long seed : seedList) {
                Path dir = workDir.resolve(e.id() + "-s" + seed);
                deleteTree(dir);
                Path site = dir.resolve("data").resolve(e.id());
                ShiftedCopy.write(heldOut, e.shift(), seed, site, true);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("id", e.id());
                row.put("family", e.family());
                row.put("spec", e.shift().spec());
                row.put("seed", seed);
                row.putAll(job(model, dir, e.id(), data, trainingSites, expert, settings, cleanMean, threads, err, jobSeconds));
                rows.add(row);
                stream(row);
                err.printf(Locale.ROOT, "bench adaptation: %s seed %d: source-only %.4f, served %.4f (%s), retention %.3f%n",
                        e.id(), seed, (double) row.get("source_only_mean"), (double) row.get("served_mean"),
                        row.get("chosen"), (double) row.get("retention"));
                deleteTree(dir);
            }
        }
        result.put("shifts", rows);

        List<Map<String, Object>> real = new ArrayList<>();
        for (String siteName : realSiteList) {
            List<SliceDataset.PatientRef> patients = SliceDataset.discover(data, List.of(siteName));
            Path dir = workDir.resolve("real-" + siteName);
            deleteTree(dir);
            ShiftedCopy.write(patients, AcquisitionShift.NONE, 1, dir.resolve("data").resolve(siteName), true);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("site", siteName);
            row.put("patients", patients.size());
            row.putAll(job(model, dir, siteName, data, trainingSites, expert, settings, Double.NaN, threads, err, jobSeconds));
            real.add(row);
            stream(row);
            err.printf(Locale.ROOT, "bench adaptation: real site %s: source-only %.4f, served %.4f (%s)%n", siteName,
                    (double) row.get("source_only_mean"), (double) row.get("served_mean"), row.get("chosen"));
            deleteTree(dir);
        }
        result.put("real_sites", real);

        Map<String, Object> summary = new LinkedHashMap<>();
        List<Double> retention = rows.stream().map(x -> (Double) x.get("retention")).toList();
        List<Double> sourceRetention = rows.stream().map(x -> (Double) x.get("source_only_retention")).toList();
        summary.put("retention_min", r(retention.stream().min(Double::compare).orElse(Double.NaN)));
        summary.put("retention_mean", r(mean(retention)));
        summary.put("source_only_retention_min", r(sourceRetention.stream().min(Double::compare).orElse(Double.NaN)));
        summary.put("source_only_retention_mean", r(mean(sourceRetention)));
        summary.put("shifts_below_0_90", rows.stream().filter(x -> (Double) x.get("retention") < 0.90).map(x -> x.get("id")).toList());
        summary.put("promoted", rows.stream().filter(x -> x.get("chosen") != null).count());
        summary.put("promoted_worse_than_source_only", Stream.concat(rows.stream(), real.stream())
                .filter(x -> x.get("chosen") != null && (Double) x.get("served_mean") < (Double) x.get("source_only_mean"))
                .map(x -> x.containsKey("id") ? x.get("id") : x.get("site")).toList());
        summary.put("job_seconds_mean", r(mean(jobSeconds)));
        summary.put("job_seconds_max", r(jobSeconds.stream().max(Double::compare).orElse(Double.NaN)));
        summary.put("seconds", Math.round((System.nanoTime() - t0) / 1e9));
        summary.put("load_average_end", loadAverage());
        result.put("summary", summary);
        return result;
    }

    /** One adaptation job on DIR/data/SITE: source-only, every candidate and the served model, per patient. */
    private Map<String, Object> job(Path model, Path dir, String site, Path sourceData, List<String> sourceSites, int expert,
                                    AdaptationJob.Settings settings, double cleanMean, int threads, PrintStream err,
                                    List<Double> jobSeconds) throws IOException {
        Path targetData = dir.resolve("data");
        List<SliceDataset.PatientRef> patients = SliceDataset.discover(targetData, List.of(site));
        Path labels = null;
        List<String> expertPatients = new ArrayList<>();
        if (expert > 0) {
            labels = dir.resolve("labels");
            List<SliceDataset.PatientRef> sorted = patients.stream().sorted(Comparator.comparing(SliceDataset.PatientRef::patientId)).toList();
            for (SliceDataset.PatientRef p : sorted.subList(0, Math.min(expert, sorted.size()))) {
                expertPatients.add(p.patientId());
                Path to = Files.createDirectories(labels.resolve(site).resolve(p.patientId()));
                for (SliceDataset.SliceRef s : p.slices()) {
                    Files.createLink(to.resolve(s.mask().getFileName()), s.mask());
                }
            }
        }
        Map<String, Object> row = new LinkedHashMap<>();
        Map<String, Double> sourceOnly = dice(model, patients, threads, err);
        double so = mean(sourceOnly.values());
        row.put("source_only_mean", r(so));
        if (Double.isFinite(cleanMean)) {
            row.put("source_only_retention", r(so / cleanMean));
        }
        if (sourceOnlyMode) {
            row.put("chosen", null);
            row.put("served_mean", r(so));
            if (Double.isFinite(cleanMean)) {
                row.put("retention", r(so / cleanMean));
            }
            row.put("source_only", rounded(sourceOnly));
            row.put("served", rounded(sourceOnly));
            row.put("candidates", Map.of());
            return row;
        }
        Path out = dir.resolve("adapted.onnx");
        long tj = System.nanoTime();
        AdaptationJob.Result res = AdaptationJob.run(new AdaptationJob.Request(model, targetData, List.of(site), "auto", out,
                sourceData, sourceSites, labels, settings), err);
        jobSeconds.add((System.nanoTime() - tj) / 1e9);
        row.put("job_seconds", r1((System.nanoTime() - tj) / 1e9));
        Map<String, Object> cands = new LinkedHashMap<>();
        Map<String, Double> served = sourceOnly;
        for (AdaptationJob.Candidate c : res.candidates()) {
            Map<String, Object> m = new LinkedHashMap<>();
            if (c.error() != null) {
                m.put("error", c.error());
                cands.put(c.method(), m);
                continue;
            }
            Path file = c == res.chosen() ? out : c.file();
            Map<String, Double> dc = dice(file, patients, threads, err);
            m.put("dice_mean", r(mean(dc.values())));
            // The corrected series are training data for finetune: its Dice on them is in-sample.
            if (!expertPatients.isEmpty()) m.put("dice_mean_out_of_sample", r(meanWithout(dc, expertPatients)));
            m.put("passed", c.passed());
            m.put("seconds", c.seconds());
            m.put("gate", c.gate());
            m.put("dice", rounded(dc));
            cands.put(c.method(), m);
            if (c == res.chosen()) {
                served = dc;
            }
        }
        row.put("chosen", res.chosen() == null ? null : res.chosen().method());
        double sv = mean(served.values());
        row.put("served_mean", r(sv));
        if (!expertPatients.isEmpty()) {
            row.put("expert_patients", expertPatients);
            row.put("source_only_mean_out_of_sample", r(meanWithout(sourceOnly, expertPatients)));
            row.put("served_mean_out_of_sample", r(meanWithout(served, expertPatients)));
        }
        if (Double.isFinite(cleanMean)) {
            row.put("retention", r(sv / cleanMean));
        }
        row.put("source_only", rounded(sourceOnly));
        row.put("served", rounded(served));
        row.put("candidates", cands);
        return row;
    }

    /** The mean over the patients not in {@code left} (the corrected series' patients). */
    static double meanWithout(Map<String, Double> perPatient, List<String> left) {
        return mean(perPatient.entrySet().stream().filter(e -> !left.contains(e.getKey())).map(Map.Entry::getValue).toList());
    }

    private static Map<String, Double> dice(Path model, List<SliceDataset.PatientRef> patients, int threads, PrintStream err) {
        PrintStream quiet = new PrintStream(java.io.OutputStream.nullOutputStream());
        try (OrtSegmenter seg = new OrtSegmenter(model, threads)) {
            DiceEvaluator.SiteReport rep = new DiceEvaluator(seg, 16, quiet).evaluate("bench", patients, "");
            Map<String, Double> m = new LinkedHashMap<>();
            rep.perPatient().forEach(p -> m.put(p.patient(), p.dice()));
            return m;
        }
    }

    static String loadAverage() {
        try {
            String[] p = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return p[0] + " " + p[1] + " " + p[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static double mean(java.util.Collection<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    private static Map<String, Double> rounded(Map<String, Double> m) {
        Map<String, Double> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, r(v)));
        return out;
    }

    private static double r(double v) {
        return Double.isFinite(v) ? Math.round(v * 1e4) / 1e4 : v;
    }

    private static double r1(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
