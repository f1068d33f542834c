package org.imagingpipeline.ingest.stow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Coverage-guided fuzzing (Jazzer) of what a STOW-RS sender controls before any DICOM parsing: the multipart/related
 * body (RFC 2046 delimiters, transport padding, part headers, truncation) and the Content-Type header's parameters.
 * The property: the reader returns or throws its documented exception ({@link MultipartRelated.MalformedException},
 * another IOException of the body), never an index or buffer error, never an endless loop; it hands a part's sink at most
 * the {@code max} bytes it was given; it never reports more content than the body had; and it holds only its fixed
 * buffer, whatever the input (the heap side is checked by DimseIngestTest / StowIngestTest).
 *
 * <p>Regression mode (every test run): each target on its committed inputs in
 * {@code src/test/resources/org/imagingpipeline/ingest/stow/StowMultipartFuzzTestInputs/<target>/} and on an empty
 * input. The campaign (profile {@code reliability}, which {@code ./pipeline test} runs; by hand {@code JAZZER_FUZZ=1 mvn
 * -pl ingest test -Dtest=StowMultipartFuzzTest#TARGET}) mutates from them for {@code maxDuration}; a finding is written
 * into the inputs folder and stays there as a regression test once fixed.
 */
class StowMultipartFuzzTest {
    static final String BOUNDARY = "fuzz-boundary";
    /** Per part: what the STOW resource would stage at most in this test (the real cap is ingest.max-object-bytes). */
    private static final long MAX_PART = 4096;
    /** Far more parts than a body of the fuzzer's sizes can hold with real delimiters: a loop bound, not a limit. */
    private static final int MAX_PARTS = 100_000;

    @FuzzTest(maxDuration = "10s")
    void multipartBody(byte[] body) {
        MultipartRelated reader = new MultipartRelated(new ByteArrayInputStream(body), BOUNDARY);
        long total = 0;
        try {
            for (int parts = 0; reader.next() != null; parts++) {
                assertTrue(parts < MAX_PARTS, "more parts than the body can hold");
                Counting sink = new Counting();
                long length = reader.copy(sink, MAX_PART);
                assertTrue(sink.count <= MAX_PART, "the sink got " + sink.count + " bytes, more than its max " + MAX_PART);
                assertEquals(Math.min(length, MAX_PART), sink.count, "the sink got the first min(length, max) bytes");
                total += length;
                assertTrue(total <= body.length, "parts hold " + total + " content bytes, the body has " + body.length);
            }
        } catch (IOException expected) {
            // malformed or truncated: 400 (or 409 for the instances stored before it), the request ends
        }
    }

    @FuzzTest(maxDuration = "10s")
    void contentTypeHeader(byte[] value) {
        String header = new String(value, java.nio.charset.StandardCharsets.ISO_8859_1); // what an HTTP header can carry
        Map<String, String> p = MultipartRelated.parameters(header);
        assertTrue(p.containsKey(""), "the media type is always there");
        String boundary = p.get("boundary");
        if (boundary != null) {
            // whatever the sender named as boundary, an empty body is refused, not looped on
            try {
                new MultipartRelated(InputStream.nullInputStream(), boundary).next();
            } catch (IOException expected) {
                // boundary not found
            }
        }
    }

    /** The committed seeds are meaningful: the two-part body reads as two parts with their exact content. */
    @Test
    void seedBodyHasTwoParts() throws IOException {
        byte[] seed;
        try (InputStream in = getClass().getResourceAsStream("StowMultipartFuzzTestInputs/multipartBody/two-parts")) {
            seed = in.readAllBytes();
        }
        MultipartRelated reader = new MultipartRelated(new ByteArrayInputStream(seed), BOUNDARY);
        List<String> contents = new ArrayList<>();
        for (Map<String, String> h; (h = reader.next()) != null; ) {
            assertEquals("application/dicom", MultipartRelated.contentType(h));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            reader.copy(out, Long.MAX_VALUE);
            contents.add(out.toString(java.nio.charset.StandardCharsets.ISO_8859_1));
        }
        assertEquals(List.of("DICM-part-one", "part two\r\n--not-the-boundary\r\n"), contents);
    }

    private static final class Counting extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (off < 0 || len < 0 || off + len > b.length) throw new UncheckedIOException(new IOException("bad slice " + off + "+" + len));
            count += len;
        }
    }
}
