package org.imagingpipeline.retrain.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.events.ModelVersion.Status;
import org.imagingpipeline.retrain.service.registry.Promotion;
import org.imagingpipeline.retrain.service.registry.RegistryRecords;
import org.imagingpipeline.retrain.service.registry.RegistryView;
import org.junit.jupiter.api.Test;

class PromotionTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final String SHA_A = "a".repeat(64);
    private static final String SHA_B = "b".repeat(64);
    private static final String SHA_P = "c".repeat(64);

    private static Promotion.Candidate candidate(String version, String sha, Map<String, Object> gate) {
        return new Promotion.Candidate("dom-x", version, "unet", "file:///m/" + sha + ".onnx", sha, "adabn", SHA_P, "h".repeat(64), 3,
                gate, "job-1");
    }

    @Test
    void passedGatePromotesWithRoutingRecordAndEvidence() {
        Promotion.Decision d = Promotion.decide(candidate("v1", SHA_A, Map.of("passed", true, "reasons", List.of(),
                "source_dice_before", 0.8, "source_dice_after", 0.79)), T0);
        assertTrue(d.promoted());
        List<RegistryRecords.Keyed> r = d.records();
        assertEquals(List.of("dom-x@v1", "dom-x@v1", "dom-x"), r.stream().map(RegistryRecords.Keyed::key).toList());
        assertEquals(List.of(Status.CANDIDATE, Status.PROMOTED, Status.PROMOTED), r.stream().map(k -> k.value().status()).toList());
        ModelVersion routing = r.get(2).value();
        assertEquals(new ModelVersion.Serving("v1", "file:///m/" + SHA_A + ".onnx", SHA_A), routing.serving());
        assertEquals("dom-x@v1#PROMOTED", routing.eventId());
        assertEquals(SHA_P, routing.parentSha256());
        assertEquals(3, routing.seriesCount());
        assertEquals(0.79, routing.evidence().get("source_dice_after"));
        assertEquals(true, routing.evidence().get("gate_passed"));
        assertEquals("promoted: gate passed", routing.evidence().get("decision"));
        assertNull(r.get(0).value().serving(), "history records do not route");
    }

    @Test
    void aCandidateAutoDidNotChooseIsRejectedEvenWhenItsGatePassed() {
        Promotion.Decision passedButNotChosen = Promotion.notChosen(candidate("v2", SHA_B, Map.of("passed", true, "reasons", List.of())),
                "normaliser", T0);
        assertFalse(passedButNotChosen.promoted(), "only the chosen candidate may serve");
        assertEquals(List.of(Status.CANDIDATE, Status.REJECTED), passedButNotChosen.records().stream().map(k -> k.value().status()).toList());
        assertEquals("rejected: gate passed but not chosen (auto chose normaliser)", passedButNotChosen.text());
        assertEquals(true, passedButNotChosen.records().get(1).value().evidence().get("gate_passed"), "the verdict stays on record");
        Promotion.Decision failed = Promotion.notChosen(candidate("v3", SHA_B, Map.of("passed", false, "reasons", List.of("fail: x"))),
                null, T0);
        assertEquals("rejected: gate failed: fail: x (no candidate passed the gate)", failed.text());
        assertTrue(failed.records().stream().allMatch(k -> k.value().serving() == null), "no routing record");
    }

    @Test
    void failedOrMissingGateRejectsWithoutRouting() {
        Promotion.Decision failed = Promotion.decide(candidate("v1", SHA_A, Map.of("passed", false,
                "reasons", List.of("source Dice fell by 0.05 (tolerance 0.02)"))), T0);
        assertFalse(failed.promoted());
        assertEquals(List.of("dom-x@v1", "dom-x@v1"), failed.records().stream().map(RegistryRecords.Keyed::key).toList());
        assertEquals(Status.REJECTED, failed.records().get(1).value().status());
        assertEquals("rejected: gate failed: source Dice fell by 0.05 (tolerance 0.02)", failed.text());
        Promotion.Decision none = Promotion.decide(candidate("v1", SHA_A, null), T0);
        assertFalse(none.promoted());
        assertTrue(none.text().contains("no gate"), none.text());
    }

    @Test
    void rollbackReturnsToThePreviousPromotedVersionThenToTheDefault() {
        RegistryView view = new RegistryView();
        apply(view, Promotion.decide(candidate("v1", SHA_A, Map.of("passed", true)), T0).records());
        apply(view, Promotion.decide(candidate("v2", SHA_B, Map.of("passed", true)), T0.plusSeconds(60)).records());
        assertEquals("v2", view.servingFor("dom-x").orElseThrow().version());

        Promotion.Rollback first = Promotion.rollback(view, "dom-x", "worse on review", T0.plusSeconds(120)).orElseThrow();
        assertEquals("v2", first.rolledBack().version());
        assertEquals("v1", first.nowServing().version());
        assertEquals(List.of("dom-x@v2", "dom-x"), first.records().stream().map(RegistryRecords.Keyed::key).toList());
        assertTrue(first.records().stream().allMatch(k -> k.value().status() == Status.ROLLED_BACK));
        apply(view, first.records());
        assertEquals("v1", view.servingFor("dom-x").orElseThrow().version());

        Promotion.Rollback second = Promotion.rollback(view, "dom-x", "again", T0.plusSeconds(180)).orElseThrow();
        assertNull(second.nowServing(), "back to the default model");
        apply(view, second.records());
        assertTrue(Promotion.rollback(view, "dom-x", "again", T0.plusSeconds(240)).isEmpty(), "nothing left to roll back");
        view.apply("default", new ModelVersion(1, "e", "default", "source-1", "unet", "file:///s.onnx", SHA_P, Status.PROMOTED,
                "source", null, null, null, null, new ModelVersion.Serving("source-1", "file:///s.onnx", SHA_P), T0), offset++);
        assertEquals("source-1", view.servingFor("dom-x").orElseThrow().version(), "a domain without its own model uses the default");
    }

    @Test
    void aLaggingReaderCannotTakeAKeyBackToAnOlderRecord() {
        RegistryView view = new RegistryView();
        List<RegistryRecords.Keyed> v1 = Promotion.decide(candidate("v1", SHA_A, Map.of("passed", true)), T0).records();
        List<RegistryRecords.Keyed> v2 = Promotion.decide(candidate("v2", SHA_B, Map.of("passed", true)), T0).records();
        view.apply(v2.get(2).key(), v2.get(2).value(), 12); // the publisher, right after the ack
        view.apply(v1.get(2).key(), v1.get(2).value(), 5); // the reader, still behind
        assertEquals("v2", view.servingFor("dom-x").orElseThrow().version());
        view.apply(v2.get(2).key(), v2.get(2).value(), 12); // the reader catching up: the same record again
        assertEquals("v2", view.servingFor("dom-x").orElseThrow().version());
    }

    private long offset;

    private void apply(RegistryView view, List<RegistryRecords.Keyed> records) {
        records.forEach(r -> view.apply(r.key(), r.value(), offset++));
    }
}
