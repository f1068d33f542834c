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
 * {@code ./pipeline send --data DIR [--to HOST:PORT] [--ae AE] [--calling-ae AE]}: sends every DICOM Part-10
 * file under DIR by real C-STORE, exactly as stored (each file's own transfer syntax is proposed, nothing is
 * transcoded), and prints JSON counts as the last line of stdout. Files that are not DICOM (README, LICENSE)
 * are counted as skipped. Exit status 0 only when every DICOM file was stored.
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

    record Item(Path file, Part10.Meta meta) {
        StoreScu.Context context() {
            return new StoreScu.Context(meta.mediaStorageSopClassUid(), meta.transferSyntaxUid());
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
        for (String unsupported : List.of("sites", "patients", "profile")) {
            if (a.containsKey(unsupported)) {
                throw new IllegalArgumentException("--" + unsupported + " needs the image-folder scanner simulator, which is not built yet;"
                        + " this version sends DICOM files as they are");
            }
        }

        List<Path> files;
        try (Stream<Path> s = Files.walk(data)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        List<Item> items = new ArrayList<>();
        int skipped = 0;
        for (Path f : files) {
            Part10.Meta meta = meta(f);
            if (meta != null && meta.mediaStorageSopClassUid() != null && meta.mediaStorageSopInstanceUid() != null) items.add(new Item(f, meta));
            else skipped++;
        }
        if (items.isEmpty()) {
            boolean images = files.stream().anyMatch(f -> f.toString().toLowerCase(Locale.ROOT).matches(".*\\.(png|tif|tiff)$"));
            throw new IllegalArgumentException("no DICOM files under " + data + (images
                    ? " (image folders are turned into DICOM by the scanner simulator, which is not built yet)" : ""));
        }
        System.err.printf("send: %d DICOM files (%d other files skipped) -> %s@%s:%d%n", items.size(), skipped, calledAe, host, port);

        // One association per 128 distinct (SOP class, transfer syntax) pairs, in file order.
        Map<StoreScu.Context, List<Item>> byContext = new LinkedHashMap<>();
        for (Item it : items) byContext.computeIfAbsent(it.context(), k -> new ArrayList<>()).add(it);
        List<StoreScu.Context> contexts = new ArrayList<>(byContext.keySet());
        int sent = 0, failed = 0, warned = 0, done = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < contexts.size(); i += 128) {
            List<StoreScu.Context> chunk = contexts.subList(i, Math.min(contexts.size(), i + 128));
            try (StoreScu scu = StoreScu.open(host, port, calledAe, callingAe, chunk, Duration.ofSeconds(60))) {
                for (StoreScu.Context c : chunk) {
                    for (Item it : byContext.get(c)) {
                        done++;
                        if (!scu.accepts(c)) {
                            failed++;
                            System.err.printf("send: FAILED %s: the peer accepts no presentation context for %s in %s%n", it.file(),
                                    c.sopClassUid(), c.transferSyntaxUid());
                            continue;
                        }
                        byte[] bytes = Files.readAllBytes(it.file());
                        StoreScu.Response r = scu.store(c, it.meta().mediaStorageSopInstanceUid(), bytes, it.meta().datasetOffset());
                        if (r.success()) sent++;
                        else if (r.warning()) warned++;
                        else {
                            failed++;
                            System.err.printf("send: FAILED %s: status 0x%04X %s%n", it.file(), r.status(),
                                    r.errorComment() == null ? "" : r.errorComment());
                        }
                        if (done % 200 == 0) System.err.printf("send: %d/%d%n", done, items.size());
                    }
                }
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "{\"files\":%d,\"dicom\":%d,\"sent\":%d,\"warning\":%d,\"failed\":%d,\"skipped_not_dicom\":%d,"
                        + "\"seconds\":%.2f,\"instances_per_second\":%.1f}%n",
                files.size(), items.size(), sent, warned, failed, skipped, secs, sent / Math.max(secs, 1e-9));
        return failed == 0 ? 0 : 1;
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
