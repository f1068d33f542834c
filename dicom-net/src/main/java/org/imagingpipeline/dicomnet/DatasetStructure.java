package org.imagingpipeline.dicomnet;

import java.io.ByteArrayOutputStream;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Verifies that a dataset's element structure is complete: every length fits inside the bytes, every
 * undefined-length sequence, item and encapsulated pixel data is closed by its delimiter. This is what catches
 * a file with its tail cut off (PixelMed alone logs such a file and drops the pixel data). Values are not
 * decoded, so it is cheap and works for every accepted transfer syntax.
 */
public final class DatasetStructure {
    private static final long UNDEFINED = 0xffffffffL;
    private static final int ITEM = 0xfffee000;
    private static final int ITEM_DELIMITER = 0xfffee00d;
    private static final int SEQUENCE_DELIMITER = 0xfffee0dd;
    private static final int PIXEL_DATA = 0x7fe00010;
    private static final int MAX_DEPTH = 64;

    private final byte[] b;
    private final int end;
    private final boolean implicit;
    private final boolean bigEndian;
    private int pos;

    private DatasetStructure(byte[] b, int offset, int end, boolean implicit, boolean bigEndian) {
        this.b = b;
        this.pos = offset;
        this.end = end;
        this.implicit = implicit;
        this.bigEndian = bigEndian;
    }

    /** Checks {@code bytes[offset..]} as a dataset in the given transfer syntax. */
    public static void verify(byte[] bytes, int offset, String transferSyntaxUid) throws MalformedDicomException {
        if (TransferSyntaxes.deflated(transferSyntaxUid)) {
            byte[] inflated = inflate(bytes, offset);
            new DatasetStructure(inflated, 0, inflated.length, false, false).elements(0, false);
        } else {
            new DatasetStructure(bytes, offset, bytes.length, TransferSyntaxes.implicitVr(transferSyntaxUid),
                    TransferSyntaxes.bigEndian(transferSyntaxUid)).elements(0, false);
        }
    }

    /** Walks elements until the end (top level) or an item delimiter (inside an undefined-length item). */
    private void elements(int depth, boolean inItem) throws MalformedDicomException {
        if (depth > MAX_DEPTH) throw fail("sequences nested deeper than " + MAX_DEPTH);
        while (pos < end) {
            need(8, "element header");
            int tag = tag();
            if (tag == ITEM_DELIMITER) {
                pos += 4;
                if (!inItem) throw fail("item delimiter outside an item");
                return;
            }
            long len;
            boolean sequence;
            if (implicit || (tag >>> 16) == 0xfffe) {
                len = u32();
                sequence = len == UNDEFINED;
            } else {
                String vr = new String(b, pos, 2, java.nio.charset.StandardCharsets.US_ASCII);
                pos += 2;
                if (longVr(vr)) {
                    need(6, "element length");
                    pos += 2;
                    len = u32();
                } else {
                    need(2, "element length");
                    len = u16();
                }
                sequence = vr.equals("SQ") || (vr.equals("UN") && len == UNDEFINED);
            }
            if (len == UNDEFINED) {
                if (tag == PIXEL_DATA) encapsulated();
                else if (sequence) sequence(depth);
                else throw fail("undefined length on a non-sequence element " + tagText(tag));
            } else {
                if (len > end - pos) {
                    throw fail("element " + tagText(tag) + " needs " + len + " bytes, only " + (end - pos) + " left (truncated)");
                }
                pos += (int) len;
            }
        }
        if (inItem) throw fail("undefined-length item not closed (truncated)");
    }

    private void sequence(int depth) throws MalformedDicomException {
        while (true) {
            need(8, "sequence item");
            int tag = tag();
            long len = u32();
            if (tag == SEQUENCE_DELIMITER) return;
            if (tag != ITEM) throw fail("expected an item in a sequence, found " + tagText(tag));
            if (len == UNDEFINED) {
                elements(depth + 1, true);
            } else {
                if (len > end - pos) throw fail("sequence item of " + len + " bytes overruns the data (truncated)");
                int itemEnd = pos + (int) len;
                DatasetStructure nested = new DatasetStructure(b, pos, itemEnd, implicit, bigEndian);
                nested.elements(depth + 1, false);
                pos = itemEnd;
            }
        }
    }

    private void encapsulated() throws MalformedDicomException {
        while (true) {
            need(8, "pixel data fragment");
            int tag = tag();
            long len = u32();
            if (tag == SEQUENCE_DELIMITER) return;
            if (tag != ITEM) throw fail("expected a pixel data fragment, found " + tagText(tag));
            if (len == UNDEFINED || len > end - pos) {
                throw fail("pixel data fragment of " + len + " bytes overruns the data (truncated)");
            }
            pos += (int) len;
        }
    }

    private static boolean longVr(String vr) {
        return switch (vr) {
            case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV" -> true;
            default -> false;
        };
    }

    private int tag() {
        int group = u16();
        int element = u16();
        return group << 16 | element;
    }

    private int u16() {
        int v = bigEndian ? (b[pos] & 0xff) << 8 | (b[pos + 1] & 0xff) : (b[pos] & 0xff) | (b[pos + 1] & 0xff) << 8;
        pos += 2;
        return v;
    }

    private long u32() {
        long v = bigEndian
                ? (long) (b[pos] & 0xff) << 24 | (b[pos + 1] & 0xff) << 16 | (b[pos + 2] & 0xff) << 8 | (b[pos + 3] & 0xff)
                : (b[pos] & 0xff) | (b[pos + 1] & 0xff) << 8 | (b[pos + 2] & 0xff) << 16 | (long) (b[pos + 3] & 0xff) << 24;
        pos += 4;
        return v;
    }

    private void need(int n, String what) throws MalformedDicomException {
        if (end - pos < n) throw fail("data ends inside " + what + " (truncated)");
    }

    private MalformedDicomException fail(String msg) {
        return new MalformedDicomException(msg + " at byte " + pos);
    }

    private static String tagText(int tag) {
        return String.format("(%04X,%04X)", tag >>> 16, tag & 0xffff);
    }

    private static byte[] inflate(byte[] bytes, int offset) throws MalformedDicomException {
        Inflater inf = new Inflater(true);
        try {
            inf.setInput(bytes, offset, bytes.length - offset);
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(1024, (bytes.length - offset) * 3));
            byte[] buf = new byte[65536];
            while (!inf.finished()) {
                int n = inf.inflate(buf);
                if (n == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    throw new MalformedDicomException("deflated dataset ends early (truncated)");
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new MalformedDicomException("deflated dataset is corrupt: " + e.getMessage(), e);
        } finally {
            inf.end();
        }
    }
}
