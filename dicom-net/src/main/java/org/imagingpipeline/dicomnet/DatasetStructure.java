package org.imagingpipeline.dicomnet;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.ZipException;

/**
 * Verifies that a dataset's element structure is complete: every length fits inside the bytes, every
 * undefined-length sequence, item and encapsulated pixel data is closed by its delimiter. This is what catches
 * a file with its tail cut off (PixelMed alone logs such a file and drops the pixel data). Values are not
 * decoded, so it is cheap and works for every accepted transfer syntax. The dataset is read once, forward, through a
 * fixed 64 KiB window (element values are skipped, never held), so a dataset of any size costs the same heap; a
 * deflated dataset is inflated on the way within {@link InflateLimits}.
 */
public final class DatasetStructure {
    private static final long UNDEFINED = 0xffffffffL;
    private static final int ITEM = 0xfffee000;
    private static final int ITEM_DELIMITER = 0xfffee00d;
    private static final int SEQUENCE_DELIMITER = 0xfffee0dd;
    private static final int PIXEL_DATA = 0x7fe00010;
    private static final int FLOAT_PIXEL_DATA = 0x7fe00008;
    private static final int DOUBLE_PIXEL_DATA = 0x7fe00009;
    private static final int MAX_DEPTH = 64;
    /** The limits of {@link #verify(byte[], int, String)}: the bytes are in memory already. */
    private static final InflateLimits IN_MEMORY = new InflateLimits(Integer.MAX_VALUE, Integer.MAX_VALUE);

    /**
     * What the walk found.
     *
     * @param length          bytes of the (inflated) dataset
     * @param pixelDataOffset where the top-level pixel data element starts (dataset-relative, inflated): the bytes a
     *                        header reader that stops at pixel data reads; {@code length} when there is none
     * @param nativePixelDataLength the value length of that element when its length is defined (native, uncompressed
     *                        pixel data); -1 when there is none or it is encapsulated (compressed)
     */
    public record Result(long length, long pixelDataOffset, long nativePixelDataLength) {
    }

    private final Window w;
    /** Position after the last byte this walker may read (a defined-length item), or -1: up to the end of the data. */
    private final long limit;
    private long pos;
    private final boolean implicit;
    private final boolean bigEndian;
    private long pixelDataOffset = -1;
    private long nativePixelDataLength = -1;

    private DatasetStructure(Window w, long offset, long limit, boolean implicit, boolean bigEndian) {
        this.w = w;
        this.pos = offset;
        this.limit = limit;
        this.implicit = implicit;
        this.bigEndian = bigEndian;
    }

    /** Checks {@code bytes[offset..]} as a dataset in the given transfer syntax. */
    public static Result verify(byte[] bytes, int offset, String transferSyntaxUid) throws MalformedDicomException {
        try {
            return verify(new ByteArrayInputStream(bytes, offset, bytes.length - offset), transferSyntaxUid, IN_MEMORY);
        } catch (InflateLimits.Exceeded e) {
            throw new MalformedDicomException("deflated dataset " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalStateException(e); // a byte array does not fail to read
        }
    }

    /**
     * Checks the dataset read from {@code dataset} (positioned at its first element; read to its end, not closed).
     *
     * @throws InflateLimits.Exceeded a deflated dataset inflates past the limits
     * @throws IOException            reading the stream failed
     */
    public static Result verify(InputStream dataset, String transferSyntaxUid, InflateLimits limits) throws MalformedDicomException, IOException {
        boolean deflated = TransferSyntaxes.deflated(transferSyntaxUid);
        InputStream in = deflated ? limits.inflate(dataset, InflateLimits.Format.RAW) : dataset;
        DatasetStructure top = new DatasetStructure(new Window(in), 0, -1, !deflated && TransferSyntaxes.implicitVr(transferSyntaxUid),
                !deflated && TransferSyntaxes.bigEndian(transferSyntaxUid));
        try {
            top.elements(0, false);
        } catch (ZipException e) {
            throw new MalformedDicomException("deflated dataset is corrupt: " + e.getMessage(), e);
        } catch (EOFException e) {
            throw new MalformedDicomException("deflated dataset ends early (truncated)", e);
        }
        return new Result(top.pos, top.pixelDataOffset < 0 ? top.pos : top.pixelDataOffset, top.nativePixelDataLength);
    }

    private boolean more() throws IOException {
        return limit >= 0 ? pos < limit : w.has(pos, 1);
    }

    /** Walks elements until the end (top level) or an item delimiter (inside an undefined-length item). */
    private void elements(int depth, boolean inItem) throws MalformedDicomException, IOException {
        if (depth > MAX_DEPTH) throw fail("sequences nested deeper than " + MAX_DEPTH);
        while (more()) {
            need(8, "element header");
            long start = pos;
            int tag = tag();
            if (tag == ITEM_DELIMITER) {
                pos += 4;
                if (!inItem) throw fail("item delimiter outside an item");
                return;
            }
            if (depth == 0 && pixelDataOffset < 0 && (tag == PIXEL_DATA || tag == FLOAT_PIXEL_DATA || tag == DOUBLE_PIXEL_DATA)) {
                pixelDataOffset = start;
            }
            long len;
            boolean sequence;
            if (implicit || (tag >>> 16) == 0xfffe) {
                len = u32();
                sequence = len == UNDEFINED;
            } else {
                String vr = new String(new byte[] {(byte) w.u8(pos), (byte) w.u8(pos + 1)}, java.nio.charset.StandardCharsets.US_ASCII);
                pos += 2;
                if (longVr(vr)) {
                    need(6, "element length");
                    pos += 2;
                    len = u32();
                } else {
                    len = u16();
                }
                sequence = vr.equals("SQ") || (vr.equals("UN") && len == UNDEFINED);
            }
            if (len == UNDEFINED) {
                if (tag == PIXEL_DATA) encapsulated();
                else if (sequence) sequence(depth);
                else throw fail("undefined length on a non-sequence element " + tagText(tag));
            } else {
                if (depth == 0 && start == pixelDataOffset) nativePixelDataLength = len;
                skip(len, "element " + tagText(tag));
            }
        }
        if (inItem) throw fail("undefined-length item not closed (truncated)");
    }

    private void sequence(int depth) throws MalformedDicomException, IOException {
        while (true) {
            need(8, "sequence item");
            int tag = tag();
            long len = u32();
            if (tag == SEQUENCE_DELIMITER) return;
            if (tag != ITEM) throw fail("expected an item in a sequence, found " + tagText(tag));
            if (len == UNDEFINED) {
                elements(depth + 1, true);
            } else {
                if (limit >= 0 && len > limit - pos) throw fail("sequence item of " + len + " bytes overruns the data (truncated)");
                long itemEnd = pos + len;
                DatasetStructure nested = new DatasetStructure(w, pos, itemEnd, implicit, bigEndian);
                nested.elements(depth + 1, false);
                pos = itemEnd;
            }
        }
    }

    private void encapsulated() throws MalformedDicomException, IOException {
        while (true) {
            need(8, "pixel data fragment");
            int tag = tag();
            long len = u32();
            if (tag == SEQUENCE_DELIMITER) return;
            if (tag != ITEM) throw fail("expected a pixel data fragment, found " + tagText(tag));
            if (len == UNDEFINED) throw fail("pixel data fragment of undefined length");
            skip(len, "pixel data fragment");
        }
    }

    /** Moves past a value of {@code len} bytes, failing when the data (or the enclosing item) ends first. */
    private void skip(long len, String what) throws MalformedDicomException, IOException {
        if (limit >= 0 && len > limit - pos) {
            throw fail(what + " needs " + len + " bytes, only " + (limit - pos) + " left in its item (truncated)");
        }
        if (!w.reaches(pos + len)) throw fail(what + " needs " + len + " bytes, the data ends first (truncated)");
        pos += len;
    }

    private static boolean longVr(String vr) {
        return switch (vr) {
            case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV" -> true;
            default -> false;
        };
    }

    private int tag() throws IOException {
        int group = u16();
        int element = u16();
        return group << 16 | element;
    }

    private int u16() throws IOException {
        int a = w.u8(pos);
        int b = w.u8(pos + 1);
        pos += 2;
        return bigEndian ? a << 8 | b : a | b << 8;
    }

    private long u32() throws IOException {
        long a = w.u8(pos);
        long b = w.u8(pos + 1);
        long c = w.u8(pos + 2);
        long d = w.u8(pos + 3);
        pos += 4;
        return bigEndian ? a << 24 | b << 16 | c << 8 | d : a | b << 8 | c << 16 | d << 24;
    }

    private void need(int n, String what) throws MalformedDicomException, IOException {
        if (limit >= 0 && limit - pos < n) throw fail("item ends inside " + what + " (truncated)");
        if (!w.has(pos, n)) throw fail("data ends inside " + what + " (truncated)");
    }

    private MalformedDicomException fail(String msg) {
        return new MalformedDicomException(msg + " at byte " + pos);
    }

    private static String tagText(int tag) {
        return String.format("(%04X,%04X)", tag >>> 16, tag & 0xffff);
    }

    /** A forward-only window over the stream: bytes behind the window are gone, skipped values are never buffered. */
    private static final class Window {
        private final InputStream in;
        private final byte[] buf = new byte[64 * 1024];
        /** Stream position of buf[0]. */
        private long start;
        private int len;
        private boolean eof;

        Window(InputStream in) {
            this.in = in;
        }

        /** Whether the bytes [p, p + n) exist (n <= 64 KiB), reading forward as needed; p is never behind the window. */
        boolean has(long p, int n) throws IOException {
            if (p < start) throw new IllegalStateException("position " + p + " is behind the window at " + start);
            if (p + n <= start + len) return true;
            if (!reaches(p)) return false;
            int keep = (int) (start + len - p);
            System.arraycopy(buf, (int) (p - start), buf, 0, keep);
            start = p;
            len = keep;
            while (len < n && !eof) {
                int r = in.read(buf, len, buf.length - len);
                if (r < 0) eof = true;
                else len += r;
            }
            return len >= n;
        }

        /** Whether the data holds at least {@code p} bytes; skips (reads and drops) up to {@code p}. */
        boolean reaches(long p) throws IOException {
            long end = start + len;
            if (p <= end) return true;
            long toSkip = p - end;
            start = end;
            len = 0;
            while (toSkip > 0) {
                if (eof) return false;
                int r = in.read(buf, 0, (int) Math.min(buf.length, toSkip));
                if (r < 0) {
                    eof = true;
                    return false;
                }
                toSkip -= r;
                start += r;
            }
            return true;
        }

        int u8(long p) {
            return buf[(int) (p - start)] & 0xff;
        }
    }
}
