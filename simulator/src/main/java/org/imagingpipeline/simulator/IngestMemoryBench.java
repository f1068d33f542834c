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
 * {@code ./pipeline bench ingest-memory}: N associations at once, each sending one synthetic multi-frame instance of
 * S bytes, generated as it is sent (the sender holds none of it), to a running ingest; ingest's heap is sampled from
 * its /q/metrics meanwhile. Prints one JSON object: every status, the time, the throughput and the peak heap in use.
 * Arguments: HOST PORT METRICS_URL ASSOCIATIONS BYTES_EACH XMX_LABEL.
 */
public final class IngestMemoryBench {
    private static final String SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7";

    private IngestMemoryBench() {
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        URI metrics = URI.create(args[2]);
        int associations = Integer.parseInt(args[3]);
        long bytesEach = Long.parseLong(args[4]);
        String xmx = args[5];

        AtomicLong peakHeap = new AtomicLong();
        HttpClient http = HttpClient.newHttpClient();
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

        ExecutorService pool = Executors.newFixedThreadPool(associations);
        long t0 = System.nanoTime();
        List<Future<String>> results = new ArrayList<>();
        for (int i = 0; i < associations; i++) {
            results.add(pool.submit(() -> send(host, port, bytesEach)));
        }
        List<String> statuses = new ArrayList<>();
        for (Future<String> f : results) statuses.add(f.get());
        double seconds = (System.nanoTime() - t0) / 1e9;
        pool.shutdown();
        sampler.interrupt();
        sampler.join();
        long stored = statuses.stream().filter("0x0000"::equals).count();
        double mib = 1024.0 * 1024.0;
        System.out.printf(java.util.Locale.ROOT,
                "{\"benchmark\": \"ingest-memory\", \"associations\": %d, \"bytes_each\": %d, \"stored\": %d, \"statuses\": \"%s\","
                        + " \"seconds\": %.1f, \"mib_per_s\": %.1f, \"ingest_xmx\": \"%s\", \"heap_used_before_mib\": %.1f,"
                        + " \"peak_heap_used_mib\": %.1f, \"heap_sampling\": \"jvm_memory_used_bytes{area=heap} summed over pools, every 200 ms\"}%n",
                associations, bytesEach, stored, String.join(",", statuses), seconds, associations * bytesEach / mib / seconds, xmx,
                heapBefore / mib, peakHeap.get() / mib);
        System.exit(stored == associations ? 0 : 1);
    }

    /** One association, one instance: a small header, then pixel data generated on the fly. Returns the status in hex. */
    private static String send(String host, int port, long bytes) throws Exception {
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
        byte[] head = header.toByteArray();
        long length = head.length + 12L + pixelBytes;
        InputStream data = new SequenceInputStream(new java.io.ByteArrayInputStream(concat(head, px.array())), new Pattern(pixelBytes));
        StoreScu.Context ctx = new StoreScu.Context(SECONDARY_CAPTURE, TransferSyntaxes.EXPLICIT_VR_LE);
        try (StoreScu scu = StoreScu.open(host, port, "INGEST", "BENCH", List.of(ctx), Duration.ofMinutes(10))) {
            return String.format("0x%04X", scu.store(ctx, sop, data, length).status());
        }
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
