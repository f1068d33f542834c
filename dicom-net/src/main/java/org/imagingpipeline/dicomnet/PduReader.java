package org.imagingpipeline.dicomnet;

import java.io.DataInputStream;
import java.io.IOException;

/** Reads one Upper Layer PDU: type and body (the bytes after the 6-byte header). */
public final class PduReader {
    private PduReader() {
    }

    public record Raw(int type, byte[] body) {
    }

    /** Returns null at a clean end of stream before a PDU starts. */
    public static Raw read(DataInputStream in, long maxLength) throws IOException {
        int type = in.read();
        if (type < 0) return null;
        in.readUnsignedByte();
        long len = in.readInt() & 0xffffffffL;
        if (len > maxLength) throw new IOException("PDU type " + type + " of " + len + " bytes exceeds the limit " + maxLength);
        byte[] body = new byte[(int) len];
        in.readFully(body);
        return new Raw(type, body);
    }
}
