package org.imagingpipeline.dicomnet;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A parsed A-ASSOCIATE-RQ (PS3.8 9.3.2).
 *
 * @param maxPduLength the largest P-DATA PDU the requester accepts (0 = unlimited)
 */
public record AssociateRequest(int protocolVersion, String calledAeTitle, String callingAeTitle,
                               String applicationContext, List<PresentationContext> presentationContexts,
                               long maxPduLength, String implementationClassUid, String implementationVersionName,
                               byte[] calledAeRaw, byte[] callingAeRaw) {

    /** One proposed presentation context. */
    public record PresentationContext(int id, String abstractSyntax, List<String> transferSyntaxes) {
    }

    /** Parses the body of an A-ASSOCIATE-RQ PDU (everything after the 6-byte PDU header). */
    public static AssociateRequest parse(byte[] body) {
        try {
            ByteBuffer b = ByteBuffer.wrap(body);
            int version = b.getShort() & 0xffff;
            b.getShort();
            byte[] called = new byte[16];
            byte[] calling = new byte[16];
            b.get(called);
            b.get(calling);
            b.position(b.position() + 32);
            String appContext = null;
            List<PresentationContext> pcs = new ArrayList<>();
            long maxLength = 0;
            String implClass = null;
            String implVersion = null;
            while (b.remaining() >= 4) {
                int type = b.get() & 0xff;
                b.get();
                int len = b.getShort() & 0xffff;
                if (len > b.remaining()) throw new IllegalArgumentException("item 0x" + Integer.toHexString(type) + " overruns the PDU");
                ByteBuffer item = b.slice(b.position(), len);
                b.position(b.position() + len);
                switch (type) {
                    case 0x10 -> appContext = text(item, len);
                    case 0x20 -> pcs.add(parsePresentationContext(item));
                    case 0x50 -> {
                        while (item.remaining() >= 4) {
                            int st = item.get() & 0xff;
                            item.get();
                            int sl = item.getShort() & 0xffff;
                            if (sl > item.remaining()) throw new IllegalArgumentException("user information sub-item overruns");
                            ByteBuffer sub = item.slice(item.position(), sl);
                            item.position(item.position() + sl);
                            if (st == 0x51 && sl == 4) maxLength = sub.getInt() & 0xffffffffL;
                            else if (st == 0x52) implClass = text(sub, sl);
                            else if (st == 0x55) implVersion = text(sub, sl);
                        }
                    }
                    default -> {
                        // other items are not used by this SCP
                    }
                }
            }
            return new AssociateRequest(version, ae(called), ae(calling), appContext, pcs, maxLength, implClass, implVersion,
                    called, calling);
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("A-ASSOCIATE-RQ is truncated", e);
        }
    }

    private static PresentationContext parsePresentationContext(ByteBuffer item) {
        int id = item.get() & 0xff;
        item.position(item.position() + 3);
        String abstractSyntax = null;
        List<String> ts = new ArrayList<>();
        while (item.remaining() >= 4) {
            int st = item.get() & 0xff;
            item.get();
            int sl = item.getShort() & 0xffff;
            if (sl > item.remaining()) throw new IllegalArgumentException("presentation context sub-item overruns");
            ByteBuffer sub = item.slice(item.position(), sl);
            item.position(item.position() + sl);
            if (st == 0x30) abstractSyntax = text(sub, sl);
            else if (st == 0x40) ts.add(text(sub, sl));
        }
        return new PresentationContext(id, abstractSyntax, List.copyOf(ts));
    }

    private static String text(ByteBuffer b, int len) {
        byte[] a = new byte[len];
        b.get(a);
        return trim(new String(a, StandardCharsets.US_ASCII));
    }

    private static String ae(byte[] raw) {
        return trim(new String(raw, StandardCharsets.US_ASCII));
    }

    /** UIDs and AE titles may carry trailing NUL or space padding. */
    static String trim(String s) {
        int end = s.length();
        while (end > 0 && (s.charAt(end - 1) == 0 || s.charAt(end - 1) == ' ')) end--;
        int start = 0;
        while (start < end && s.charAt(start) == ' ') start++;
        return s.substring(start, end);
    }
}
