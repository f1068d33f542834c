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
import org.imagingpipeline.events.SegmentationResult;
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
        assertEquals(12, b.getEntry().size(),
                "Patient, Endpoint, ImagingStudy, Device, 5 Observations, Media, DiagnosticReport, Provenance");
    }

    /**
     * The SR's measurement content as the HL7 DICOM SR to FHIR guide maps it, in R4: a Measurement Group Observation
     * (category DCM 125007, code the finding category, value the finding, derivedFrom the SEG's Media) whose members are
     * the measurements, every one carrying its SR content item's Observation UID and partOf the ImagingStudy.
     */
    @Test
    void srMeasurementsMapToAMeasurementGroupWithItsMembers() {
        var r = TestResults.ok(TestResults.series(8), "3", "PAT-008");
        Bundle b = MAPPER.map(r, List.of());
        assertValid(b);
        java.util.Map<String, Bundle.BundleEntryComponent> byUid = new java.util.HashMap<>();
        for (Bundle.BundleEntryComponent e : b.getEntry()) {
            if (!(e.getResource() instanceof Observation o)) continue;
            for (org.hl7.fhir.r4.model.Identifier id : o.getIdentifier()) {
                if (id.getType().getCoding().stream().anyMatch(c -> Codes.DICOM_IDENTIFIER_TYPE.equals(c.getSystem())
                        && "observation-uid".equals(c.getCode()))) {
                    assertEquals(Codes.DICOM_UID, id.getSystem());
                    byUid.put(id.getValue().substring("urn:oid:".length()), e);
                }
            }
        }
        SegmentationResult.Content c = r.sr().content();
        assertEquals(java.util.Set.of(c.measurementGroupUid(), c.volumeUid(), c.slicesWithLesionUid(),
                c.meanPredictiveEntropyUid()), byUid.keySet(), "one Observation per SR content item, by Observation UID");
        Observation group = (Observation) byUid.get(c.measurementGroupUid()).getResource();
        assertEquals("125007", group.getCategoryFirstRep().getCodingFirstRep().getCode());
        assertEquals("49755003", group.getCode().getCodingFirstRep().getCode(), "the SR's finding category");
        assertEquals("108369006", group.getValueCodeableConcept().getCodingFirstRep().getCode(), "the SR's finding");
        assertEquals(List.of(byUid.get(c.volumeUid()).getFullUrl(), byUid.get(c.slicesWithLesionUid()).getFullUrl(),
                byUid.get(c.meanPredictiveEntropyUid()).getFullUrl()),
                group.getHasMember().stream().map(org.hl7.fhir.r4.model.Reference::getReference).toList());
        String mediaUrl = b.getEntry().stream().filter(e -> e.getResource() instanceof Media).findFirst().orElseThrow().getFullUrl();
        assertTrue(group.getDerivedFrom().stream().anyMatch(x -> mediaUrl.equals(x.getReference())), "the SEG");
        String studyUrl = b.getEntry().stream().filter(e -> e.getResource() instanceof ImagingStudy).findFirst().orElseThrow()
                .getFullUrl();
        for (Bundle.BundleEntryComponent e : byUid.values()) {
            assertEquals(studyUrl, ((Observation) e.getResource()).getPartOfFirstRep().getReference());
        }
        Observation slices = (Observation) byUid.get(c.slicesWithLesionUid()).getResource();
        assertEquals(r.lesion().slicesWithLesion(), slices.getValueQuantity().getValue().intValue());

        // A result without the SR's content (an older producer): the measures as before, no group.
        var old = new org.imagingpipeline.events.SegmentationResult(r.schemaVersion(), r.eventId(), r.status(), r.error(),
                r.studyInstanceUid(), r.seriesInstanceUid(), r.sopInstanceUids(), r.patientId(), r.issuerOfPatientId(),
                r.accessionNumber(), r.modality(), r.instanceCount(), r.studyDate(), r.domainId(), r.model(), r.lesion(),
                r.seg(), new SegmentationResult.Sr(r.sr().sopInstanceUid(), r.sr().seriesInstanceUid(), r.sr().blob(), null),
                r.timings(), r.completedAt());
        Bundle before = MAPPER.map(old, List.of());
        assertValid(before);
        assertEquals(3, before.getEntry().stream().filter(e -> e.getResource() instanceof Observation).count());
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
        Bundle.BundleEntryComponent replaced = b.getEntry().stream()
                .filter(e -> e.getRequest().getMethod() == Bundle.HTTPVerb.PUT && e.getResource() instanceof DiagnosticReport)
                .findFirst().orElseThrow();
        assertEquals("DiagnosticReport/17", replaced.getRequest().getUrl());
        // A placeholder, not the EHR's absolute URL (which a HAPI JPA server refuses as an external reference).
        assertTrue(replaced.getFullUrl().startsWith("urn:uuid:"), replaced.getFullUrl());
        assertEquals(replaced.getFullUrl(), prov.getEntity().stream()
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
