package org.imagingpipeline.ingest.stow;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a multipart/related body (RFC 2046 / 2387) as it arrives: part headers, then each part's content copied to a
 * sink, through one fixed buffer. Nothing of a part is held in memory, however large it is.
 */
public final class MultipartRelated {
    /** Longest header block of one part. */
    static final int MAX_HEADER_BYTES = 16 * 1024;
    private static final int BUFFER = 64 * 1024;

    private final InputStream in;
    /** CRLF "--" boundary: what ends a part (the body is read as if a CRLF preceded it, so the first delimiter matches too). */
    private final byte[] delimiter;
    private final byte[] buf;
    private int start;
    private int end;
    private boolean eof;
    private boolean closed;
    private boolean started;
    /** The headers of a part were returned, its content not read yet. */
    private boolean pendingContent;
    private int parts;

    /** The body is malformed: no boundary, a part not closed, headers too long. */
    public static final class MalformedException extends IOException {
        public MalformedException(String message) {
            super(message);
        }
    }

    public MultipartRelated(InputStream in, String boundary) {
        this.in = in;
        this.delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.US_ASCII);
        this.buf = new byte[BUFFER + delimiter.length];
        buf[0] = '\r';
        buf[1] = '\n';
        end = 2;
    }

    /** Parameters of a Content-Type header value, names lower-case, quotes removed. */
    public static Map<String, String> parameters(String contentType) {
        Map<String, String> m = new LinkedHashMap<>();
        if (contentType == null) return m;
        String[] pieces = contentType.split(";", -1); // -1: ";" is ["", ""], not an empty array (a fuzzing finding)
        m.put("", pieces[0].trim().toLowerCase(Locale.ROOT));
        for (int i = 1; i < pieces.length; i++) {
            int eq = pieces[i].indexOf('=');
            if (eq < 0) continue;
            String v = pieces[i].substring(eq + 1).trim();
            if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) v = v.substring(1, v.length() - 1);
            m.put(pieces[i].substring(0, eq).trim().toLowerCase(Locale.ROOT), v);
        }
        return m;
    }

    /** The content type of a part's headers (application/dicom when absent). */
    public static String contentType(Map<String, String> headers) {
        return headers.getOrDefault("content-type", "application/dicom");
    }

    /**
     * Moves to the next part and returns its headers (names lower-case); null after the closing delimiter. The current
     * part's content, if not copied, is skipped.
     */
    public Map<String, String> next() throws IOException {
        if (closed) return null;
        if (!started) {
            started = true;
            if (!copyUntilDelimiter(OutputStream.nullOutputStream())) {
                throw new MalformedException("boundary not found in the body");
            }
        } else if (pendingContent) {
            skipContent();
        }
        // after a delimiter: "--" closes the body; otherwise transport padding up to CRLF, then the headers
        if (!fill(2)) throw new MalformedException("body ends after a boundary");
        if (buf[start] == '-' && buf[start + 1] == '-') {
            closed = true;
            return null;
        }
        String padding = line();
        if (!padding.isBlank()) throw new MalformedException("unexpected text after a boundary");
        Map<String, String> headers = new LinkedHashMap<>();
        int headerBytes = 0;
        while (true) {
            String l = line();
            headerBytes += l.length() + 2;
            if (headerBytes > MAX_HEADER_BYTES) throw new MalformedException("part headers longer than " + MAX_HEADER_BYTES + " bytes");
            if (l.isEmpty()) break;
            int colon = l.indexOf(':');
            if (colon > 0) headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
        }
        parts++;
        pendingContent = true;
        return headers;
    }

    /**
     * Copies the current part's content to {@code sink}, at most {@code max} bytes of it; the rest is read and dropped.
     * A failing sink does not stop the reading: its exception is thrown as {@link UncheckedIOException} after the part.
     *
     * @return the content's length (all of it, also beyond {@code max})
     */
    public long copy(OutputStream sink, long max) throws IOException {
        if (!pendingContent) throw new IllegalStateException("no part to copy");
        pendingContent = false;
        Sink s = new Sink(sink, max);
        if (!copyUntilDelimiter(s)) {
            throw new MalformedException("part " + parts + " is not closed by the boundary (truncated body?)");
        }
        if (s.failure != null) throw new UncheckedIOException(s.failure);
        return s.seen;
    }

    private void skipContent() throws IOException {
        copy(OutputStream.nullOutputStream(), 0);
    }

    /** Writes bytes up to the next delimiter to {@code out} and moves past the delimiter; false at the end of the body. */
    private boolean copyUntilDelimiter(OutputStream out) throws IOException {
        while (true) {
            int at = indexOf(delimiter, start, end);
            if (at >= 0) {
                out.write(buf, start, at - start);
                start = at + delimiter.length;
                return true;
            }
            int safe = Math.max(start, end - delimiter.length + 1);
            out.write(buf, start, safe - start);
            start = safe;
            if (!readMore()) return false;
        }
    }

    /** A CRLF-terminated line (ISO-8859-1), without the CRLF. */
    private String line() throws IOException {
        while (true) {
            int eol = indexOf(new byte[] {'\r', '\n'}, start, end);
            if (eol >= 0) {
                String l = new String(buf, start, eol - start, StandardCharsets.ISO_8859_1);
                start = eol + 2;
                return l;
            }
            if (end - start > MAX_HEADER_BYTES) throw new MalformedException("part header line longer than " + MAX_HEADER_BYTES + " bytes");
            if (!readMore()) throw new MalformedException("part headers not terminated");
        }
    }

    /** Makes at least n bytes available from start; false at the end of the body. */
    private boolean fill(int n) throws IOException {
        while (end - start < n) {
            if (!readMore()) return false;
        }
        return true;
    }

    /** Compacts the buffer and reads more; false at the end of the body. */
    private boolean readMore() throws IOException {
        if (eof) return false;
        if (start > 0) {
            System.arraycopy(buf, start, buf, 0, end - start);
            end -= start;
            start = 0;
        }
        if (end == buf.length) throw new MalformedException("line longer than the buffer");
        int n = in.read(buf, end, buf.length - end);
        if (n < 0) {
            eof = true;
            return false;
        }
        end += n;
        return true;
    }

    private int indexOf(byte[] needle, int from, int to) {
        byte first = needle[0];
        int max = to - needle.length;
        outer:
        for (int i = from; i <= max; i++) {
            if (buf[i] != first) continue;
            for (int j = 1; j < needle.length; j++) {
                if (buf[i + j] != needle[j]) continue outer;
            }
            return i;
        }
        return -1;
    }

    /** Counts everything, writes the first {@code max} bytes, remembers a write failure instead of throwing it. */
    private static final class Sink extends OutputStream {
        private final OutputStream out;
        private final long max;
        long seen;
        IOException failure;

        Sink(OutputStream out, long max) {
            this.out = out;
            this.max = max;
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            long room = max - seen;
            seen += len;
            if (failure != null || room <= 0 || len == 0) return;
            try {
                out.write(b, off, (int) Math.min(len, room));
            } catch (IOException e) {
                failure = e;
            }
        }
    }
}
