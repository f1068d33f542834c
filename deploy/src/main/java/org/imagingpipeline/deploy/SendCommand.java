package org.imagingpipeline.deploy;

import com.pixelmed.dicom.SetOfDicomFiles;
import com.pixelmed.network.MultipleInstanceTransferStatusHandlerWithFileName;
import com.pixelmed.network.StorageSOPClassSCU;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code ./pipeline send --data DIR [--to HOST:PORT] [--ae AE] [--calling-ae AE]}: sends every DICOM Part-10
 * file under DIR by real C-STORE in one association (PixelMed's SCU) and prints JSON counts as the last line.
 * Files that are not DICOM (README, LICENSE, ...) are counted as skipped.
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

    static int run(String[] args) throws Exception {
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
        SetOfDicomFiles set = new SetOfDicomFiles();
        int skipped = 0;
        for (Path f : files) {
            if (isPart10(f)) set.add(f.toString());
            else skipped++;
        }
        if (set.isEmpty()) {
            boolean images = files.stream().anyMatch(f -> f.toString().toLowerCase(Locale.ROOT).matches(".*\\.(png|tif|tiff)$"));
            throw new IllegalArgumentException("no DICOM files under " + data + (images
                    ? " (image folders are turned into DICOM by the scanner simulator, which is not built yet)" : ""));
        }
        System.err.printf("send: %d DICOM files (%d other files skipped) -> %s@%s:%d%n", set.size(), skipped, calledAe, host, port);
        int[] counts = new int[3]; // completed, failed, warning
        long t0 = System.nanoTime();
        int total = set.size();
        new StorageSOPClassSCU(host, port, calledAe, callingAe, set, 0, new MultipleInstanceTransferStatusHandlerWithFileName() {
            @Override
            public void updateStatus(int remaining, int completed, int failed, int warning, String sop, String file, boolean success) {
                counts[0] = completed;
                counts[1] = failed;
                counts[2] = warning;
                if (!success) System.err.printf("send: FAILED %s (%s)%n", file, sop);
                int done = completed + failed + warning;
                if (done % 100 == 0 || remaining == 0) System.err.printf("send: %d/%d%n", done, total);
            }
        });
        double secs = (System.nanoTime() - t0) / 1e9;
        int notAnswered = total - counts[0] - counts[1] - counts[2];
        System.out.printf(Locale.ROOT, "{\"files\":%d,\"dicom\":%d,\"sent\":%d,\"failed\":%d,\"warning\":%d,\"not_sent\":%d,"
                        + "\"skipped_not_dicom\":%d,\"seconds\":%.2f,\"instances_per_second\":%.1f}%n",
                files.size(), total, counts[0], counts[1], counts[2], notAnswered, skipped, secs, counts[0] / Math.max(secs, 1e-9));
        return counts[1] == 0 && notAnswered == 0 ? 0 : 1;
    }

    static boolean isPart10(Path f) {
        try (InputStream in = Files.newInputStream(f)) {
            byte[] h = in.readNBytes(132);
            return h.length == 132 && h[128] == 'D' && h[129] == 'I' && h[130] == 'C' && h[131] == 'M';
        } catch (IOException e) {
            return false;
        }
    }
}
