package org.imagingpipeline.retrain.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.imagingpipeline.retrain.service.adapt.AdaptResult;
import org.junit.jupiter.api.Test;

/** The adapt command's last stdout line as the service reads it, for one method and for auto. */
class AdaptResultTest {

    static final String SHA = "a".repeat(64);

    @Test
    void oneMethodNamesItsModel() throws IOException {
        AdaptResult r = AdaptResult.parse("{\"model\":\"w/adapted.onnx\",\"sha256\":\"" + SHA + "\",\"parent_sha256\":\"" + "b".repeat(64)
                + "\",\"method\":\"adabn\",\"gate\":{\"passed\":true,\"reasons\":[\"pass: x\"]}}");
        assertEquals("w/adapted.onnx", r.model());
        assertTrue(r.gatePassed());
        assertFalse(r.nothingChosen());
        assertEquals("adabn", r.methodOr("adabn"));
    }

    @Test
    void autoNamesTheChosenMethod() throws IOException {
        AdaptResult r = AdaptResult.parse("{\"model\":\"w/adapted.onnx\",\"sha256\":\"" + SHA + "\",\"method\":\"auto\","
                + "\"chosen_method\":\"normaliser\",\"gate\":{\"passed\":true},\"candidates\":[]}");
        assertEquals("normaliser", r.methodOr("auto"));
        assertFalse(r.nothingChosen());
    }

    @Test
    void autoWithNoPassingCandidateHasNoModelAndSaysWhy() throws IOException {
        AdaptResult r = AdaptResult.parse("{\"model\":null,\"sha256\":null,\"method\":\"auto\",\"chosen_method\":null,"
                + "\"gate\":{\"passed\":false,\"reasons\":[\"fail: 0 of the 3 target proxies better\"]},"
                + "\"candidates\":[{\"method\":\"adabn\",\"passed\":false},{\"method\":\"normaliser\",\"passed\":false}]}");
        assertTrue(r.nothingChosen());
        assertNull(r.model());
        assertFalse(r.gatePassed());
        assertEquals(1, r.gateReasons().size());
    }

    @Test
    void keptCandidatesAreTheUnchosenOnesWithAFileAGateAndASha() throws IOException {
        String b = "b".repeat(64), c = "c".repeat(64);
        AdaptResult r = AdaptResult.parse("{\"model\":\"w/adapted.onnx\",\"sha256\":\"" + SHA + "\",\"method\":\"auto\","
                + "\"chosen_method\":\"normaliser\",\"gate\":{\"passed\":true},\"candidates\":["
                + "{\"method\":\"adabn\",\"passed\":false,\"sha256\":\"" + b + "\",\"model\":\"w/adapted.candidate-adabn.onnx\","
                + "\"gate\":{\"passed\":false,\"reasons\":[\"fail: x\"]}},"
                + "{\"method\":\"normaliser\",\"passed\":true,\"sha256\":\"" + SHA + "\",\"gate\":{\"passed\":true}},"
                + "{\"method\":\"finetune\",\"passed\":true,\"sha256\":\"" + c + "\",\"model\":\"w/adapted.candidate-finetune.onnx\","
                + "\"gate\":{\"passed\":true}},"
                + "{\"method\":\"entropy\",\"passed\":false,\"sha256\":\"" + c + "\"},"
                + "{\"method\":\"finetune\",\"passed\":false,\"error\":\"needs corrected masks\"}]}");
        List<AdaptResult.KeptCandidate> kept = r.keptCandidates();
        assertEquals(List.of("adabn", "finetune"), kept.stream().map(AdaptResult.KeptCandidate::method).toList(),
                "the chosen one, one without a file and one never run are not kept candidates");
        assertEquals(b, kept.get(0).sha256());
        assertFalse(kept.get(0).passed());
        assertEquals("w/adapted.candidate-adabn.onnx", kept.get(0).model());
        assertTrue(kept.get(1).passed());
        assertTrue(AdaptResult.parse("{\"model\":\"w/a.onnx\",\"sha256\":\"" + SHA + "\",\"method\":\"adabn\",\"gate\":null}")
                .keptCandidates().isEmpty(), "one method: no candidates");
    }

    @Test
    void contradictionsAndMissingFieldsAreErrors() {
        assertThrows(IOException.class, () -> AdaptResult.parse("{\"model\":\"x.onnx\",\"sha256\":\"" + SHA
                + "\",\"method\":\"auto\",\"chosen_method\":null}"));
        assertThrows(IOException.class, () -> AdaptResult.parse("{\"method\":\"adabn\",\"gate\":null}"));
        assertThrows(IOException.class, () -> AdaptResult.parse("not json"));
    }
}
