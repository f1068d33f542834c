package org.imagingpipeline.ingest.stow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MultipartRelatedTest {
    @Test
    void splitsPartsWithBinaryContentThatContainsCrLf() throws Exception {
        byte[] a = {0, 13, 10, 45, 45, 1, 2};
        String head = "preamble\r\n--XYZ\r\nContent-Type: application/dicom\r\n\r\n";
        String mid = "\r\n--XYZ\r\ncontent-type: application/dicom; transfer-syntax=1.2.840.10008.1.2.1\r\n\r\n";
        byte[] body = concat(head.getBytes(StandardCharsets.US_ASCII), a, mid.getBytes(StandardCharsets.US_ASCII),
                "second".getBytes(StandardCharsets.US_ASCII), "\r\n--XYZ--\r\n".getBytes(StandardCharsets.US_ASCII));
        List<byte[]> parts = new ArrayList<>();
        List<Map<String, String>> headers = new ArrayList<>();
        MultipartRelated m = new MultipartRelated(new ByteArrayInputStream(body), "XYZ");
        Map<String, String> h;
        while ((h = m.next()) != null) {
            headers.add(h);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertEquals(m.copy(out, Long.MAX_VALUE), out.size());
            parts.add(out.toByteArray());
        }
        assertEquals(2, parts.size());
        assertArrayEquals(a, parts.get(0));
        assertEquals("application/dicom", MultipartRelated.parameters(MultipartRelated.contentType(headers.get(1))).get(""));
        assertEquals("second", new String(parts.get(1), StandardCharsets.US_ASCII));
    }

    @Test
    void largePartsArriveInTrickleReadsThroughAFixedBufferAndOnlyMaxBytesAreWritten() throws Exception {
        byte[] big = new byte[300_000];
        new Random(3).nextBytes(big);
        byte[] body = concat("--b0undary\r\n\r\n".getBytes(StandardCharsets.US_ASCII), big,
                "\r\n--b0undary\r\n\r\n".getBytes(StandardCharsets.US_ASCII), big, "\r\n--b0undary--".getBytes(StandardCharsets.US_ASCII));
        // Reads of 1..7 bytes: the boundary is split across reads at every offset some time.
        InputStream trickle = new FilterInputStream(new ByteArrayInputStream(body)) {
            int k;

            @Override
            public int read(byte[] b, int off, int len) throws java.io.IOException {
                return super.read(b, off, Math.min(len, 1 + (k++ % 7)));
            }
        };
        MultipartRelated m = new MultipartRelated(trickle, "b0undary");
        assertNotNull(m.next());
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        assertEquals(big.length, m.copy(whole, Long.MAX_VALUE));
        assertArrayEquals(big, whole.toByteArray());
        assertNotNull(m.next());
        ByteArrayOutputStream capped = new ByteArrayOutputStream();
        assertEquals(big.length, m.copy(capped, 1000), "the whole length is counted");
        assertArrayEquals(Arrays.copyOf(big, 1000), capped.toByteArray(), "only the first max bytes are written");
        assertNull(m.next());
    }

    @Test
    void aBodyCutShortIsAnError() throws Exception {
        byte[] body = "--XYZ\r\nContent-Type: application/dicom\r\n\r\nabc".getBytes(StandardCharsets.US_ASCII);
        MultipartRelated m = new MultipartRelated(new ByteArrayInputStream(body), "XYZ");
        assertNotNull(m.next());
        assertThrows(MultipartRelated.MalformedException.class, () -> m.copy(OutputStream.nullOutputStream(), 10));
        assertThrows(MultipartRelated.MalformedException.class,
                () -> new MultipartRelated(new ByteArrayInputStream("nothing".getBytes()), "XYZ").next());
        byte[] endless = ("--XYZ\r\nX-Pad: " + "a".repeat(20_000) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        assertThrows(MultipartRelated.MalformedException.class, () -> new MultipartRelated(new ByteArrayInputStream(endless), "XYZ").next(),
                "headers are bounded");
    }

    @Test
    void contentTypeParametersAreParsedWithQuotes() {
        var p = MultipartRelated.parameters("Multipart/Related; type=\"application/dicom\"; boundary=abc");
        assertEquals("multipart/related", p.get(""));
        assertEquals("application/dicom", p.get("type"));
        assertEquals("abc", p.get("boundary"));
    }

    private static byte[] concat(byte[]... xs) {
        int n = 0;
        for (byte[] x : xs) n += x.length;
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] x : xs) {
            System.arraycopy(x, 0, out, o, x.length);
            o += x.length;
        }
        return out;
    }
}
