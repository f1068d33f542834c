package org.imagingpipeline.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The bench's out-of-sample means: the corrected series are finetune's training data, never its evidence. */
class AdaptationBenchmarkTest {
    @Test
    void meansLeaveTheCorrectedPatientsOut() {
        Map<String, Double> dice = Map.of("P1", 0.9, "P2", 0.1, "P3", 0.5, "P4", 0.3);
        assertEquals(0.3, AdaptationBenchmark.meanWithout(dice, List.of("P1")), 1e-12);
        assertEquals(0.45, AdaptationBenchmark.meanWithout(dice, List.of()), 1e-12);
        assertEquals(0.3, AdaptationBenchmark.meanWithout(dice, List.of("P1", "unknown")), 1e-12);
    }
}
