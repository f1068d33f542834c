package org.imagingpipeline.fhirbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.validation.SingleValidationMessage;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.Observation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every bundle the mapper produces validates with 0 errors (real validator, offline); a broken one is caught. */
class MappingValidationTest {
    static FhirContext ctx;
    static BundleValidator validator;
    static final ResultMapper MAPPER = new ResultMapper(MappingOptions.defaults());

    @BeforeAll
    static void setUp() {
        ctx = TestSupport.CTX;
        validator = TestSupport.validator();
    }

    private static void assertValid(Bundle b) {
        BundleValidator.Outcome o = validator.validate(b);
        for (SingleValidationMessage m : o.result().getMessages()) {
            System.err.println(m.getSeverity() + " " + m.getLocationString() + " " + m.getMessage());
        }
        assertEquals(List.of(), o.errors().stream().map(m -> m.getLocationString() + ": " + m.getMessage()).toList());
    }

    @Test
    void okResultValidates() {
        Bundle b = MAPPER.map(TestResults.ok(TestResults.series(1), "3", "PAT-001"), List.of());
        System.out.println(ctx.newJsonParser().setPrettyPrint(true).encodeResourceToString(b));
        assertValid(b);
        assertEquals(9, b.getEntry().size(), "Patient, ImagingStudy, Device, 3 Observations, Media, DiagnosticReport, Provenance");
    }

    @Test
    void errorResultValidates() {
        Bundle b = MAPPER.map(TestResults.error(TestResults.series(2), "3", "PAT-002"), List.of());
        assertValid(b);
        DiagnosticReport r = (DiagnosticReport) b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
                .filter(x -> x instanceof DiagnosticReport).findFirst().orElseThrow();
        assertEquals(DiagnosticReport.DiagnosticReportStatus.CANCELLED, r.getStatus());
    }

    @Test
    void missingStatusIsCaught() {
        Bundle b = MAPPER.map(TestResults.ok(TestResults.series(3), "3", "PAT-003"), List.of());
        b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource).filter(x -> x instanceof Observation)
                .findFirst().map(x -> ((Observation) x).setStatus(null));
        BundleValidator.Outcome o = validator.validate(b);
        assertTrue(o.hasErrors(), "missing Observation.status must be an error");
        assertTrue(o.errors().stream().anyMatch(m -> m.getMessage().contains("status")), o.errors().toString());
    }
}
