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
    void supersedingBundleUnderFinalValidatesAndIsAmended() {
        MappingOptions finalStatus = new MappingOptions(DiagnosticReport.DiagnosticReportStatus.FINAL,
                "urn:imaging-pipeline:patient-id:local", "urn:imaging-pipeline:patient-id:", java.util.Map.of());
        String series = TestResults.series(4);
        // the earlier report as the EHR returns it: stored id, meta, references resolved
        DiagnosticReport old = (DiagnosticReport) new ResultMapper(finalStatus).map(TestResults.ok(series, "3", "PAT-004"),
                List.of()).getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
                .filter(x -> x instanceof DiagnosticReport).findFirst().orElseThrow();
        old.setId("http://ehr.example.org/fhir/DiagnosticReport/17/_history/1");
        old.getMeta().setVersionId("1");
        old.setSubject(new org.hl7.fhir.r4.model.Reference("Patient/1"));
        old.getImagingStudy().clear();
        old.addImagingStudy(new org.hl7.fhir.r4.model.Reference("ImagingStudy/2"));
        old.getResult().clear();
        old.addResult(new org.hl7.fhir.r4.model.Reference("Observation/4"));
        old.getMedia().clear();
        Bundle b = new ResultMapper(finalStatus).map(TestResults.ok(series, "4", "PAT-004"),
                List.of(new ResultMapper.Superseded(old)));
        assertValid(b);
        List<DiagnosticReport> reports = b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
                .filter(x -> x instanceof DiagnosticReport).map(DiagnosticReport.class::cast).toList();
        assertEquals(2, reports.size());
        assertEquals(DiagnosticReport.DiagnosticReportStatus.AMENDED, reports.get(0).getStatus());
        assertEquals(DiagnosticReport.DiagnosticReportStatus.FINAL, reports.get(1).getStatus(), "old keeps its status");
        assertTrue(reports.get(1).getMeta().getTag(Codes.TAG_SYSTEM, Codes.TAG_SUPERSEDED) != null);
        assertEquals("DiagnosticReport/17", b.getEntry().get(8).getRequest().getUrl());
        assertEquals("http://ehr.example.org/fhir/DiagnosticReport/17", b.getEntry().get(8).getFullUrl());
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
