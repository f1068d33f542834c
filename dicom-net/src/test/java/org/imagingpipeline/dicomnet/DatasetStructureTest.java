package org.imagingpipeline.dicomnet;

import org.imagingpipeline.testsupport.SharedTestData;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Every shared transfer-syntax file is well-formed; every cut of it is caught. */
class DatasetStructureTest {

    private static Path tsDir() {
        return SharedTestData.require("dicom-vendors/transfer-syntaxes/In");
    }

    @Test
    void wholeFilesInEveryTransferSyntaxPassAndEveryTruncationFails() throws Exception {
        for (int i = 1; i <= 9; i++) {
            byte[] file = Files.readAllBytes(tsDir().resolve(i + ".dcm"));
            Part10.Meta meta = Part10.readMeta(file);
            String name = i + ".dcm (" + meta.transferSyntaxUid() + ")";
            assertDoesNotThrow(() -> DatasetStructure.verify(file, meta.datasetOffset(), meta.transferSyntaxUid()), name);
            // Cut at 40 points through the dataset, including 1 byte short of the end.
            int span = file.length - meta.datasetOffset();
            for (int k = 1; k <= 40; k++) {
                int cut = k == 40 ? file.length - 1 : meta.datasetOffset() + (int) ((long) span * k / 40) - 1;
                byte[] truncated = Arrays.copyOf(file, cut);
                assertThrows(MalformedDicomException.class,
                        () -> DatasetStructure.verify(truncated, meta.datasetOffset(), meta.transferSyntaxUid()), name + " cut at " + cut);
            }
        }
    }

    @Test
    void part10MetaIsReadAndWrittenConsistently() throws Exception {
        byte[] header = Part10.header("1.2.840.10008.5.1.4.1.1.4", "1.2.3.4.5", "1.2.840.10008.1.2", "STORESCU");
        Part10.Meta meta = Part10.readMeta(header);
        assertEquals("1.2.840.10008.5.1.4.1.1.4", meta.mediaStorageSopClassUid());
        assertEquals("1.2.3.4.5", meta.mediaStorageSopInstanceUid());
        assertEquals("1.2.840.10008.1.2", meta.transferSyntaxUid());
        assertEquals(header.length, meta.datasetOffset());
        assertThrows(MalformedDicomException.class, () -> Part10.readMeta("plain text".getBytes()));
    }

    @Test
    void dimseResponsesCarryStatusAndComment() {
        byte[] rsp = CommandSet.response(CommandSet.C_STORE_RSP, 7, "1.2.840.10008.5.1.4.1.1.4", "1.2.3", 0xA700, "kafka_unavailable: x");
        CommandSet parsed = CommandSet.parse(rsp);
        assertEquals(CommandSet.C_STORE_RSP, parsed.commandField());
        assertEquals("1.2.3", parsed.affectedSopInstanceUid());
        assertEquals(false, parsed.hasDataSet());
    }
}
