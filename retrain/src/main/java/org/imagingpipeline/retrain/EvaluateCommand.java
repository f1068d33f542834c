package org.imagingpipeline.retrain;

import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code ./pipeline evaluate --model MODEL.onnx --data DIR --sites S[,S]}: per-patient 3D Dice through ONNX
 * Runtime. The last stdout line is the JSON contract {@code {"site","patients","dice_mean","dice_median",...}};
 * with several sites, one line per site and a last line for all of them together.
 */
@Command(name = "evaluate", sortOptions = false, usageHelpAutoWidth = true,
        customSynopsis = "evaluate --model MODEL.onnx --data DIR --sites S[,S] [options]",
        description = {"Per-patient 3D Dice of an ONNX model through ONNX Runtime at native resolution.",
                "One JSON line per site on stdout {\"site\",\"patients\",\"dice_mean\",\"dice_median\",...}; with several"
                        + " sites a last line for all of them together. Logs on stderr. Exit 0 ok, 2 bad input, 1 failure."})
public final class EvaluateCommand {

    @Option(names = "--model", paramLabel = "MODEL.onnx", description = "the model to evaluate")
    String model;

    @Option(names = "--data", paramLabel = "DIR",
            description = "lgg-flair PNG layout (DIR/SITE/PATIENT/*.png with *_mask.png) or kaggle_3m TIFF")
    String data;

    @Option(names = "--sites", paramLabel = "S[,S]", description = "the sites to evaluate on")
    String sites;

    @Option(names = "--patients", paramLabel = "N", description = "only the first N patients (sorted by id) of each site")
    int patients;

    @Option(names = "--patient-ids", paramLabel = "A,B", description = "only these patients (e.g. another model's validation"
            + " patients)")
    String patientIds;

    @Option(names = "--validation-only", description = "only the validation patients listed in the model's card"
            + " (MODEL.card.json)")
    boolean validationOnly;

    @Option(names = "--shift", paramLabel = "SPEC", description = "apply a fixed intensity shift to the images first, e.g."
            + " gamma:1.5,blur:1 (gamma:G, bias:A, noise:SD, blur:SIGMA; see docs/model.md)")
    String shift;

    @Option(names = "--batch", paramLabel = "N", description = "slices per ONNX Runtime call (default: ${DEFAULT-VALUE})")
    int batch = 16;

    @Option(names = "--threads", paramLabel = "N", description = "ONNX Runtime intra-op threads (default: all cores)")
    int threads = Runtime.getRuntime().availableProcessors();

    @Mixin
    Cli.Help help;

    private EvaluateCommand() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] argv, PrintStream out, PrintStream err) {
        EvaluateCommand c = new EvaluateCommand();
        return Cli.run("evaluate", c, argv, out, err, () -> c.evaluate(out, err));
    }

    private int evaluate(PrintStream out, PrintStream err) throws Exception {
        Path modelFile = Path.of(Cli.required(model, "--model"));
        Path dataDir = Path.of(Cli.required(data, "--data"));
        List<String> siteList = Cli.list(sites, "--sites");
        IntensityShift intensityShift = shift == null ? null : IntensityShift.parse(shift);
        Set<String> only = null;
        if (patientIds != null) {
            only = new HashSet<>(Cli.list(patientIds, "--patient-ids"));
        }
        if (validationOnly) {
            Path cardPath = ModelCard.pathFor(modelFile);
            if (!Files.isRegularFile(cardPath)) {
                throw new DataException("--validation-only needs the model card " + cardPath);
            }
            only = new HashSet<>(ModelCard.read(cardPath).training().validationPatients());
        }
        // Check the data before loading the model: both fail clearly, data errors are the commoner.
        List<List<SliceDataset.PatientRef>> perSitePatients = new ArrayList<>();
        for (String site : siteList) {
            List<SliceDataset.PatientRef> p = SliceDataset.discover(dataDir, List.of(site));
            if (only != null) {
                Set<String> keep = only;
                p = p.stream().filter(r -> keep.contains(r.patientId())).toList();
                if (p.isEmpty()) {
                    throw new DataException("none of the selected patients is in site '" + site + "'");
                }
            }
            perSitePatients.add(patients > 0 ? p.subList(0, Math.min(patients, p.size())) : p);
        }
        ObjectMapper json = new ObjectMapper();
        try (OrtSegmenter ort = new OrtSegmenter(modelFile, threads)) {
            String sha = Hashing.sha256Hex(modelFile);
            DiceEvaluator ev = new DiceEvaluator(ort, batch, err, intensityShift);
            List<DiceEvaluator.SiteReport> reports = new ArrayList<>();
            for (int i = 0; i < siteList.size(); i++) {
                DiceEvaluator.SiteReport r = ev.evaluate(siteList.get(i), perSitePatients.get(i), sha);
                reports.add(r);
                out.println(json.writeValueAsString(r));
            }
            if (reports.size() > 1) {
                double[] dice = reports.stream().flatMap(r -> r.perPatient().stream())
                        .mapToDouble(DiceEvaluator.PatientResult::dice).toArray();
                Map<String, Object> all = new LinkedHashMap<>();
                all.put("site", String.join(",", siteList));
                all.put("patients", dice.length);
                all.put("dice_mean", DiceEvaluator.round(Dice.mean(dice)));
                all.put("dice_median", DiceEvaluator.round(Dice.median(dice)));
                Map<String, Object> bySite = new LinkedHashMap<>();
                for (DiceEvaluator.SiteReport r : reports) {
                    bySite.put(r.site(), Map.of("patients", r.patients(), "dice_mean", r.diceMean(),
                            "dice_median", r.diceMedian()));
                }
                all.put("sites", bySite);
                out.println(json.writeValueAsString(all));
            }
        }
        return 0;
    }
}
