package org.imagingpipeline.dicomnet;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * DICOM Part-10 file framing (PS3.10 7.1): the 128-byte preamble, "DICM" and the file meta information group
 * (0002,xxxx, always Explicit VR Little Endian). Reads the meta of received files and writes it for datasets
 * that arrived over DIMSE.
 */
public final class Part10 {
    public static final String IMPLEMENTATION_CLASS_UID = "2.25.200839428376254817340162098413371960131";
    public static final String IMPLEMENTATION_VERSION = "IMGPIPE_01";

    private Part10() {
    }

    /** The file meta of a Part-10 file and where its dataset starts. */
    public record Meta(String mediaStorageSopClassUid, String mediaStorageSopInstanceUid, String transferSyntaxUid,
                       int datasetOffset) {
    }

    /** Parses the preamble and file meta; {@link MalformedDicomException} if the bytes are not a Part-10 file. */
    public static Meta readMeta(byte[] file) throws MalformedDicomException {
        if (file.length < 132 || file[128] != 'D' || file[129] != 'I' || file[130] != 'C' || file[131] != 'M') {
            throw new MalformedDicomException("not a DICOM Part-10 file (no DICM prefix at byte 128)");
        }
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        b.position(132);
        String sopClass = null;
        String sopInstance = null;
        String ts = null;
        while (b.remaining() >= 8) {
            int start = b.position();
            int group = b.getShort() & 0xffff;
            if (group != 0x0002) {
                b.position(start);
                break;
            }
            int element = b.getShort() & 0xffff;
            String vr = new String(new byte[] {b.get(), b.get()}, StandardCharsets.US_ASCII);
            long len;
            if (vr.equals("OB") || vr.equals("OW") || vr.equals("UN") || vr.equals("SQ") || vr.equals("UT")) {
                b.getShort();
                if (b.remaining() < 4) throw new MalformedDicomException("file meta truncated");
                len = b.getInt() & 0xffffffffL;
            } else {
                len = b.getShort() & 0xffff;
            }
            if (len > b.remaining()) throw new MalformedDicomException("file meta element (0002," + hex(element) + ") overruns the file");
            byte[] v = new byte[(int) len];
            b.get(v);
            String s = AssociateRequest.trim(new String(v, StandardCharsets.US_ASCII));
            switch (element) {
                case 0x0002 -> sopClass = s;
                case 0x0003 -> sopInstance = s;
                case 0x0010 -> ts = s;
                default -> {
                }
            }
        }
        if (ts == null || ts.isEmpty()) throw new MalformedDicomException("file meta has no Transfer Syntax UID (0002,0010)");
        return new Meta(sopClass, sopInstance, ts, b.position());
    }

    /** Preamble + file meta for a dataset received over the network. */
    public static byte[] header(String sopClassUid, String sopInstanceUid, String transferSyntaxUid, String sourceAeTitle) {
        ByteArrayOutputStream meta = new ByteArrayOutputStream(256);
        element(meta, 0x0001, "OB", new byte[] {0, 1});
        element(meta, 0x0002, "UI", uid(sopClassUid));
        element(meta, 0x0003, "UI", uid(sopInstanceUid));
        element(meta, 0x0010, "UI", uid(transferSyntaxUid));
        element(meta, 0x0012, "UI", uid(IMPLEMENTATION_CLASS_UID));
        element(meta, 0x0013, "SH", text(IMPLEMENTATION_VERSION));
        if (sourceAeTitle != null && !sourceAeTitle.isEmpty()) element(meta, 0x0016, "AE", text(sourceAeTitle));
        ByteArrayOutputStream out = new ByteArrayOutputStream(132 + 12 + meta.size());
        out.writeBytes(new byte[128]);
        out.writeBytes("DICM".getBytes(StandardCharsets.US_ASCII));
        element(out, 0x0000, "UL", ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(meta.size()).array());
        out.writeBytes(meta.toByteArray());
        return out.toByteArray();
    }

    private static void element(ByteArrayOutputStream out, int element, String vr, byte[] value) {
        ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort((short) 2).putShort((short) element).put(vr.getBytes(StandardCharsets.US_ASCII));
        if (vr.equals("OB")) {
            h.putShort((short) 0).putInt(value.length);
            out.write(h.array(), 0, 12);
        } else {
            h.putShort((short) value.length);
            out.write(h.array(), 0, 8);
        }
        out.writeBytes(value);
    }

    private static byte[] uid(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        return b.length % 2 == 0 ? b : java.util.Arrays.copyOf(b, b.length + 1);
    }

    private static byte[] text(String s) {
        return (s.length() % 2 == 0 ? s : s + " ").getBytes(StandardCharsets.US_ASCII);
    }

    private static String hex(int v) {
        return String.format("%04X", v);
    }
}
