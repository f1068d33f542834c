package org.imagingpipeline.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.simulator.PhantomDataset;
import org.imagingpipeline.simulator.SendCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./pipeline demo [--data DIR] [--out DIR]}: the whole loop on one machine.
 * <ol>
 *   <li>data: {@code --data DIR} (image folders: lgg-flair PNG or kaggle_3m), else ../shared/data/lgg-flair, else
 *       SYNTHETIC phantoms generated here (said so in the terminal and the report);</li>
 *   <li>a source model: {@code SOURCE_MODEL}, else the committed models/source.onnx for ../shared/data/lgg-flair, else
 *       target/models/source[-synthetic].onnx, trained once ({@code ./pipeline train}, progress bar) and reused; its
 *       card's training sites are the KNOWN reference, the other sites are sent as new sites;</li>
 *   <li>the stack ({@code ./pipeline up} with the demo's settings): broker, EHR stand-in, ingest, streams, inference,
 *       retrain, fhir-bridge, each its own process, under OUT/stack;</li>
 *   <li>traffic by real C-STORE (the scanner simulator): the source sites' training patients (the KNOWN reference) and
 *       their held-out patients, then the new sites, then held-out patients of the first source site through a
 *       SIMULATED new scanner;</li>
 *   <li>waits for drift -> adaptation -> promotion, then sends that scanner's later series (now served by the adapted
 *       model), waits for every report in the EHR;</li>
 *   <li>Dice per site with the masks the demo holds (never the pipeline; {@code ./pipeline evaluate}),
 *       OUT/summary.json and OUT/index.html;</li>
 *   <li>stops the stack ({@code ./pipeline down}), also on Ctrl-C.</li>
 * </ol>
 * Progress on stderr; the last stdout line is the brief summary (JSON).
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Starts the stack, replays scanner traffic from several sites, lets drift -> adaptation -> promotion"
                + " happen, measures Dice, writes OUT/summary.json and OUT/index.html, stops the stack."},
        footer = {"Environment (defaults): DEMO_REFERENCE_PATIENTS (20), DEMO_SITE_PATIENTS (10), DEMO_PROFILE"
                + " (newscanner:g=0.6,a=0.35,blur=1,noise=0.04), DEMO_ADAPT_METHOD (auto), DEMO_EXPERT_SERIES (3; 0 = the"
                + " label-free proxies decide), DEMO_ADAPT_TIMEOUT (600 s), DEMO_REPORT_TIMEOUT (600 s), DEMO_SOURCE_SITE and"
                + " DEMO_NEW_SITES (with --data), DEMO_TRAIN_MINUTES, SOURCE_MODEL, SHARED_DATA, and the stack's ports"
                + " (KAFKA_PORT, INGEST_DICOM_PORT, ...: docs/operations.md)."})
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--data", description = "image folders (lgg-flair PNG or kaggle_3m TIFF); default: ../shared/data/lgg-flair,"
            + " else synthetic phantoms")
    Path data;

    @Option(names = "--out", description = "where summary.json, index.html and the stack's state go (default: target/demo)")
    Path out;

    @Option(names = "--reference-patients", defaultValue = "${env:DEMO_REFERENCE_PATIENTS:-20}",
            description = "training patients of the source site sent as the KNOWN reference (default: ${DEFAULT-VALUE})")
    int referencePatients;

    @Option(names = "--site-patients", defaultValue = "${env:DEMO_SITE_PATIENTS:-10}",
            description = "patients sent per new site (default: ${DEFAULT-VALUE})")
    int sitePatients;

    @Option(names = "--profile", defaultValue = "${env:DEMO_PROFILE:-newscanner:g=0.6,a=0.35,blur=1,noise=0.04}",
            description = "the simulated new scanner (default: ${DEFAULT-VALUE}: every part at its single-profile strength;"
                    + " the milder default newscanner costs the source model almost nothing)")
    String profile;

    @Option(names = "--adapt-method", defaultValue = "${env:DEMO_ADAPT_METHOD:-auto}",
            description = "the retrain service's automatic method (default: ${DEFAULT-VALUE})")
    String adaptMethod;

    @Option(names = "--expert-series", defaultValue = "${env:DEMO_EXPERT_SERIES:-3}",
            description = "series of the new scanner whose expert masks a (simulated) radiologist returns; 0 = none"
                    + " (default: ${DEFAULT-VALUE})")
    int expertSeries;

    @Option(names = "--adapt-timeout", defaultValue = "${env:DEMO_ADAPT_TIMEOUT:-600}",
            description = "seconds to wait for a promoted model (default: ${DEFAULT-VALUE})")
    long adaptTimeout;

    @Option(names = "--report-timeout", defaultValue = "${env:DEMO_REPORT_TIMEOUT:-600}",
            description = "seconds to wait for every report in the EHR (default: ${DEFAULT-VALUE})")
    long reportTimeout;

    @Option(names = "--keep-up", defaultValue = "${env:DEMO_KEEP_UP:-false}",
            description = "leave the stack running at the end, to look around in the console (stop it with ./pipeline down"
                    + " and the same PIPELINE_HOME; default: ${DEFAULT-VALUE})")
    boolean keepUp;

    private final Path root = repoRoot();
    private final Map<String, String> env = new LinkedHashMap<>();
    private final Map<String, Instant> phases = new LinkedHashMap<>();

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(new CommandLine(new DemoCommand()).execute(args));
    }

    /** Where the data comes from and what the demo calls its sites. */
    private record DataChoice(Path dir, String sourceSite, List<String> newSites, String description, boolean synthetic,
                              Path model) {
    }

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        out = Files.createDirectories(out == null ? root.resolve("target/demo") : out).toAbsolutePath().normalize();
        Path home = out.resolve("stack");
        env.put("PIPELINE_HOME", home.toString());
        // The stack's broker takes SASL_SSL clients only: the demo reads topics as the read-only cli principal.
        TopicSnapshot.useCredentials(home.resolve("secrets").resolve("kafka").resolve("cli.properties"));
        pipeline(List.of("down"), true);
        deleteRecursively(home);
        for (String f : List.of("sent", "dice.jsonl", "summary.json", "index.html", "evaluate.log")) deleteRecursively(out.resolve(f));

        DataChoice d = chooseData();
        log("demo: data: " + d.description());
        log("demo: simulated new scanner: held-out " + d.sourceSite() + " patients through --profile " + profile
                + " (marked SIMULATED)");
        Path model = ensureSourceModel(d);
        Path card = model.resolveSibling(model.getFileName().toString().replaceFirst("\\.onnx$", "") + ".card.json");
        if (!Files.isRegularFile(card)) throw new IllegalStateException("model card missing: " + card);
        List<String> heldOut = new ArrayList<>();
        JsonNode training = EventJson.mapper().readTree(card.toFile()).path("training");
        training.path("validation_patients").forEach(p -> heldOut.add(p.asText()));
        if (heldOut.isEmpty()) throw new IllegalStateException("the card " + card + " lists no validation patients");
        // The model's own training sites are the KNOWN reference; the demo's new sites are the others.
        List<String> sourceSites = new ArrayList<>();
        training.path("sites").forEach(n -> sourceSites.add(n.asText()));
        if (sourceSites.isEmpty()) sourceSites.add(d.sourceSite());
        List<String> newSites = d.newSites().stream().filter(x -> !sourceSites.contains(x)).toList();
        log("demo: source model " + model + " trained on " + String.join(",", sourceSites) + " (held-out patients: "
                + String.join(",", heldOut) + "); new sites " + String.join(",", newSites));
        List<String> firstHalf = new ArrayList<>();
        List<String> secondHalf = new ArrayList<>();
        for (int i = 0; i < heldOut.size(); i++) (i % 2 == 0 ? firstHalf : secondHalf).add(heldOut.get(i));

        // ---- the stack, stopped at the end (also on Ctrl-C: the JVM's shutdown hook)
        env.put("SOURCE_MODEL", model.toString());
        env.put("STREAMS_ASSEMBLY_INACTIVITY", System.getenv().getOrDefault("STREAMS_ASSEMBLY_INACTIVITY", "4s"));
        env.put("STREAMS_DRIFT_MODEL_CARD", card.toString());
        env.put("STREAMS_DRIFT_TRAINING_DATA", d.dir().toString());
        env.put("RETRAIN_MIN_SERIES", System.getenv().getOrDefault("RETRAIN_MIN_SERIES", "3"));
        env.put("RETRAIN_AUTO_METHOD", adaptMethod);
        env.put("RETRAIN_SOURCE_DATA", d.dir().toString());
        env.put("RETRAIN_SOURCE_SITES", String.join(",", sourceSites));
        List<String> expertOpts = List.of();
        if (expertSeries > 0) {
            Path labels = home.resolve("expert-labels");
            env.put("RETRAIN_EXPERT_LABELS", labels.toString());
            expertOpts = List.of("--expert-labels", labels.toString(), "--expert-series", Integer.toString(expertSeries));
        } else {
            env.put("RETRAIN_EXPERT_LABELS", "");
        }
        Thread stopper = new Thread(() -> {
            log("demo: stopping the stack");
            try {
                pipeline(List.of("down"), false);
            } catch (Exception e) {
                log("demo: stopping the stack failed: " + e);
            }
        }, "demo-stop");
        Runtime.getRuntime().addShutdownHook(stopper);
        phase("starting the stack");
        if (pipeline(List.of("up"), false) != 0) throw new IllegalStateException("./pipeline up failed");
        // The services' APIs need a bearer token (docs/security.md); the demo only reads them: role viewer.
        ApiToken viewer = new ApiToken(() -> token("viewer"));
        log("demo: the ML-ops console: " + http("CONSOLE_HTTP_PORT", 8086) + "/ (sign in with a token from"
                + " PIPELINE_HOME=" + home + " ./pipeline token mlops viewer)");

        // ---- traffic
        // The simulated scanner images held-out patients of the first source site (one institution: one new domain).
        String src = sourceSites.get(0);
        for (String site : sourceSites) {
            phase("source site " + site + ": training patients (the KNOWN reference)");
            send(site + " reference", List.of("--data", d.dir().toString(), "--sites", site, "--exclude-patients",
                    String.join(",", heldOut), "--patients", Integer.toString(referencePatients)));
        }
        for (String site : sourceSites) {
            phase("source site " + site + ": held-out patients (must not be flagged)");
            send(site + " held-out", List.of("--data", d.dir().toString(), "--sites", site, "--include-patients",
                    String.join(",", heldOut), "--export-label", site + "-HELDOUT"));
        }
        for (String site : newSites) {
            phase("new site " + site);
            send(site, List.of("--data", d.dir().toString(), "--sites", site, "--patients", Integer.toString(sitePatients)));
        }
        phase("SIMULATED new scanner (" + profile + "): first held-out " + src + " patients");
        if (expertSeries > 0) {
            log("demo: a radiologist returns corrected masks for the first " + expertSeries + " series of the new scanner"
                    + " (SIMULATED: the dataset's expert masks); the promotion gate decides on their Dice");
        }
        List<String> scanner = new ArrayList<>(List.of("--data", d.dir().toString(), "--sites", src, "--include-patients",
                String.join(",", firstHalf), "--profile", profile, "--export-label", src + "-HELDOUT"));
        scanner.addAll(expertOpts);
        send(src + " through " + profile, scanner);

        // ---- drift -> adaptation -> promotion, then more of the new scanner
        phase("waiting for drift -> adaptation -> promotion");
        Map<String, ModelVersion.Serving> promoted = DemoProbe.waitPromoted(bootstrap(), http("RETRAIN_HTTP_PORT", 8084), viewer, adaptTimeout, 1);
        log("demo: promoted: " + EventJson.mapper().writeValueAsString(promoted));
        if (promoted.isEmpty()) log("demo: WARNING: no adapted model was promoted within " + adaptTimeout + "s (see the report's evidence)");
        if (!secondHalf.isEmpty()) {
            phase("SIMULATED new scanner (" + profile + "): later held-out " + src + " patients (after promotion)");
            send(src + " through " + profile + ", later", List.of("--data", d.dir().toString(), "--sites", src, "--include-patients",
                    String.join(",", secondHalf), "--profile", profile, "--export-label", src + "-HELDOUT"));
        }
        phase("waiting for every report in the EHR");
        Path sent = out.resolve("sent");
        log("demo: " + DemoProbe.waitReports(new EhrReports(ehrUrl()), SentSeries.read(sent), reportTimeout));
        // The promoted scanner's series sent before its promotion are segmented again by the new model (retrain's
        // replay): their reports in the EHR are superseded by the new model's.
        phase("waiting for the earlier reports of the promoted scanner to be amended");
        log("demo: amended: " + DemoProbe.waitAmended(new EhrReports(ehrUrl()), bootstrap(), SentSeries.read(sent), reportTimeout));

        // ---- Dice with the demo's own masks: the source model on every site folder, each promoted model on its domain's
        phase("measuring Dice with the masks the demo holds");
        List<DemoReport.Dice> dice = new ArrayList<>();
        TreeSet<String> folders = new TreeSet<>();
        SentSeries.read(sent).forEach(s -> folders.add(s.siteFolder()));
        folders.removeAll(sourceSites);
        String sourceSha = sha256(model);
        for (String f : folders) dice(dice, f, model, sourceSha, "source");
        Map<String, List<String>> byDomain = DemoProbe.domainFolders(bootstrap(), SentSeries.read(sent));
        for (Map.Entry<String, ModelVersion.Serving> e : DemoProbe.promoted(bootstrap()).entrySet()) {
            ModelVersion.Serving s = e.getValue();
            for (String f : byDomain.getOrDefault(e.getKey(), List.of())) dice(dice, f, Path.of(URI.create(s.uri())), s.sha256(), s.version());
        }

        // ---- report
        phase("writing the report");
        ObjectNode brief = DemoReport.write(new DemoReport.Inputs(out, bootstrap(), http("STREAMS_HTTP_PORT", 8082), viewer, ehrUrl(),
                http("FHIR_BRIDGE_HTTP_PORT", 8085) + "/q/metrics", sent, dice, phases, d.synthetic(), d.description()));
        log("");
        log("demo: done in " + (System.nanoTime() - started) / 1_000_000_000L + " s. " + brief);
        if (d.synthetic()) log("demo: NOTE: SYNTHETIC data (no ../shared on this machine)");
        log("demo: summary: " + out.resolve("summary.json") + "   report: " + out.resolve("index.html"));
        if (keepUp) {
            Runtime.getRuntime().removeShutdownHook(stopper);
            log("demo: the stack keeps running (--keep-up): console " + http("CONSOLE_HTTP_PORT", 8086) + "/, token:"
                    + " PIPELINE_HOME=" + home + " ./pipeline token mlops viewer; stop it: PIPELINE_HOME=" + home + " ./pipeline down");
        }
        System.out.println(EventJson.mapper().writeValueAsString(brief));
        return 0;
    }

    private DataChoice chooseData() throws IOException {
        Path models = root.resolve("target/models");
        Path sourceModel = System.getenv("SOURCE_MODEL") == null || System.getenv("SOURCE_MODEL").isBlank() ? null
                : Path.of(System.getenv("SOURCE_MODEL")).toAbsolutePath();
        if (data != null) {
            if (!Files.isDirectory(data)) throw new CommandLine.ParameterException(new CommandLine(this), "--data " + data + " is not a folder");
            return new DataChoice(data.toAbsolutePath().normalize(), System.getenv().getOrDefault("DEMO_SOURCE_SITE", "DU"),
                    List.of(System.getenv().getOrDefault("DEMO_NEW_SITES", "HT,CS").split(",")), "image folders under " + data, false,
                    sourceModel != null ? sourceModel : models.resolve("source.onnx"));
        }
        String shared = System.getenv().getOrDefault("SHARED_DATA", root.getParent().resolve("shared/data").toString());
        Path lgg = Path.of(shared).resolve("lgg-flair");
        if (Files.isDirectory(lgg)) {
            // The committed source model (models/source.onnx, its card names its sites); SOURCE_MODEL overrides it.
            return new DataChoice(lgg, "DU", List.of("DU", "HT", "CS"), "real brain MRI (FLAIR) from three hospitals,"
                    + " ../shared/data/lgg-flair", false, sourceModel != null ? sourceModel : root.resolve("models/source.onnx"));
        }
        log("demo: no shared data at " + shared + ": generating SYNTHETIC brain-like phantoms with lesions (not patient data)");
        Path phantoms = out.resolve("phantoms");
        deleteRecursively(phantoms);
        PhantomDataset.generateDefault(phantoms);
        return new DataChoice(phantoms, "SYNTHA", List.of("SYNTHB", "SYNTHC"), "SYNTHETIC phantoms generated by the demo (no"
                + " ../shared data on this machine); source site SYNTHA, new sites SYNTHB and SYNTHC", true,
                sourceModel != null ? sourceModel : models.resolve("source-synthetic.onnx"));
    }

    /** The source model, trained once on the source site ({@code ./pipeline train}, progress on stderr) when missing. */
    private Path ensureSourceModel(DataChoice d) throws Exception {
        Path model = d.model();
        if (Files.isRegularFile(model)) return model;
        log("demo: no source model at " + model + ": training it once on " + d.sourceSite() + " (progress bar below; cached for later runs)");
        String minutes = System.getenv().getOrDefault("DEMO_TRAIN_MINUTES", d.synthetic() ? "6" : "25");
        Files.createDirectories(model.getParent());
        if (pipeline(List.of("train", "--data", d.dir().toString(), "--sites", d.sourceSite(), "--out", model.toString(),
                "--max-minutes", minutes), false) != 0) {
            throw new IllegalStateException("training the source model failed");
        }
        return model;
    }

    private void send(String label, List<String> args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--to", "127.0.0.1:" + port("INGEST_DICOM_PORT", 11112), "--export",
                out.resolve("sent").toString()));
        all.addAll(args);
        SendCommand cmd = new SendCommand();
        new CommandLine(cmd).parseArgs(all.toArray(String[]::new));
        SendCommand.Result r = cmd.send();
        if (r.failed() > 0) throw new IllegalStateException("sending " + label + " failed: " + r.json());
        log("demo: sent " + label + ": " + r.json());
    }

    /** {@code ./pipeline evaluate} of one model on one site folder of the export; one Dice entry, or a log line. */
    private void dice(List<DemoReport.Dice> dice, String folder, Path model, String sha, String version) throws Exception {
        Path result = Files.createTempFile(out, "evaluate", ".out");
        try {
            int rc = run(List.of(root.resolve("pipeline").toString(), "evaluate", "--model", model.toString(), "--data",
                    out.resolve("sent").toString(), "--sites", folder), result.toFile(), out.resolve("evaluate.log").toFile());
            List<String> lines = Files.readAllLines(result).stream().filter(l -> !l.isBlank()).toList();
            if (rc != 0 || lines.isEmpty()) {
                log("demo: evaluating " + version + " on " + folder + " failed (see " + out.resolve("evaluate.log") + ")");
                return;
            }
            JsonNode r = EventJson.mapper().readTree(lines.get(lines.size() - 1));
            if (!r.has("dice_mean")) return;
            dice.add(new DemoReport.Dice(folder, sha, version, r.path("dice_mean").asDouble(), r.path("dice_median").asDouble(),
                    r.path("patients").asInt()));
            Files.writeString(out.resolve("dice.jsonl"), EventJson.mapper().writeValueAsString(Map.of("folder", folder, "sha256", sha,
                    "version", version, "result", r)) + "\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
            log("demo: Dice of " + version + " on " + folder + ": " + r);
        } finally {
            Files.deleteIfExists(result);
        }
    }

    /** A phase: a line in the terminal and a mark on the report's throughput chart. */
    private void phase(String label) {
        log("");
        log("demo: == " + label + " ==");
        phases.put(label, Instant.now());
    }

    /** A bearer token for the role from {@code ./pipeline token} (the demo's PIPELINE_HOME); kept off every output. */
    private String token(String role) throws IOException, InterruptedException {
        Path file = Files.createTempFile(out, "token", ".out");
        try {
            int rc = run(List.of(root.resolve("pipeline").toString(), "token", role, "--minutes", Long.toString(ApiToken.LIFETIME.toMinutes())),
                    file.toFile(), null);
            List<String> lines = Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList();
            if (rc != 0 || lines.isEmpty()) throw new IllegalStateException("./pipeline token " + role + " failed (exit " + rc + ")");
            return lines.get(lines.size() - 1).trim();
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** {@code ./pipeline VERB ...} with the demo's environment; stdout to stderr (the demo's stdout is its JSON line). */
    private int pipeline(List<String> verb, boolean quiet) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(root.resolve("pipeline").toString());
        cmd.addAll(verb);
        File sink = quiet ? new File("/dev/null") : null;
        return run(cmd, sink, sink);
    }

    /** Runs a command with the demo's environment; null files = the demo's stderr. */
    private int run(List<String> cmd, File stdout, File stderr) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile());
        pb.environment().putAll(env);
        pb.environment().put("PIPELINE_SKIP_BUILD", "1");
        // The demo's stdout carries only its JSON line: a command's stdout goes to the demo's stderr (appended, so a
        // stderr redirected to a file is not truncated).
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(stdout == null ? new File("/dev/stderr") : stdout));
        pb.redirectError(stderr == null ? ProcessBuilder.Redirect.INHERIT : ProcessBuilder.Redirect.appendTo(stderr));
        Process p = pb.start();
        try {
            return p.waitFor();
        } catch (InterruptedException e) {
            p.destroy();
            p.waitFor(60, TimeUnit.SECONDS);
            throw e;
        }
    }

    private static int port(String name, int fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : Integer.parseInt(v.trim());
    }

    private static String bootstrap() {
        return "127.0.0.1:" + port("KAFKA_PORT", 9092);
    }

    private static String http(String portVariable, int fallback) {
        return "http://127.0.0.1:" + port(portVariable, fallback);
    }

    private static String ehrUrl() {
        String base = System.getenv("FHIR_BASE_URL");
        return base != null && !base.isBlank() ? base : http("EHR_PORT", 8090) + "/fhir";
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
        }
    }

    private static void log(String line) {
        System.err.println(line);
    }

    /** The checkout: {@code pipeline.repo.root} or the working directory (./pipeline runs from the root). */
    private static Path repoRoot() {
        String p = System.getProperty("pipeline.repo.root");
        Path start = (p != null && !p.isBlank() ? Path.of(p) : Path.of("")).toAbsolutePath();
        for (Path d = start; d != null; d = d.getParent()) if (Files.isRegularFile(d.resolve("pipeline"))) return d;
        throw new IllegalStateException("repository root (with ./pipeline) not found from " + start);
    }
}
