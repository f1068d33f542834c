package org.imagingpipeline.simulator;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeFactory;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomOutputStream;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.imagingpipeline.dicomnet.StoreScu;
import org.imagingpipeline.dicomnet.TransferSyntaxes;

/**
 * {@code ./pipeline bench ingest-memory}: N senders at once, each sending one synthetic multi-frame instance of S bytes,
 * generated as it is sent (the sender holds none of it), to a running ingest - first N C-STORE associations, then, when
 * a STOW-RS URL is given, N STOW-RS requests (chunked, one Part-10 file each); ingest's heap is sampled from its
 * /q/metrics meanwhile. Prints one JSON object: per path every status, the time, the throughput and the peak heap in use.
 * Arguments: HOST PORT METRICS_URL SENDERS BYTES_EACH XMX_LABEL [STOW_URL]; the STOW path's bearer token (role scanner)
 * comes in the environment as BENCH_TOKEN, not on the command line.
 */
public final class IngestMemoryBench {
    private static final String SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7";

    private IngestMemoryBench() {
    }

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Exception e) {
            // A failed sender leaves its pool thread streaming (an HttpClient upload does not stop on its own): exit, do
            // not linger as a process that keeps generating a gigabyte (it once did, for an hour).
            e.printStackTrace();
            System.exit(2);
        }
    }

    private static void run(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        URI metrics = URI.create(args[2]);
        int senders = Integer.parseInt(args[3]);
        long bytesEach = Long.parseLong(args[4]);
        String xmx = args[5];
        URI stow = args.length > 6 ? URI.create(args[6]) : null;
        // HTTP/1.1, as scanners' STOW-RS clients send: one connection per request. (Java's default, h2c, multiplexes the
        // eight 1 GiB uploads on one connection; the server ended that connection with GOAWAY mid-upload, 2026-12-06.)
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        Round dimse = round(http, metrics, senders, bytesEach, () -> storeByDimse(host, port, bytesEach));
        Round stowRound = null;
        if (stow != null) {
            String token = System.getenv("BENCH_TOKEN");
            if (token == null || token.isBlank()) throw new IllegalArgumentException("BENCH_TOKEN (a scanner token) is needed for STOW-RS");
            Thread.sleep(3000); // let the first round's garbage go before the second's baseline
            stowRound = round(http, metrics, senders, bytesEach, () -> storeByStow(http, stow, token, bytesEach));
        }
        boolean allStored = dimse.allStored() && (stowRound == null || stowRound.allStored());
        System.out.printf(java.util.Locale.ROOT,
                "{\"benchmark\": \"ingest-memory\", \"senders\": %d, \"bytes_each\": %d, \"ingest_xmx\": \"%s\", \"all_stored\": %s,"
                        + " \"peak_heap_used_mib\": %.1f, \"dimse\": %s, \"stow\": %s,"
                        + " \"heap_sampling\": \"jvm_memory_used_bytes{area=heap} summed over pools, every 200 ms\"}%n",
                senders, bytesEach, xmx, allStored, Math.max(dimse.peakHeapMib(), stowRound == null ? 0 : stowRound.peakHeapMib()),
                dimse.json(senders, bytesEach), stowRound == null ? "null" : stowRound.json(senders, bytesEach));
        System.exit(allStored ? 0 : 1);
    }

    /** One path's result: what each sender was answered ("0x0000" / "200" when stored), seconds, heap before and at peak. */
    record Round(List<String> statuses, double seconds, double heapBeforeMib, double peakHeapMib) {
        boolean allStored() {
            return statuses.stream().allMatch(s -> s.equals("0x0000") || s.equals("200"));
        }

        String json(int senders, long bytesEach) {
            return String.format(java.util.Locale.ROOT, "{\"stored\": %d, \"statuses\": \"%s\", \"seconds\": %.1f, \"mib_per_s\": %.1f,"
                            + " \"heap_used_before_mib\": %.1f, \"peak_heap_used_mib\": %.1f}",
                    statuses.stream().filter(s -> s.equals("0x0000") || s.equals("200")).count(), String.join(",", statuses), seconds,
                    senders * bytesEach / (1024.0 * 1024.0) / seconds, heapBeforeMib, peakHeapMib);
        }
    }

    private static Round round(HttpClient http, URI metrics, int senders, long bytesEach, java.util.concurrent.Callable<String> send)
            throws Exception {
        AtomicLong peakHeap = new AtomicLong();
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    peakHeap.accumulateAndGet(heapUsed(http, metrics), Math::max);
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    // a missed sample
                }
            }
        }, "heap-sampler");
        sampler.setDaemon(true);
        long heapBefore = heapUsed(http, metrics);
        sampler.start();
        ExecutorService pool = Executors.newFixedThreadPool(senders);
        long t0 = System.nanoTime();
        List<Future<String>> results = new ArrayList<>();
        for (int i = 0; i < senders; i++) results.add(pool.submit(send));
        List<String> statuses = new ArrayList<>();
        for (Future<String> f : results) statuses.add(f.get());
        double seconds = (System.nanoTime() - t0) / 1e9;
        pool.shutdown();
        sampler.interrupt();
        sampler.join();
        double mib = 1024.0 * 1024.0;
        return new Round(statuses, seconds, heapBefore / mib, peakHeap.get() / mib);
    }

    /** A synthetic instance: its UID, its dataset's attributes up to and including the pixel data element's header. */
    private record Synthetic(String sop, byte[] head, long pixelBytes) {
        long datasetLength() {
            return head.length + pixelBytes;
        }

        InputStream dataset() {
            return new SequenceInputStream(new java.io.ByteArrayInputStream(head), new Pattern(pixelBytes));
        }
    }

    /** One association, one instance. Returns the status in hex. */
    private static String storeByDimse(String host, int port, long bytes) throws Exception {
        Synthetic x = synthetic(bytes);
        StoreScu.Context ctx = new StoreScu.Context(SECONDARY_CAPTURE, TransferSyntaxes.EXPLICIT_VR_LE);
        try (StoreScu scu = StoreScu.open(host, port, "INGEST", "BENCH", List.of(ctx), Duration.ofMinutes(10))) {
            return String.format("0x%04X", scu.store(ctx, x.sop(), x.dataset(), x.datasetLength()).status());
        }
    }

    /** One STOW-RS request (chunked transfer), one Part-10 file. Returns the HTTP status. */
    private static String storeByStow(HttpClient http, URI stow, String token, long bytes) throws Exception {
        Synthetic x = synthetic(bytes);
        byte[] meta = org.imagingpipeline.dicomnet.Part10.header(SECONDARY_CAPTURE, x.sop(), TransferSyntaxes.EXPLICIT_VR_LE, "BENCH");
        byte[] open = concat("--bench\r\nContent-Type: application/dicom\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII), meta);
        byte[] close = "\r\n--bench--\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        HttpRequest rq = HttpRequest.newBuilder(stow).timeout(Duration.ofMinutes(10))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "multipart/related; type=\"application/dicom\"; boundary=bench")
                .header("Accept", "application/dicom+json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new SequenceInputStream(java.util.Collections.enumeration(List.of(
                        new java.io.ByteArrayInputStream(open), x.dataset(), new java.io.ByteArrayInputStream(close))))))
                .build();
        return Integer.toString(http.send(rq, HttpResponse.BodyHandlers.discarding()).statusCode());
    }

    /** A secondary-capture instance of about {@code bytes} bytes: 1024 x 1024 8-bit frames, as many as fit. */
    private static Synthetic synthetic(long bytes) throws Exception {
        String sop = "2.25." + new java.math.BigInteger(1, ByteBuffer.allocate(16).putLong(UUID.randomUUID().getMostSignificantBits())
                .putLong(UUID.randomUUID().getLeastSignificantBits()).array());
        int side = 1024;
        long frameBytes = (long) side * side;
        long frames = Math.max(1, bytes / frameBytes);
        long pixelBytes = Math.multiplyExact(frames, frameBytes);
        AttributeList l = new AttributeList();
        put(l, TagFromName.SOPClassUID, SECONDARY_CAPTURE);
        put(l, TagFromName.SOPInstanceUID, sop);
        put(l, TagFromName.StudyInstanceUID, sop + ".1");
        put(l, TagFromName.SeriesInstanceUID, sop + ".2");
        put(l, TagFromName.Modality, "OT");
        put(l, TagFromName.PatientID, "BENCH-MEMORY");
        put(l, TagFromName.SamplesPerPixel, "1");
        put(l, TagFromName.PhotometricInterpretation, "MONOCHROME2");
        put(l, TagFromName.NumberOfFrames, Long.toString(frames));
        put(l, TagFromName.Rows, Integer.toString(side));
        put(l, TagFromName.Columns, Integer.toString(side));
        put(l, TagFromName.BitsAllocated, "8");
        put(l, TagFromName.BitsStored, "8");
        put(l, TagFromName.HighBit, "7");
        put(l, TagFromName.PixelRepresentation, "0");
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        DicomOutputStream dos = new DicomOutputStream(header, null, TransferSyntax.ExplicitVRLittleEndian);
        l.write(dos);
        dos.close();
        ByteBuffer px = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        px.putShort((short) 0x7fe0).putShort((short) 0x0010).put((byte) 'O').put((byte) 'B').putShort((short) 0).putInt((int) pixelBytes);
        return new Synthetic(sop, concat(header.toByteArray(), px.array()), pixelBytes);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static void put(AttributeList l, AttributeTag tag, String v) throws Exception {
        Attribute a = AttributeFactory.newAttribute(tag);
        a.addValue(v);
        l.put(a);
    }

    /** Sum of jvm_memory_used_bytes{area="heap",...} in ingest's Prometheus metrics. */
    private static long heapUsed(HttpClient http, URI metrics) throws Exception {
        String body = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
        double sum = 0;
        for (String line : body.split("\n")) {
            if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return (long) sum;
    }

    /** {@code length} bytes of a repeated random 1 MiB block: content that is not all zeros, made as it is read. */
    private static final class Pattern extends InputStream {
        private static final byte[] BLOCK = new byte[1 << 20];

        static {
            new Random(20).nextBytes(BLOCK);
        }

        private long left;
        private long pos;

        Pattern(long length) {
            this.left = length;
        }

        @Override
        public int read() {
            if (left <= 0) return -1;
            left--;
            return BLOCK[(int) (pos++ % BLOCK.length)] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (left <= 0) return -1;
            int n = (int) Math.min(len, left);
            for (int done = 0; done < n; ) {
                int at = (int) (pos % BLOCK.length);
                int k = Math.min(n - done, BLOCK.length - at);
                System.arraycopy(BLOCK, at, b, off + done, k);
                done += k;
                pos += k;
            }
            left -= n;
            return n;
        }
    }
}
