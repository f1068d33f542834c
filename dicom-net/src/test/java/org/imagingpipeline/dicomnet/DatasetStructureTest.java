package org.imagingpipeline.dicomnet;

import org.imagingpipeline.testsupport.SharedTestData;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void aDeflateBombIsRefusedByTheCapsWithoutBeingInflatedWhole() throws Exception {
        // A deflated dataset: one element, then (7FE0,0010) OW of 256 MiB of zeros, deflated to about 0.3 MiB.
        java.io.ByteArrayOutputStream compressed = new java.io.ByteArrayOutputStream();
        try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(compressed,
                new java.util.zip.Deflater(java.util.zip.Deflater.BEST_SPEED, true), 1 << 16)) {
            java.nio.ByteBuffer head = java.nio.ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            head.putShort((short) 0x7fe0).putShort((short) 0x0010).put((byte) 'O').put((byte) 'W').putShort((short) 0).putInt(256 << 20);
            z.write(head.array());
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 256; i++) z.write(zeros);
        }
        byte[] bomb = compressed.toByteArray();
        String deflated = "1.2.840.10008.1.2.1.99";
        InflateLimits.Exceeded bySize = assertThrows(InflateLimits.Exceeded.class, () -> DatasetStructure.verify(
                new java.io.ByteArrayInputStream(bomb), deflated, new InflateLimits(64 << 20, Integer.MAX_VALUE)));
        assertTrue(bySize.getMessage().contains("more than " + (64 << 20)), bySize.getMessage());
        InflateLimits.Exceeded byRatio = assertThrows(InflateLimits.Exceeded.class, () -> DatasetStructure.verify(
                new java.io.ByteArrayInputStream(bomb), deflated, new InflateLimits(Long.MAX_VALUE, 100)));
        assertTrue(byRatio.getMessage().contains("100 times"), byRatio.getMessage());
        // Within generous caps it is a well-formed dataset: the walk streams through 256 MiB without holding it.
        DatasetStructure.Result whole = DatasetStructure.verify(new java.io.ByteArrayInputStream(bomb), deflated,
                new InflateLimits(2L << 30, Integer.MAX_VALUE));
        assertEquals(12L + (256 << 20), whole.length());
        assertEquals(0L, whole.pixelDataOffset());
    }

    @Test
    void streamedVerificationFindsWhereThePixelDataStarts() throws Exception {
        for (int i = 1; i <= 9; i++) {
            byte[] file = Files.readAllBytes(tsDir().resolve(i + ".dcm"));
            Part10.Meta meta = Part10.readMeta(file);
            DatasetStructure.Result r = DatasetStructure.verify(new java.io.ByteArrayInputStream(file, meta.datasetOffset(),
                    file.length - meta.datasetOffset()), meta.transferSyntaxUid(), new InflateLimits(1L << 30, 1000));
            assertTrue(r.pixelDataOffset() > 0 && r.pixelDataOffset() < r.length(), i + ".dcm: " + r);
            // 1-3 are native (uncompressed): the value length of PixelData, 384 x 384 x 16 bits; 4-9 encapsulated: -1
            if (i <= 3) assertEquals(384L * 384 * 2, r.nativePixelDataLength(), i + ".dcm: " + r);
            else assertEquals(-1L, r.nativePixelDataLength(), i + ".dcm: " + r);
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
