package org.imagingpipeline.dicomnet;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.imagingpipeline.testsupport.SharedTestData;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing (Jazzer) of everything in dicom-net that reads bytes a peer sent: the upper-layer PDU framing,
 * the A-ASSOCIATE-RQ body, the DIMSE command set, the Part-10 file meta, the dataset structure check (every transfer
 * syntax, deflate included; streamed with inflate caps), gzip request bodies under those caps and the pixel-size arithmetic. The property is the same everywhere: a parser either returns
 * or throws its documented exception (IOException, IllegalArgumentException, MalformedDicomException,
 * PixelDataLimits.Refused); anything else (an index or buffer error, a negative array size, an arithmetic overflow, an
 * allocation beyond the caps, an OutOfMemoryError) is a finding.
 *
 * <p>In the normal test run (regression mode) each target runs on the committed seeds in
 * {@code src/test/resources/org/imagingpipeline/dicomnet/DicomParsersFuzzTestInputs/<target>/} (valid PDUs, a command
 * set and Part-10 files made by the project's own writers, plus every finding so far) and on an empty input. The campaign
 * ({@code ./pipeline test} runs it in the {@code fuzz} profile; by hand {@code JAZZER_FUZZ=1 mvn -pl dicom-net test
 * -Dtest=DicomParsersFuzzTest#TARGET}) mutates from those seeds for {@code maxDuration}; a finding is written into the
 * inputs folder, where it stays as a regression test once the bug is fixed. A campaign on {@code part10File} also starts
 * from the real vendor files of ../shared/data/dicom-vendors (three per vendor folder and every transfer syntax; their
 * headers, cut before the pixel data, so that the fuzzer spends its time on the structure), copied into Jazzer's
 * generated corpus ({@code dicom-net/.cifuzz-corpus/}, not committed: patient-free but not ours to commit).
 */
class DicomParsersFuzzTest {
    /** Far below the SCP's own limit so that the fuzzer cannot spend its time allocating. */
    private static final long MAX_PDU = 1 << 16;

    @BeforeAll
    static void seedTheCampaignWithTheVendorFiles() throws IOException {
        if (System.getenv("JAZZER_FUZZ") == null || System.getenv("JAZZER_FUZZ").isBlank()) return; // regression mode
        Path vendors = SharedTestData.require("dicom-vendors");
        Path corpus = Files.createDirectories(Path.of(".cifuzz-corpus", DicomParsersFuzzTest.class.getName(), "part10File"));
        for (String folder : List.of("ge-ct", "ge-mr", "philips-mr", "siemens-mr", "uih-mr", "transfer-syntaxes")) {
            List<Path> files;
            try (Stream<Path> s = Files.walk(vendors.resolve(folder))) {
                files = s.filter(f -> f.toString().endsWith(".dcm")).sorted().toList();
            }
            int limit = folder.equals("transfer-syntaxes") ? files.size() : Math.min(3, files.size());
            for (int i = 0; i < limit; i++) {
                byte[] b = Files.readAllBytes(files.get(i));
                Files.write(corpus.resolve("vendor-" + folder + "-" + i), beforePixelData(b));
            }
        }
    }

    /** The file up to its (top-level, little or big endian) PixelData tag; the whole file when none is found. */
    static byte[] beforePixelData(byte[] file) {
        for (int i = file.length - 4; i >= 132; i--) {
            boolean le = file[i] == (byte) 0xe0 && file[i + 1] == 0x7f && file[i + 2] == 0x10 && file[i + 3] == 0x00;
            boolean be = file[i] == 0x7f && file[i + 1] == (byte) 0xe0 && file[i + 2] == 0x00 && file[i + 3] == 0x10;
            if (le || be) return java.util.Arrays.copyOf(file, i);
        }
        return file;
    }

    @FuzzTest(maxDuration = "10s")
    void pduStream(byte[] stream) {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(stream));
        try {
            for (PduReader.Raw pdu; (pdu = PduReader.read(in, MAX_PDU)) != null; ) {
                assertTrue(pdu.body().length <= MAX_PDU, "a PDU body beyond the limit was allocated");
                if (pdu.type() == Pdu.ASSOCIATE_RQ) associateRequest(pdu.body());
                if (pdu.type() == Pdu.P_DATA_TF) commandSet(pdu.body());
            }
        } catch (IOException expected) {
            // truncated or over the limit: the SCP aborts the association
        }
    }

    @FuzzTest(maxDuration = "10s")
    void associateRequest(byte[] body) {
        try {
            AssociateRequest rq = AssociateRequest.parse(body);
            rq.calledAeTitle();
            rq.callingAeTitle();
            for (AssociateRequest.PresentationContext pc : rq.presentationContexts()) {
                pc.abstractSyntax();
                pc.transferSyntaxes().size();
            }
        } catch (IllegalArgumentException expected) {
            // a malformed request: A-ASSOCIATE-RJ / A-ABORT
        }
    }

    @FuzzTest(maxDuration = "10s")
    void commandSet(byte[] bytes) {
        try {
            CommandSet c = CommandSet.parse(bytes);
            c.commandField();
            c.messageId();
            c.hasDataSet();
            c.affectedSopClassUid();
            c.affectedSopInstanceUid();
        } catch (IllegalArgumentException expected) {
            // a malformed command: the association is aborted
        }
    }

    @FuzzTest(maxDuration = "10s")
    void part10File(byte[] file) {
        try {
            Part10.Meta meta = Part10.readMeta(file);
            assertTrue(meta.datasetOffset() >= 132 && meta.datasetOffset() <= file.length, "dataset offset outside the file: " + meta);
            DatasetStructure.verify(file, meta.datasetOffset(), meta.transferSyntaxUid());
        } catch (MalformedDicomException expected) {
            // refused to the sender with the reason
        }
    }

    @FuzzTest(maxDuration = "10s")
    void datasetInEveryTransferSyntax(FuzzedDataProvider data) {
        String ts = data.pickValue(new String[] {TransferSyntaxes.EXPLICIT_VR_LE, TransferSyntaxes.IMPLICIT_VR_LE,
                TransferSyntaxes.EXPLICIT_VR_BE, TransferSyntaxes.DEFLATED_EXPLICIT_VR_LE, "1.2.840.10008.1.2.4.70"});
        byte[] dataset = data.consumeRemainingAsBytes();
        try {
            DatasetStructure.verify(dataset, 0, ts);
        } catch (MalformedDicomException expected) {
            // refused to the sender with the reason
        }
    }

    /** Small enough that the fuzzer cannot spend its time inflating; the checks are the same as at ingest's defaults. */
    static final InflateLimits FUZZ_INFLATE = new InflateLimits(4L << 20, 50);

    /**
     * The streaming structure check of a Deflated Explicit VR Little Endian dataset as the SCP and STOW run it: inflated on
     * the way within {@link #FUZZ_INFLATE} (a deflate bomb ends as {@link InflateLimits.Exceeded}, a corrupt stream as
     * another IOException), never held whole.
     */
    @FuzzTest(maxDuration = "10s")
    void deflatedDatasetStream(byte[] compressed) {
        try {
            DatasetStructure.verify(new ByteArrayInputStream(compressed), TransferSyntaxes.DEFLATED_EXPLICIT_VR_LE, FUZZ_INFLATE);
        } catch (MalformedDicomException | IOException expected) {
            // refused to the sender with the reason (malformed, too large, or not a deflate stream)
        }
    }

    /**
     * A gzip HTTP body (STOW-RS Content-Encoding) read through {@link InflateLimits}: never more than its byte cap comes
     * out, whatever went in.
     */
    @FuzzTest(maxDuration = "10s")
    void gzipBody(byte[] compressed) {
        long read = 0;
        try (InputStream in = FUZZ_INFLATE.inflate(new ByteArrayInputStream(compressed), InflateLimits.Format.GZIP)) {
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf)) >= 0; ) {
                read += n;
                assertTrue(read <= FUZZ_INFLATE.maxBytes(), "read " + read + " inflated bytes past the cap " + FUZZ_INFLATE.maxBytes());
            }
        } catch (IOException expected) {
            // over a cap (413) or not gzip (400)
        }
    }

    @FuzzTest(maxDuration = "10s")
    void pixelDataLimits(FuzzedDataProvider data) {
        PixelDataLimits.Claim claim = new PixelDataLimits.Claim(data.consumeBoolean() ? null : data.consumeInt(),
                data.consumeBoolean() ? null : data.consumeInt(), data.consumeBoolean() ? null : data.consumeInt(),
                data.consumeBoolean() ? null : data.consumeInt(), data.consumeBoolean() ? null : data.consumeInt());
        long pixelDataLength = data.consumeBoolean() ? -1 : data.consumeLong(0, Long.MAX_VALUE);
        long fileSize = data.consumeBoolean() ? -1 : data.consumeLong(0, Long.MAX_VALUE);
        try {
            long bytes = PixelDataLimits.DEFAULT.check(claim, pixelDataLength, fileSize);
            assertTrue(bytes > 0 && bytes <= PixelDataLimits.DEFAULT.maxPixelBytes(), "accepted " + bytes + " bytes for " + claim);
            assertTrue(fileSize < 0 || bytes <= fileSize, "accepted more pixel bytes than the file holds");
        } catch (PixelDataLimits.Refused expected) {
            // the instance is refused before anything of its size is allocated
        }
    }
}
