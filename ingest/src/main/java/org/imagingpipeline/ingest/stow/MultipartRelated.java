package org.imagingpipeline.ingest.stow;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Splits a multipart/related body (RFC 2387) into its parts. */
public final class MultipartRelated {
    private MultipartRelated() {
    }

    /** One body part: its headers (lower-case names) and content range in the body. */
    public record Part(Map<String, String> headers, byte[] body, int offset, int length) {
        public String contentType() {
            return headers.getOrDefault("content-type", "application/dicom");
        }

        public byte[] content() {
            return java.util.Arrays.copyOfRange(body, offset, offset + length);
        }
    }

    /** Parameters of a Content-Type header value, names lower-case, quotes removed. */
    public static Map<String, String> parameters(String contentType) {
        Map<String, String> m = new LinkedHashMap<>();
        if (contentType == null) return m;
        String[] pieces = contentType.split(";");
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

    public static List<Part> split(byte[] body, String boundary) {
        byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.US_ASCII);
        List<Part> parts = new ArrayList<>();
        int pos = indexOf(body, delimiter, 0);
        if (pos < 0) throw new IllegalArgumentException("boundary '" + boundary + "' not found in the body");
        while (true) {
            pos += delimiter.length;
            if (pos + 1 < body.length && body[pos] == '-' && body[pos + 1] == '-') return parts; // closing delimiter
            pos = skipLine(body, pos);
            Map<String, String> headers = new LinkedHashMap<>();
            while (true) {
                int eol = indexOf(body, new byte[] {'\r', '\n'}, pos);
                if (eol < 0) throw new IllegalArgumentException("part headers not terminated");
                if (eol == pos) {
                    pos += 2;
                    break;
                }
                String line = new String(body, pos, eol - pos, StandardCharsets.ISO_8859_1);
                int colon = line.indexOf(':');
                if (colon > 0) headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
                pos = eol + 2;
            }
            byte[] next = ("\r\n--" + boundary).getBytes(StandardCharsets.US_ASCII);
            int end = indexOf(body, next, pos);
            if (end < 0) throw new IllegalArgumentException("part " + (parts.size() + 1) + " is not closed by the boundary (truncated body?)");
            parts.add(new Part(headers, body, pos, end - pos));
            pos = end + 2;
        }
    }

    private static int skipLine(byte[] b, int pos) {
        int eol = indexOf(b, new byte[] {'\r', '\n'}, pos);
        return eol < 0 ? b.length : eol + 2;
    }

    static int indexOf(byte[] hay, byte[] needle, int from) {
        if (needle.length == 0) return from;
        byte first = needle[0];
        int max = hay.length - needle.length;
        outer:
        for (int i = from; i <= max; i++) {
            if (hay[i] != first) continue;
            for (int j = 1; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) continue outer;
            }
            return i;
        }
        return -1;
    }
}
