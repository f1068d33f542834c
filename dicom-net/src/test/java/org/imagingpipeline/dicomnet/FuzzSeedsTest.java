package org.imagingpipeline.dicomnet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

import java.io.InputStream;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The committed fuzzing seeds are what {@link FuzzSeeds} makes, and the Part-10 seed is a valid object. */
class FuzzSeedsTest {
    @Test
    void committedSeedsAreTheWritersOutputAndValid() throws Exception {
        for (Map.Entry<String, byte[]> e : FuzzSeeds.all().entrySet()) {
            try (InputStream in = getClass().getResourceAsStream("DicomParsersFuzzTestInputs/" + e.getKey())) {
                assertArrayEquals(e.getValue(), in == null ? null : in.readAllBytes(), e.getKey());
            }
        }
        byte[] file = FuzzSeeds.all().get("part10File/explicit-le-with-sequence");
        Part10.Meta meta = Part10.readMeta(file);
        assertDoesNotThrow(() -> DatasetStructure.verify(file, meta.datasetOffset(), meta.transferSyntaxUid()));
    }
}
