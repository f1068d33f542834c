package org.imagingpipeline.dicomnet;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The committed seeds of {@link DicomParsersFuzzTest} (target/file name -> bytes), made by the project's own writers:
 * an A-ASSOCIATE-RQ, a C-STORE-RQ command set, a small Part-10 MR object with a sequence and pixel data (synthetic, no
 * patient), the PDU stream of one association. {@code FuzzSeedsTest} checks the committed files are exactly these;
 * {@code main(dir)} writes them (the command that made them: run it with dicom-net's test classpath and the inputs folder).
 */
final class FuzzSeeds {
    private FuzzSeeds() {
    }

    static final String MR = "1.2.840.10008.5.1.4.1.1.4";
    static final String UID = "2.25.1234567890";

    static Map<String, byte[]> all() {
        Map<String, byte[]> out = new LinkedHashMap<>();
        byte[] rq = PduWriter.associateRq("INGEST", "SCANNER", List.of(new AssociateRequest.PresentationContext(1, MR,
                List.of(TransferSyntaxes.EXPLICIT_VR_LE, TransferSyntaxes.IMPLICIT_VR_LE))), 16384, Part10.IMPLEMENTATION_CLASS_UID,
                Part10.IMPLEMENTATION_VERSION);
        out.put("associateRequest/associate-rq-body", Arrays.copyOfRange(rq, 6, rq.length));
        byte[] command = CommandSet.storeRequest(1, MR, UID);
        out.put("commandSet/c-store-rq", command);
        byte[] dataset = dataset();
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes(Part10.header(MR, UID, TransferSyntaxes.EXPLICIT_VR_LE, "SEED"));
        file.writeBytes(dataset);
        out.put("part10File/explicit-le-with-sequence", file.toByteArray());
        ByteArrayOutputStream pdus = new ByteArrayOutputStream();
        pdus.writeBytes(rq);
        try {
            PduWriter.writePData(pdus, 1, true, command, 16384);
            PduWriter.writePData(pdus, 1, false, dataset, 16384);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        pdus.writeBytes(PduWriter.releaseRq());
        out.put("pduStream/associate-store-release", pdus.toByteArray());
        // FuzzedDataProvider takes pickValue's choice from the input's end (0: explicit VR LE); the dataset is the rest
        byte[] withChoice = Arrays.copyOf(dataset, dataset.length + 1);
        out.put("datasetInEveryTransferSyntax/explicit-le-dataset", withChoice);
        out.put("deflatedDatasetStream/deflated-dataset", compress(dataset, false));
        out.put("gzipBody/gzip-part10-file", compress(file.toByteArray(), true));
        return out;
    }

    /** Raw deflate (the DICOM deflated transfer syntax) or gzip (an HTTP body), default level: deterministic bytes. */
    private static byte[] compress(byte[] data, boolean gzip) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (java.io.OutputStream z = gzip ? new java.util.zip.GZIPOutputStream(out)
                : new java.util.zip.DeflaterOutputStream(out, new java.util.zip.Deflater(java.util.zip.Deflater.DEFAULT_COMPRESSION, true))) {
            z.write(data);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    /** SOP class and instance, a sequence with one item, a synthetic name, a 4 x 4 16-bit image. */
    private static byte[] dataset() {
        ByteArrayOutputStream ds = new ByteArrayOutputStream();
        element(ds, 0x0008, 0x0016, "UI", (MR + "\0").getBytes(StandardCharsets.US_ASCII));
        element(ds, 0x0008, 0x0018, "UI", UID.getBytes(StandardCharsets.US_ASCII));
        ByteArrayOutputStream item = new ByteArrayOutputStream();
        element(item, 0x0008, 0x0100, "SH", "CODE".getBytes(StandardCharsets.US_ASCII));
        byte[] it = item.toByteArray();
        ByteArrayOutputStream sequence = new ByteArrayOutputStream();
        sequence.writeBytes(new byte[] {(byte) 0xfe, (byte) 0xff, 0x00, (byte) 0xe0, (byte) it.length, 0, 0, 0});
        sequence.writeBytes(it);
        element(ds, 0x0008, 0x1032, "SQ", sequence.toByteArray());
        element(ds, 0x0010, 0x0010, "PN", "SYNTHETIC^SEED".getBytes(StandardCharsets.US_ASCII));
        element(ds, 0x0028, 0x0010, "US", new byte[] {4, 0});
        element(ds, 0x0028, 0x0011, "US", new byte[] {4, 0});
        element(ds, 0x0028, 0x0100, "US", new byte[] {16, 0});
        element(ds, 0x7fe0, 0x0010, "OW", new byte[32]);
        return ds.toByteArray();
    }

    /** One explicit VR little endian element. */
    private static void element(ByteArrayOutputStream o, int group, int element, String vr, byte[] value) {
        o.writeBytes(new byte[] {(byte) group, (byte) (group >> 8), (byte) element, (byte) (element >> 8), (byte) vr.charAt(0),
                (byte) vr.charAt(1)});
        if (List.of("SQ", "OB", "OW", "UN").contains(vr)) {
            int n = value.length;
            o.writeBytes(new byte[] {0, 0, (byte) n, (byte) (n >> 8), (byte) (n >> 16), (byte) (n >> 24)});
        } else {
            o.writeBytes(new byte[] {(byte) value.length, (byte) (value.length >> 8)});
        }
        o.writeBytes(value);
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        for (Map.Entry<String, byte[]> e : all().entrySet()) {
            Path f = dir.resolve(e.getKey());
            Files.createDirectories(f.getParent());
            Files.write(f, e.getValue());
        }
    }
}
