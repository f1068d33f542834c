package org.imagingpipeline.simulator;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.imagingpipeline.dicomnet.MalformedDicomException;
import org.imagingpipeline.dicomnet.Part10;
import org.imagingpipeline.dicomnet.StoreScu;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./pipeline send --data DIR [--sites S[,S]] [--patients N] [--profile NAME] [--to HOST:PORT] [--ae AE]
 * [--calling-ae AE] [--include-patients ID,..] [--exclude-patients ID,..] [--export DIR [--export-label NAME]]
 * [--expert-labels DIR [--expert-series N]] [--uid-namespace NAME]}: the scanner simulator. A folder of DICOM files is sent as it is (each file's own transfer
 * syntax proposed, nothing transcoded; README/LICENSE files skipped); a folder of images (lgg-flair PNG or
 * kaggle_3m TIFF) is turned into DICOM MR series, one per patient ({@link ScannerSimulator}), optionally through
 * a simulated new scanner ({@link AcquisitionProfile}). Everything goes by real C-STORE; JSON counts are the
 * last line of stdout. Exit status 0 only when every instance was stored.
 */
@Command(name = "send", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The scanner simulator: DICOM files as they are, or image folders (lgg-flair PNG, kaggle_3m TIFF) as"
                + " DICOM MR series (one per patient, InstitutionName = site), by real C-STORE; prints JSON counts."})
public final class SendCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "a folder of DICOM files, or of image folders by site")
    Path data;

    @Option(names = "--to", defaultValue = "127.0.0.1:${env:INGEST_DICOM_PORT:-11112}", description = "HOST:PORT (default: ${DEFAULT-VALUE})")
    String to;

    @Option(names = "--ae", defaultValue = "INGEST", description = "called AE title (default: ${DEFAULT-VALUE})")
    String calledAe;

    @Option(names = "--calling-ae", defaultValue = "PIPELINE_SEND", description = "calling AE title (default: ${DEFAULT-VALUE})")
    String callingAe;

    @Option(names = "--sites", split = ",", description = "image folders: the sites to send (default: all)")
    List<String> sites = List.of();

    @Option(names = "--patients", defaultValue = "0", description = "image folders: patients per site (0 = all)")
    int patients;

    @Option(names = "--profile", description = "image folders: a simulated new scanner, NAME or NAME:k=v,.. (gamma, biasfield,"
            + " lowfield, newscanner)")
    String profile;

    @Option(names = "--include-patients", split = ",", description = "image folders: only these patient folders")
    Set<String> include = Set.of();

    @Option(names = "--exclude-patients", split = ",", description = "image folders: not these patient folders")
    Set<String> exclude = Set.of();

    @Option(names = "--export", description = "image folders: also write what was sent, with its masks, here")
    Path export;

    @Option(names = "--export-label", description = "the export's site folder name (default: the site)")
    String exportLabel;

    @Option(names = "--expert-labels", description = "write the first --expert-series series' masks here, as a radiologist's corrections")
    Path expertLabels;

    @Option(names = "--expert-series", defaultValue = "0", description = "how many series get expert masks")
    int expertSeries;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the simulated scanner's noise")
    long seed;

    @Option(names = "--uid-namespace", description = "image folders: a name that enters every UID, to send the same images again"
            + " as new studies (load and outage benchmarks); the same name gives the same UIDs")
    String uidNamespace;

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new SendCommand());
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            if (e instanceof IllegalArgumentException) {
                System.err.println("send: " + e.getMessage());
                return 2;
            }
            System.err.println("send: failed: " + e);
            return 1;
        });
        System.exit(cl.execute(args));
    }

    /** Parses the arguments and sends, throwing what went wrong (for callers in the same JVM). */
    public static int run(String[] args) throws Exception {
        SendCommand c = new SendCommand();
        new CommandLine(c).parseArgs(args);
        return c.call();
    }

    /** What was sent: the JSON counts line and the number of instances that failed. */
    public record Result(String json, int failed) {
    }

    @Override
    public Integer call() throws Exception {
        Result r = send();
        System.out.println(r.json());
        return r.failed() == 0 ? 0 : 1;
    }

    /** One object to send: its presentation context, SOP Instance UID and Part-10 bytes. */
    interface Sendable {
        StoreScu.Context context();

        String sopInstanceUid();

        byte[] part10() throws IOException;

        int datasetOffset();

        String label();
    }

    record FileItem(Path file, Part10.Meta meta) implements Sendable {
        public StoreScu.Context context() {
            return new StoreScu.Context(meta.mediaStorageSopClassUid(), meta.transferSyntaxUid());
        }

        public String sopInstanceUid() {
            return meta.mediaStorageSopInstanceUid();
        }

        public byte[] part10() throws IOException {
            return Files.readAllBytes(file);
        }

        public int datasetOffset() {
            return meta.datasetOffset();
        }

        public String label() {
            return file.toString();
        }
    }

    record MemoryItem(StoreScu.Context context, String sopInstanceUid, byte[] bytes, int datasetOffset, String label) implements Sendable {
        public byte[] part10() {
            return bytes;
        }
    }

    /** Sends everything; the counts as one JSON line (not printed). */
    public Result send() throws Exception {
        if (!Files.isDirectory(data)) throw new IllegalArgumentException("--data " + data + " is not a folder");
        int colon = to.lastIndexOf(':');
        if (colon < 1) throw new IllegalArgumentException("--to must be HOST:PORT, got " + to);
        String host = to.substring(0, colon);
        int port = Integer.parseInt(to.substring(colon + 1));

        List<Path> files;
        try (Stream<Path> s = Files.walk(data)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        List<Sendable> items = new ArrayList<>();
        int skipped = 0;
        for (Path f : files) {
            Part10.Meta meta = meta(f);
            if (meta != null && meta.mediaStorageSopClassUid() != null && meta.mediaStorageSopInstanceUid() != null) items.add(new FileItem(f, meta));
            else skipped++;
        }
        String mode = "dicom-files";
        if (items.isEmpty()) {
            // Image folders: the scanner simulator turns them into DICOM MR series, one per patient.
            ImageFolders.PatientFilter filter = new ImageFolders.PatientFilter(trimmed(include), trimmed(exclude));
            SentSeriesExport exp = export != null ? new SentSeriesExport(export, exportLabel) : null;
            ExpertCorrections expert = expertLabels != null ? new ExpertCorrections(expertLabels, expertSeries) : null;
            for (ScannerSimulator.Instance i : ScannerSimulator.convert(data, sites, patients, filter, profile, seed, exp, expert, uidNamespace)) {
                Part10.Meta meta = Part10.readMeta(i.part10());
                items.add(new MemoryItem(new StoreScu.Context(i.sopClassUid(), meta.transferSyntaxUid()), i.sopInstanceUid(),
                        i.part10(), meta.datasetOffset(), i.label()));
            }
            skipped = 0;
            mode = profile == null ? "image-folders" : "image-folders, SIMULATED profile " + profile;
        } else {
            Map<String, Boolean> imagesOnly = Map.of("sites", !sites.isEmpty(), "patients", patients != 0, "profile", profile != null,
                    "include-patients", !include.isEmpty(), "exclude-patients", !exclude.isEmpty(), "export", export != null,
                    "export-label", exportLabel != null, "expert-labels", expertLabels != null, "expert-series", expertSeries != 0);
            for (Map.Entry<String, Boolean> o : imagesOnly.entrySet()) {
                if (o.getValue()) {
                    throw new IllegalArgumentException("--" + o.getKey() + " applies to image folders; " + data + " holds DICOM files, sent as they are");
                }
            }
        }
        System.err.printf("send: %d instances (%s; %d other files skipped) -> %s@%s:%d%n", items.size(), mode, skipped, calledAe, host, port);
        int[] c = send(items, host, port, calledAe, callingAe);
        double secs = c[3] / 1000.0;
        String json = String.format(Locale.ROOT, "{\"mode\":\"%s\",\"files\":%d,\"dicom\":%d,\"sent\":%d,\"warning\":%d,\"failed\":%d,"
                        + "\"skipped_not_dicom\":%d,\"seconds\":%.2f,\"instances_per_second\":%.1f}",
                mode, files.size(), items.size(), c[0], c[1], c[2], skipped, secs, c[0] / Math.max(secs, 1e-9));
        return new Result(json, c[2]);
    }

    /** Sends in one association per 128 distinct (SOP class, transfer syntax) pairs; returns {sent, warned, failed, millis}. */
    static int[] send(List<Sendable> items, String host, int port, String calledAe, String callingAe) throws IOException {
        Map<StoreScu.Context, List<Sendable>> byContext = new LinkedHashMap<>();
        for (Sendable it : items) byContext.computeIfAbsent(it.context(), k -> new ArrayList<>()).add(it);
        List<StoreScu.Context> contexts = new ArrayList<>(byContext.keySet());
        int sent = 0, failed = 0, warned = 0, done = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < contexts.size(); i += 128) {
            List<StoreScu.Context> chunk = contexts.subList(i, Math.min(contexts.size(), i + 128));
            try (StoreScu scu = StoreScu.open(host, port, calledAe, callingAe, chunk, Duration.ofSeconds(60))) {
                for (StoreScu.Context c : chunk) {
                    for (Sendable it : byContext.get(c)) {
                        done++;
                        if (!scu.accepts(c)) {
                            failed++;
                            System.err.printf("send: FAILED %s: the peer accepts no presentation context for %s in %s%n", it.label(),
                                    c.sopClassUid(), c.transferSyntaxUid());
                            continue;
                        }
                        StoreScu.Response r = scu.store(c, it.sopInstanceUid(), it.part10(), it.datasetOffset());
                        if (r.success()) sent++;
                        else if (r.warning()) warned++;
                        else {
                            failed++;
                            System.err.printf("send: FAILED %s: status 0x%04X %s%n", it.label(), r.status(),
                                    r.errorComment() == null ? "" : r.errorComment());
                        }
                        if (done % 200 == 0) System.err.printf("send: %d/%d%n", done, items.size());
                    }
                }
            }
        }
        return new int[] {sent, warned, failed, (int) ((System.nanoTime() - t0) / 1_000_000)};
    }

    private static Set<String> trimmed(Set<String> ids) {
        return Set.copyOf(ids.stream().map(String::trim).filter(x -> !x.isEmpty()).toList());
    }

    /** The Part-10 meta of a file, or null when it is not a DICOM Part-10 file. */
    static Part10.Meta meta(Path f) {
        try (InputStream in = Files.newInputStream(f)) {
            byte[] head = in.readNBytes(64 * 1024);
            return Part10.readMeta(head);
        } catch (IOException | MalformedDicomException | RuntimeException e) {
            return null;
        }
    }
}
