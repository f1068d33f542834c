package org.imagingpipeline.fhirbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.junit.jupiter.api.Test;

/**
 * docs/fhir-mapping.md shows a real bundle: the one the mapper makes for {@link TestResults#ok}. The test fails when
 * the document is stale; run with {@code -Dfhir.docs.update=true} to rewrite the generated block.
 */
class FhirMappingDocTest {
    static final String BEGIN = "<!-- BEGIN GENERATED EXAMPLE BUNDLE (fhir-bridge FhirMappingDocTest) -->";
    static final String END = "<!-- END GENERATED EXAMPLE BUNDLE -->";

    @Test
    void documentShowsTheBundleTheMapperMakes() throws Exception {
        Bundle b = new ResultMapper(MappingOptions.defaults()).map(
                TestResults.ok(TestResults.series(1), "3", "PAT-001"), List.of());
        assertEquals(List.of(), TestSupport.validator().validate(b).errors(), "the documented bundle is valid");
        String json = TestSupport.CTX.newJsonParser().setPrettyPrint(true).encodeResourceToString(b);
        Path doc = BrokerProcess.repoRoot().resolve("docs").resolve("fhir-mapping.md");
        String md = Files.readString(doc);
        int s = md.indexOf(BEGIN);
        int e = md.indexOf(END);
        String rendered = md.substring(0, s + BEGIN.length()) + "\n```json\n" + json + "\n```\n" + md.substring(e);
        if (Boolean.getBoolean("fhir.docs.update")) {
            Files.writeString(doc, rendered);
            return;
        }
        assertEquals(rendered, md, "docs/fhir-mapping.md is stale: rerun this test with -Dfhir.docs.update=true");
    }
}
