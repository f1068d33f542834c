package org.imagingpipeline.demo;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.imagingpipeline.events.EventJson;
import org.junit.jupiter.api.Test;

/** The report page from its Qute template: the summary's numbers, tables and charts, every value HTML-escaped. */
class DemoPageTest {
    @Test
    void rendersTheSummaryAndEscapesEveryValue() throws Exception {
        JsonNode s = EventJson.mapper().readTree("""
                {"studies_sent":12,"reports_in_ehr":11,"lost":1,"fhir_validation_errors":0,"synthetic_data":true,
                 "simulated_series":3,"data":"phantoms <b>not</b> patients","results_on_topic":12,"error_results":0,
                 "latency_ms":{"p50":4373.2,"p95":null,"max":9000},
                 "domains":[{"id":"dom-1","status":"DRIFT_CONFIRMED","site_folders":["DU-HELDOUT-NEWSCANNER"],
                   "fingerprint":{"manufacturer":"SIM","model":"X","institution":"DU","station":"SIM NEWSCANNER","fieldStrength":"3"},
                   "series":4,"flagged_after_series":3,"evidence":{"test":"mmd","statistic":0.2,"pValue":0.001,"n":3}}],
                 "models":[{"version":"dom-1-adabn-1","sha256":"0123456789abcdef0123","domain":"dom-1","method":"adabn",
                   "status":"PROMOTED","parent_sha256":"fedcba9876543210fedc","series_segmented":2,"dice_before":0.5,
                   "dice_after":0.6,"evidence":{"decision":"promoted: <better>","labelled_target_series":3}}],
                 "series_by_site_and_model":{"DU -> source-1":5}}
                """);
        String html = DemoPage.render(s, List.of("DU", "HT"), List.of(new DemoPage.Chart("data:image/png;base64,AAAA", "dice & more")));
        assertTrue(html.contains("12 studies sent, 11 with reports in the EHR, lost: 1"), html);
        assertTrue(html.contains("SYNTHETIC data."));
        assertTrue(html.contains("<b>SIMULATED scanner.</b> 3 series were phantoms"));
        assertTrue(html.contains("p50 4373 ms, p95 n/a, max 9000 ms"));
        assertTrue(html.contains("For 3 series of domain <code>dom-1</code>"));
        assertTrue(html.contains("src='data:image/png;base64,AAAA'"));
        assertTrue(html.contains("dice &amp; more"));
        assertTrue(html.contains("phantoms &lt;b&gt;not&lt;/b&gt; patients"), "values are escaped");
        assertFalse(html.contains("<better>"));
        assertTrue(html.contains("promoted: &lt;better&gt;"));
        assertTrue(html.contains("<code>dom-1-adabn-1</code><br><small>0123456789ab…</small>"));
        assertTrue(html.contains("mmd statistic 0.2, p 0.001, n 3"));
        assertTrue(html.contains("<td>DU -&gt; source-1</td><td>5</td>"));
        assertTrue(html.contains("Sites: DU, HT."));
    }
}
