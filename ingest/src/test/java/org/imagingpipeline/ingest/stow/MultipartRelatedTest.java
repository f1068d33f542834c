package org.imagingpipeline.ingest.stow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class MultipartRelatedTest {
    @Test
    void splitsPartsWithBinaryContentThatContainsCrLf() {
        byte[] a = {0, 13, 10, 45, 45, 1, 2};
        String head = "preamble\r\n--XYZ\r\nContent-Type: application/dicom\r\n\r\n";
        String mid = "\r\n--XYZ\r\ncontent-type: application/dicom; transfer-syntax=1.2.840.10008.1.2.1\r\n\r\n";
        byte[] body = concat(head.getBytes(StandardCharsets.US_ASCII), a, mid.getBytes(StandardCharsets.US_ASCII),
                "second".getBytes(StandardCharsets.US_ASCII), "\r\n--XYZ--\r\n".getBytes(StandardCharsets.US_ASCII));
        List<MultipartRelated.Part> parts = MultipartRelated.split(body, "XYZ");
        assertEquals(2, parts.size());
        assertArrayEquals(a, parts.get(0).content());
        assertEquals("application/dicom", MultipartRelated.parameters(parts.get(1).contentType()).get(""));
        assertEquals("second", new String(parts.get(1).content(), StandardCharsets.US_ASCII));
    }

    @Test
    void aBodyCutShortIsAnError() {
        byte[] body = "--XYZ\r\nContent-Type: application/dicom\r\n\r\nabc".getBytes(StandardCharsets.US_ASCII);
        assertThrows(IllegalArgumentException.class, () -> MultipartRelated.split(body, "XYZ"));
        assertThrows(IllegalArgumentException.class, () -> MultipartRelated.split("nothing".getBytes(), "XYZ"));
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
