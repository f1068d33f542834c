package org.imagingpipeline.deploy;

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
import java.util.stream.Stream;
import org.imagingpipeline.dicomnet.MalformedDicomException;
import org.imagingpipeline.dicomnet.Part10;
import org.imagingpipeline.dicomnet.StoreScu;

/**
 * {@code ./pipeline send --data DIR [--sites S[,S]] [--patients N] [--profile NAME] [--to HOST:PORT] [--ae AE]
 * [--calling-ae AE] [--include-patients ID,..] [--exclude-patients ID,..] [--export DIR [--export-label NAME]]
 * [--expert-labels DIR [--expert-series N]]}: the scanner simulator. A folder of DICOM files is sent as it is (each file's own transfer
 * syntax proposed, nothing transcoded; README/LICENSE files skipped); a folder of images (lgg-flair PNG or
 * kaggle_3m TIFF) is turned into DICOM MR series, one per patient ({@link ScannerSimulator}), optionally through
 * a simulated new scanner ({@link AcquisitionProfile}). Everything goes by real C-STORE; JSON counts are the
 * last line of stdout. Exit status 0 only when every instance was stored.
 */
public final class SendCommand {
    private SendCommand() {
    }

    public static void main(String[] args) {
        try {
            System.exit(run(args));
        } catch (IllegalArgumentException e) {
            System.err.println("send: " + e.getMessage());
            System.exit(2);
        } catch (Exception e) {
            System.err.println("send: failed: " + e);
            System.exit(1);
        }
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

    public static int run(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args);
        Path data = Path.of(Args.required(a, "data"));
        if (!Files.isDirectory(data)) throw new IllegalArgumentException("--data " + data + " is not a folder");
        String to = a.getOrDefault("to", "127.0.0.1:" + System.getenv().getOrDefault("INGEST_DICOM_PORT", "11112"));
        int colon = to.lastIndexOf(':');
        if (colon < 1) throw new IllegalArgumentException("--to must be HOST:PORT, got " + to);
        String host = to.substring(0, colon);
        int port = Integer.parseInt(to.substring(colon + 1));
        String calledAe = a.getOrDefault("ae", "INGEST");
        String callingAe = a.getOrDefault("calling-ae", "PIPELINE_SEND");

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
            List<String> sites = a.containsKey("sites") ? List.of(a.get("sites").split(",")) : List.of();
            int patients = Integer.parseInt(a.getOrDefault("patients", "0"));
            String profile = a.get("profile");
            ImageFolders.PatientFilter filter = new ImageFolders.PatientFilter(idSet(a.get("include-patients")), idSet(a.get("exclude-patients")));
            SentSeriesExport export = a.containsKey("export") ? new SentSeriesExport(Path.of(a.get("export")), a.get("export-label")) : null;
            ExpertCorrections expert = a.containsKey("expert-labels")
                    ? new ExpertCorrections(Path.of(a.get("expert-labels")), Integer.parseInt(a.getOrDefault("expert-series", "0"))) : null;
            for (ScannerSimulator.Instance i : ScannerSimulator.convert(data, sites, patients, filter, profile,
                    Long.parseLong(a.getOrDefault("seed", "1")), export, expert)) {
                Part10.Meta meta = Part10.readMeta(i.part10());
                items.add(new MemoryItem(new StoreScu.Context(i.sopClassUid(), meta.transferSyntaxUid()), i.sopInstanceUid(),
                        i.part10(), meta.datasetOffset(), i.label()));
            }
            skipped = 0;
            mode = profile == null ? "image-folders" : "image-folders, SIMULATED profile " + profile;
        } else {
            for (String imagesOnly : List.of("sites", "patients", "profile", "include-patients", "exclude-patients", "export", "export-label",
                    "expert-labels", "expert-series")) {
                if (a.containsKey(imagesOnly)) {
                    throw new IllegalArgumentException("--" + imagesOnly + " applies to image folders; " + data + " holds DICOM files, sent as they are");
                }
            }
        }
        System.err.printf("send: %d instances (%s; %d other files skipped) -> %s@%s:%d%n", items.size(), mode, skipped, calledAe, host, port);
        int[] c = send(items, host, port, calledAe, callingAe);
        double secs = c[3] / 1000.0;
        System.out.printf(Locale.ROOT, "{\"mode\":\"%s\",\"files\":%d,\"dicom\":%d,\"sent\":%d,\"warning\":%d,\"failed\":%d,"
                        + "\"skipped_not_dicom\":%d,\"seconds\":%.2f,\"instances_per_second\":%.1f}%n",
                mode, files.size(), items.size(), c[0], c[1], c[2], skipped, secs, c[0] / Math.max(secs, 1e-9));
        return c[2] == 0 ? 0 : 1;
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

    private static java.util.Set<String> idSet(String csv) {
        if (csv == null || csv.isBlank()) return java.util.Set.of();
        return java.util.Set.copyOf(java.util.Arrays.stream(csv.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList());
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
