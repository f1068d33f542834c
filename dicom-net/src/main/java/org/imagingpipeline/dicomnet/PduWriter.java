package org.imagingpipeline.dicomnet;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Encodes the PDUs an SCP sends (PS3.8 9.3). */
public final class PduWriter {
    private PduWriter() {
    }

    /** Outcome of one proposed presentation context. */
    public record PresentationContextResult(int id, int result, String transferSyntax) {
    }

    public static byte[] associateAc(AssociateRequest rq, List<PresentationContextResult> results, long ourMaxPduLength,
                                     String implementationClassUid, String implementationVersionName) {
        ByteArrayOutputStream body = new ByteArrayOutputStream(512);
        u16(body, 1); // protocol version
        u16(body, 0);
        body.writeBytes(rq.calledAeRaw());
        body.writeBytes(rq.callingAeRaw());
        body.writeBytes(new byte[32]);
        item(body, 0x10, ascii(Pdu.APPLICATION_CONTEXT));
        for (PresentationContextResult r : results) {
            ByteArrayOutputStream pc = new ByteArrayOutputStream(64);
            pc.write(r.id());
            pc.write(0);
            pc.write(r.result());
            pc.write(0);
            item(pc, 0x40, ascii(r.transferSyntax() == null ? "" : r.transferSyntax()));
            item(body, 0x21, pc.toByteArray());
        }
        userInformation(body, ourMaxPduLength, implementationClassUid, implementationVersionName);
        return pdu(Pdu.ASSOCIATE_AC, body.toByteArray());
    }

    /** A-ASSOCIATE-RQ proposing each context with its transfer syntaxes. */
    public static byte[] associateRq(String calledAe, String callingAe, java.util.List<AssociateRequest.PresentationContext> contexts,
                                     long ourMaxPduLength, String implementationClassUid, String implementationVersionName) {
        ByteArrayOutputStream body = new ByteArrayOutputStream(256 + contexts.size() * 80);
        u16(body, 1);
        u16(body, 0);
        body.writeBytes(aeField(calledAe));
        body.writeBytes(aeField(callingAe));
        body.writeBytes(new byte[32]);
        item(body, 0x10, ascii(Pdu.APPLICATION_CONTEXT));
        for (AssociateRequest.PresentationContext pc : contexts) {
            ByteArrayOutputStream p = new ByteArrayOutputStream(96);
            p.write(pc.id());
            p.writeBytes(new byte[3]);
            item(p, 0x30, ascii(pc.abstractSyntax()));
            for (String ts : pc.transferSyntaxes()) item(p, 0x40, ascii(ts));
            item(body, 0x20, p.toByteArray());
        }
        userInformation(body, ourMaxPduLength, implementationClassUid, implementationVersionName);
        return pdu(Pdu.ASSOCIATE_RQ, body.toByteArray());
    }

    /** User Information item: maximum length we receive, implementation class UID and version name. */
    private static void userInformation(ByteArrayOutputStream body, long ourMaxPduLength, String implementationClassUid,
                                        String implementationVersionName) {
        ByteArrayOutputStream ui = new ByteArrayOutputStream(64);
        item(ui, 0x51, new byte[] {(byte) (ourMaxPduLength >>> 24), (byte) (ourMaxPduLength >>> 16),
                (byte) (ourMaxPduLength >>> 8), (byte) ourMaxPduLength});
        item(ui, 0x52, ascii(implementationClassUid));
        item(ui, 0x55, ascii(implementationVersionName));
        item(body, 0x50, ui.toByteArray());
    }

    public static byte[] releaseRq() {
        return pdu(Pdu.RELEASE_RQ, new byte[4]);
    }

    private static byte[] aeField(String ae) {
        byte[] f = new byte[16];
        java.util.Arrays.fill(f, (byte) ' ');
        byte[] a = ae.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(a, 0, f, 0, Math.min(16, a.length));
        return f;
    }

    public static byte[] associateRj(int result, int source, int reason) {
        return pdu(Pdu.ASSOCIATE_RJ, new byte[] {0, (byte) result, (byte) source, (byte) reason});
    }

    public static byte[] releaseRp() {
        return pdu(Pdu.RELEASE_RP, new byte[4]);
    }

    public static byte[] abort(int source, int reason) {
        return pdu(Pdu.A_ABORT, new byte[] {0, 0, (byte) source, (byte) reason});
    }

    /** Writes one P-DATA-TF PDU per fragment of {@code value}, each at most {@code maxPduLength} long. */
    /**
     * Writes a data set of {@code length} bytes read from {@code value} as P-DATA-TF PDUs (one PDV each, at most
     * {@code maxPduLength}), through one buffer: a data set of any size is sent without being held in memory.
     */
    public static void writePData(OutputStream out, int pcId, java.io.InputStream value, long length, long maxPduLength) throws IOException {
        int maxValue = (int) Math.min(1 << 20, maxPduLength <= 0 ? 1 << 20 : maxPduLength - 6);
        byte[] buf = new byte[maxValue];
        long sent = 0;
        do {
            int n = (int) Math.min(maxValue, length - sent);
            if (value.readNBytes(buf, 0, n) < n) throw new java.io.EOFException("data set shorter than " + length + " bytes");
            boolean last = sent + n >= length;
            byte[] h = new byte[12];
            h[0] = Pdu.P_DATA_TF;
            putInt(h, 2, 4 + 2 + n);
            putInt(h, 6, 2 + n);
            h[10] = (byte) pcId;
            h[11] = (byte) (last ? 2 : 0);
            out.write(h);
            out.write(buf, 0, n);
            sent += n;
        } while (sent < length);
        out.flush();
    }

    public static void writePData(OutputStream out, int pcId, boolean command, byte[] value, long maxPduLength) throws IOException {
        int maxValue = maxPduLength <= 0 ? Integer.MAX_VALUE - 64 : (int) Math.min(Integer.MAX_VALUE - 64, maxPduLength - 6);
        int off = 0;
        do {
            int n = Math.min(maxValue, value.length - off);
            boolean last = off + n >= value.length;
            int pduLen = 4 + 2 + n;
            byte[] h = new byte[12];
            h[0] = Pdu.P_DATA_TF;
            putInt(h, 2, pduLen);
            putInt(h, 6, 2 + n);
            h[10] = (byte) pcId;
            h[11] = (byte) ((command ? 1 : 0) | (last ? 2 : 0));
            out.write(h);
            out.write(value, off, n);
            off += n;
        } while (off < value.length);
        out.flush();
    }

    private static byte[] pdu(int type, byte[] body) {
        byte[] p = new byte[6 + body.length];
        p[0] = (byte) type;
        putInt(p, 2, body.length);
        System.arraycopy(body, 0, p, 6, body.length);
        return p;
    }

    private static void item(ByteArrayOutputStream out, int type, byte[] value) {
        out.write(type);
        out.write(0);
        u16(out, value.length);
        out.writeBytes(value);
    }

    private static void u16(ByteArrayOutputStream out, int v) {
        out.write(v >>> 8);
        out.write(v);
    }

    private static void putInt(byte[] a, int off, int v) {
        a[off] = (byte) (v >>> 24);
        a[off + 1] = (byte) (v >>> 16);
        a[off + 2] = (byte) (v >>> 8);
        a[off + 3] = (byte) v;
    }

    /** UIDs in Upper Layer items are not padded (PS3.8 9.3.2.2.1), unlike UIDs in datasets. */
    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
