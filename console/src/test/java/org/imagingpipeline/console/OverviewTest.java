package org.imagingpipeline.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the overview makes of the services' JSON (the shapes of retrain's GET /models and streams' GET /domains). */
class OverviewTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ServiceCalls.Answer ok(String json) throws Exception {
        return new ServiceCalls.Answer(200, JSON.readTree(json), null);
    }

    @Test
    void aDomainWithoutItsOwnModelIsServedByTheDefaultModel() throws Exception {
        ServiceCalls.Answer models = ok("""
                [{"domainId":"default","serving":{"version":"source-1"},"servedBy":"default","versions":[{"version":"source-1","status":"PROMOTED"}]},
                 {"domainId":"dom-a","serving":{"version":"source-1"},"servedBy":"default","versions":[{"version":"dom-a-adabn-1","status":"REJECTED","method":"adabn"}]},
                 {"domainId":"dom-b","serving":{"version":"dom-b-standardise-2"},"servedBy":"dom-b","versions":[{"version":"dom-b-standardise-2","status":"PROMOTED","method":"standardise"}]}]""");
        Map<String, String> serving = Overview.servingByDomain(models);
        assertEquals(Map.of("default", "model source-1", "dom-b", "model dom-b-standardise-2"), serving,
                "only a domain's own model is named (dom-a falls back to the default model)");

        Overview.Section<Overview.Scanner> scanners = Overview.scanners(ok("""
                [{"id":"dom-a","status":"DRIFT_CONFIRMED","seriesCount":4,"fingerprint":{"institution":"CS"},
                  "evidence":{"test":"shrunk-hotelling-permutation","pValue":0.0033,"n":4,"threshold":0.005,"comparedTo":"dom-k"}},
                 {"id":"dom-b","status":"KNOWN","seriesCount":9,"fingerprint":{"institution":"DU"}}]"""), serving);
        assertEquals("default model", scanners.rows().get(0).serving());
        assertTrue(scanners.rows().get(0).flagged());
        assertTrue(scanners.rows().get(0).evidence().contains("p = 0.0033"), scanners.rows().get(0).evidence());
        assertEquals("model dom-b-standardise-2", scanners.rows().get(1).serving());
        assertFalse(scanners.rows().get(1).flagged());

        Overview.Section<Overview.Model> rows = Overview.models(models);
        assertFalse(rows.rows().get(1).canRollBack(), "nothing of its own to roll back");
        assertTrue(rows.rows().get(2).canRollBack());
        assertEquals("dom-b-standardise-2 (PROMOTED, standardise)", rows.rows().get(2).latest());
    }

    @Test
    void aServiceThatDoesNotAnswerGivesItsSectionAProblemNotRows() {
        ServiceCalls.Answer down = new ServiceCalls.Answer(0, null, "streams is unavailable (ConnectException)");
        Overview.Section<Overview.Scanner> s = Overview.scanners(down, Map.of());
        assertTrue(s.rows().isEmpty());
        assertEquals("streams is unavailable (ConnectException)", s.problem());
    }
}
