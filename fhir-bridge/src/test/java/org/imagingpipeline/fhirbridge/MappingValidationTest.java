package org.imagingpipeline.fhirbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.validation.SingleValidationMessage;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.ImagingStudy;
import org.hl7.fhir.r4.model.Media;
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
        assertEquals(10, b.getEntry().size(),
                "Patient, Endpoint, ImagingStudy, Device, 3 Observations, Media, DiagnosticReport, Provenance");
    }

    @Test
    void studyAndSegPointAtDicomWeb() {
        var r = TestResults.ok(TestResults.series(7), "3", "PAT-007");
        Bundle b = MAPPER.map(r, List.of());
        assertValid(b);
        Bundle.BundleEntryComponent endpointEntry = b.getEntry().stream().filter(e -> e.getResource() instanceof Endpoint)
                .findFirst().orElseThrow();
        Endpoint endpoint = (Endpoint) endpointEntry.getResource();
        assertEquals("dicom-wado-rs", endpoint.getConnectionType().getCode());
        assertEquals(MappingOptions.LOCAL_DICOMWEB, endpoint.getAddress());
        assertEquals("identifier=" + java.net.URLEncoder.encode(Codes.ID_DICOMWEB_ENDPOINT + "|" + MappingOptions.LOCAL_DICOMWEB,
                java.nio.charset.StandardCharsets.UTF_8), endpointEntry.getRequest().getIfNoneExist(), "one Endpoint per service");
        ImagingStudy study = b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
                .filter(x -> x instanceof ImagingStudy).map(ImagingStudy.class::cast).findFirst().orElseThrow();
        assertEquals(endpointEntry.getFullUrl(), study.getEndpointFirstRep().getReference());
        Media media = b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
                .filter(x -> x instanceof Media).map(Media.class::cast).findFirst().orElseThrow();
        assertEquals(MappingOptions.LOCAL_DICOMWEB + "/studies/" + r.studyInstanceUid() + "/series/" + r.seg().seriesInstanceUid()
                + "/instances/" + r.seg().sopInstanceUid(), media.getContent().getUrl());
        assertTrue(b.getEntry().stream().noneMatch(e -> ctx.newJsonParser().encodeResourceToString(e.getResource()).contains("file:")),
                "no internal blob path reaches the EHR");

        MappingOptions none = new MappingOptions(DiagnosticReport.DiagnosticReportStatus.PRELIMINARY,
                "urn:imaging-pipeline:patient-id:local", "urn:imaging-pipeline:patient-id:", java.util.Map.of(), " ");
        Bundle without = new ResultMapper(none).map(r, List.of());
        assertValid(without);
        assertTrue(without.getEntry().stream().noneMatch(e -> e.getResource() instanceof Endpoint));
        Media bare = without.getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
                .filter(x -> x instanceof Media).map(Media.class::cast).findFirst().orElseThrow();
        assertTrue(!bare.getContent().hasUrl(), "no DICOMweb configured: identifiers only");
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
                "urn:imaging-pipeline:patient-id:local", "urn:imaging-pipeline:patient-id:", java.util.Map.of(),
                MappingOptions.LOCAL_DICOMWEB);
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
                List.of(new ResultMapper.Superseded(old, "Device/5")));
        assertValid(b);
        org.hl7.fhir.r4.model.Provenance prov = b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
                .filter(x -> x instanceof org.hl7.fhir.r4.model.Provenance).map(org.hl7.fhir.r4.model.Provenance.class::cast)
                .findFirst().orElseThrow();
        assertEquals("Device/5", prov.getEntity().stream()
                        .filter(e -> e.getRole() == org.hl7.fhir.r4.model.Provenance.ProvenanceEntityRole.REVISION)
                        .findFirst().orElseThrow().getAgentFirstRep().getWho().getReference(),
                "the revised report is attributed to the model that made it");
        List<DiagnosticReport> reports = b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
                .filter(x -> x instanceof DiagnosticReport).map(DiagnosticReport.class::cast).toList();
        assertEquals(2, reports.size());
        assertEquals(DiagnosticReport.DiagnosticReportStatus.AMENDED, reports.get(0).getStatus());
        assertEquals(DiagnosticReport.DiagnosticReportStatus.FINAL, reports.get(1).getStatus(), "old keeps its status");
        assertTrue(reports.get(1).getMeta().getTag(Codes.TAG_SYSTEM, Codes.TAG_SUPERSEDED) != null);
        assertEquals("DiagnosticReport/17", b.getEntry().get(9).getRequest().getUrl());
        // A placeholder, not the EHR's absolute URL (which a HAPI JPA server refuses as an external reference).
        assertTrue(b.getEntry().get(9).getFullUrl().startsWith("urn:uuid:"), b.getEntry().get(9).getFullUrl());
        assertEquals(b.getEntry().get(9).getFullUrl(), prov.getEntity().stream()
                .filter(e -> e.getRole() == org.hl7.fhir.r4.model.Provenance.ProvenanceEntityRole.REVISION)
                .findFirst().orElseThrow().getWhat().getReference());
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
