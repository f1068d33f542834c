package org.imagingpipeline.retrain;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code ./pipeline evaluate --model MODEL.onnx --data DIR --sites S[,S]}: per-patient 3D Dice through ONNX
 * Runtime. The last stdout line is the JSON contract {@code {"site","patients","dice_mean","dice_median",...}};
 * with several sites, one line per site and a last line for all of them together.
 */
public final class EvaluateCommand {

    static final String USAGE = """
            usage: evaluate --model MODEL.onnx --data DIR --sites S[,S] [options]
              --patients N        only the first N patients (sorted by id) of each site
              --patient-ids A,B   only these patients (e.g. another model's validation patients)
              --validation-only   only the validation patients listed in the model's card (MODEL.card.json)
              --shift SPEC        apply a fixed intensity shift to the images first, e.g. gamma:1.5,blur:1
                                  (gamma:G, bias:A, noise:SD, blur:SIGMA; see docs/model.md)
              --batch N           slices per ONNX Runtime call (default 16)
              --threads N         ONNX Runtime intra-op threads (default: all cores)
            """;

    private static final Set<String> VALUES = Set.of("--model", "--data", "--sites", "--patients", "--patient-ids",
            "--batch", "--threads", "--shift");
    private static final Set<String> FLAGS = Set.of("--help", "--validation-only");

    private EvaluateCommand() {
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
            Path model = Path.of(a.required("--model"));
            Path data = Path.of(a.required("--data"));
            List<String> sites = a.list("--sites");
            int perSite = a.intValue("--patients", 0);
            int batch = a.intValue("--batch", 16);
            int threads = a.intValue("--threads", Runtime.getRuntime().availableProcessors());
            IntensityShift shift = a.get("--shift", null) == null ? null : IntensityShift.parse(a.get("--shift", null));
            java.util.Set<String> only = null;
            if (a.get("--patient-ids", null) != null) {
                only = new java.util.HashSet<>(a.list("--patient-ids"));
            }
            if (a.flag("--validation-only")) {
                Path cardPath = ModelCard.pathFor(model);
                if (!java.nio.file.Files.isRegularFile(cardPath)) {
                    throw new DataException("--validation-only needs the model card " + cardPath);
                }
                only = new java.util.HashSet<>(ModelCard.read(cardPath).training().validationPatients());
            }
            // Check the data before loading the model: both fail clearly, data errors are the commoner.
            List<List<SliceDataset.PatientRef>> perSitePatients = new ArrayList<>();
            for (String site : sites) {
                List<SliceDataset.PatientRef> p = SliceDataset.discover(data, List.of(site));
                if (only != null) {
                    java.util.Set<String> keep = only;
                    p = p.stream().filter(r -> keep.contains(r.patientId())).toList();
                    if (p.isEmpty()) {
                        throw new DataException("none of the selected patients is in site '" + site + "'");
                    }
                }
                perSitePatients.add(perSite > 0 ? p.subList(0, Math.min(perSite, p.size())) : p);
            }
            ObjectMapper json = new ObjectMapper();
            try (OrtSegmenter ort = new OrtSegmenter(model, threads)) {
                String sha = Hashing.sha256Hex(model);
                DiceEvaluator ev = new DiceEvaluator(ort, batch, err, shift);
                List<DiceEvaluator.SiteReport> reports = new ArrayList<>();
                for (int i = 0; i < sites.size(); i++) {
                    DiceEvaluator.SiteReport r = ev.evaluate(sites.get(i), perSitePatients.get(i), sha);
                    reports.add(r);
                    out.println(json.writeValueAsString(r));
                }
                if (reports.size() > 1) {
                    double[] dice = reports.stream().flatMap(r -> r.perPatient().stream())
                            .mapToDouble(DiceEvaluator.PatientResult::dice).toArray();
                    Map<String, Object> all = new LinkedHashMap<>();
                    all.put("site", String.join(",", sites));
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
        } catch (DataException e) {
            err.println("evaluate: error: " + e.getMessage());
            return 2;
        } catch (Exception | LinkageError e) {
            err.println("evaluate: failed: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }
}
