package org.imagingpipeline.fhirbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ca.uhn.fhir.rest.server.exceptions.InternalErrorException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.ImagingStudy;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Provenance;
import org.hl7.fhir.r4.model.Resource;
import org.imagingpipeline.events.DeliveryFailure;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.fhirbridge.ehr.EhrServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Delivery against the real EHR stand-in with the real validator: idempotence, supersession, error handling. */
class EhrDeliveryTest {
    static EhrServer ehr;
    static ResultProcessor processor;
    static SimpleMeterRegistry registry = new SimpleMeterRegistry();
    static final DeliveryFailure.SourceRecord SRC = new DeliveryFailure.SourceRecord("t", 0, 0);

    @BeforeAll
    static void start() throws Exception {
        ehr = TestSupport.startEhr();
        processor = TestSupport.processor(ehr, registry);
    }

    @AfterAll
    static void stop() throws Exception {
        ehr.stop();
    }

    @BeforeEach
    void clean() {
        ehr.store().clear();
        ehr.setTransactionFault(null);
    }

    private static ResultProcessor.Decision deliver(SegmentationResult r) throws Exception {
        return processor.attempt(EventJson.mapper().writeValueAsBytes(r), SRC, 1, Instant.now());
    }

    @Test
    void sameResultTwiceMakesOneReport() throws Exception {
        SegmentationResult r = TestResults.ok(TestResults.series(10), "3", "PAT-010");
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(r));
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(r));
        assertEquals(1, ehr.store().count("DiagnosticReport"));
        assertEquals(5, ehr.store().count("Observation"));
        assertEquals(1, ehr.store().count("Patient"));
        assertEquals(1, ehr.store().count("ImagingStudy"));
        assertEquals(1, ehr.store().count("Device"));
        assertEquals(1, ehr.store().count("Media"));
        assertEquals(1, ehr.store().count("Provenance"));
        DiagnosticReport d = (DiagnosticReport) TestSupport.all(ehr, "DiagnosticReport").get(0);
        assertEquals(DiagnosticReport.DiagnosticReportStatus.PRELIMINARY, d.getStatus());
        assertEquals(5, d.getResult().size());
        assertTrue(d.getResult().get(0).getReference().startsWith("Observation/"));
        assertTrue(d.getImagingStudyFirstRep().getReference().startsWith("ImagingStudy/"));
        // The redelivery's Provenance PUT has the same content: no new version (as on a HAPI JPA server).
        assertEquals("1", TestSupport.all(ehr, "Provenance").get(0).getMeta().getVersionId());
    }

    @Test
    void searchesTheDemoUses() throws Exception {
        deliver(TestResults.ok(TestResults.series(11), "3", "PAT-011"));
        deliver(TestResults.ok(TestResults.series(12), "3", "PAT-012"));
        Patient p = (Patient) ehr.store().search("Patient", x -> ((Patient) x).getIdentifierFirstRep().getValue()
                .equals("PAT-011")).get(0);
        HttpClient http = HttpClient.newHttpClient();
        String subject = get(http, "DiagnosticReport?subject=Patient/" + p.getIdElement().getIdPart());
        assertEquals(1, TestSupport.CTX.newJsonParser().parseResource(Bundle.class, subject).getEntry().size());
        String byPid = get(http, "Patient?identifier=urn:imaging-pipeline:patient-id:SITE_A%7CPAT-012");
        assertEquals(1, TestSupport.CTX.newJsonParser().parseResource(Bundle.class, byPid).getEntry().size());
        String byKey = get(http, "DiagnosticReport?identifier=" + Codes.ID_REPORT + "%7C"
                + ResultMapper.reportKey(TestResults.series(12), "3"));
        assertEquals(1, TestSupport.CTX.newJsonParser().parseResource(Bundle.class, byKey).getEntry().size());
        String all = get(http, "DiagnosticReport");
        assertEquals(2, TestSupport.CTX.newJsonParser().parseResource(Bundle.class, all).getEntry().size());
    }

    private static String get(HttpClient http, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(ehr.baseUrl() + "/" + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    @Test
    void newModelVersionSupersedesAndOldRedeliveryDoesNotFlipIt() throws Exception {
        String series = TestResults.series(13);
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(TestResults.ok(series, "3", "PAT-013")));
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(TestResults.ok(series, "4", "PAT-013")));
        // a late redelivery of the old result
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(TestResults.ok(series, "3", "PAT-013")));
        List<Resource> reports = TestSupport.all(ehr, "DiagnosticReport");
        assertEquals(2, reports.size());
        DiagnosticReport v3 = byKey(reports, ResultMapper.reportKey(series, "3"));
        DiagnosticReport v4 = byKey(reports, ResultMapper.reportKey(series, "4"));
        assertNotNull(v3.getMeta().getTag(Codes.TAG_SYSTEM, Codes.TAG_SUPERSEDED));
        assertFalse(v3.getIdentifier().stream().anyMatch(i -> Codes.ID_SERIES_REPORT.equals(i.getSystem())));
        assertNull(v4.getMeta().getTag(Codes.TAG_SYSTEM, Codes.TAG_SUPERSEDED));
        assertTrue(v4.getIdentifier().stream().anyMatch(i -> Codes.ID_SERIES_REPORT.equals(i.getSystem())));
        Provenance prov = (Provenance) ehr.store().search("Provenance", p -> ((Provenance) p).getTarget().stream()
                .anyMatch(t -> t.getReference().equals("DiagnosticReport/" + v4.getIdElement().getIdPart()))).get(0);
        // Both models are named: the new one as the Provenance's author, the old one as the revised report's author.
        TestSupport.assertProvenanceNamesBothModels(prov, v3, deviceOf(v3), deviceOf(v4));
        // vread: the superseded report as first stored (the demo takes a replayed series' latency from it).
        DiagnosticReport first = TestSupport.CTX.newJsonParser().parseResource(DiagnosticReport.class,
                get(HttpClient.newHttpClient(), "DiagnosticReport/" + v3.getIdElement().getIdPart() + "/_history/1"));
        assertEquals("1", first.getMeta().getVersionId());
        assertNull(first.getMeta().getTag(Codes.TAG_SYSTEM, Codes.TAG_SUPERSEDED));
        assertEquals(1, ehr.store().count("Patient"));
    }

    /** The Device reference a stored report's first Observation names. */
    private String deviceOf(DiagnosticReport d) {
        String obs = d.getResultFirstRep().getReference();
        return ((org.hl7.fhir.r4.model.Observation) ehr.store().read("Observation", obs.substring(obs.indexOf('/') + 1)))
                .getDevice().getReference();
    }

    @Test
    void aReportChangedAfterTheBridgeReadItIsReadAgainNotOverwritten() throws Exception {
        String series = TestResults.series(18);
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(TestResults.ok(series, "3", "PAT-018")));
        String oldId = byKey(TestSupport.all(ehr, "DiagnosticReport"), ResultMapper.reportKey(series, "3"))
                .getIdElement().getIdPart();
        // Another writer changes the version-3 report after the bridge searched it and before its transaction lands.
        AtomicBoolean changed = new AtomicBoolean();
        ehr.setTransactionFault(b -> {
            if (changed.compareAndSet(false, true)) {
                DiagnosticReport now = (DiagnosticReport) ehr.store().read("DiagnosticReport", oldId);
                ehr.store().put("DiagnosticReport", oldId, now.setConclusion(now.getConclusion() + " Addendum: reviewed."));
            }
            return null;
        });
        SegmentationResult v4 = TestResults.ok(series, "4", "PAT-018");
        byte[] value = EventJson.mapper().writeValueAsBytes(v4);
        ResultProcessor.Decision first = processor.attempt(value, SRC, 1, Instant.now());
        assertEquals("http_412", assertInstanceOf(ResultProcessor.Retry.class, first).reason(),
                "the PUT of the superseded report carries If-Match with the version read, so the stale copy is refused");
        assertEquals(1, ehr.store().count("DiagnosticReport"), "all or nothing: no version-4 report yet");

        assertInstanceOf(ResultProcessor.Delivered.class, processor.attempt(value, SRC, 2, Instant.now()));
        List<Resource> reports = TestSupport.all(ehr, "DiagnosticReport");
        assertEquals(2, reports.size());
        DiagnosticReport old = byKey(reports, ResultMapper.reportKey(series, "3"));
        assertNotNull(old.getMeta().getTag(Codes.TAG_SYSTEM, Codes.TAG_SUPERSEDED));
        assertTrue(old.getConclusion().endsWith(" Addendum: reviewed."), "the other writer's change is kept: " + old.getConclusion());
        assertEquals("3", old.getMeta().getVersionId(), "created, changed by the other writer, superseded");
    }

    @Test
    void aConflictThatPersistsIsDeadLetteredAfterFiveAttempts() throws Exception {
        ehr.setTransactionFault(b -> new PreconditionFailedException("Conditional URL matched 2 resources"));
        byte[] value = EventJson.mapper().writeValueAsBytes(TestResults.ok(TestResults.series(19), "3", "PAT-019"));
        for (int attempt = 1; attempt < ResultProcessor.CONFLICT_ATTEMPTS; attempt++) {
            assertEquals("http_412", assertInstanceOf(ResultProcessor.Retry.class,
                    processor.attempt(value, SRC, attempt, Instant.now())).reason());
        }
        DeliveryFailure f = assertInstanceOf(ResultProcessor.DeadLetter.class,
                processor.attempt(value, SRC, ResultProcessor.CONFLICT_ATTEMPTS, Instant.now())).failure();
        assertEquals(DeliveryFailure.Reason.EHR_REJECTED, f.reason());
        assertEquals(412, f.httpStatus());
    }

    @Test
    void everySeriesOfAStudyIsListedInItsOneImagingStudy() throws Exception {
        String a = TestResults.series(20), b = TestResults.series(21);
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(TestResults.ok(a, "3", "PAT-020")));
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(TestResults.ok(b, "3", "PAT-020")));
        assertEquals(1, ehr.store().count("ImagingStudy"));
        ImagingStudy study = (ImagingStudy) TestSupport.all(ehr, "ImagingStudy").get(0);
        assertEquals(List.of(a, a + ".9", a + ".8", b, b + ".9", b + ".8"), study.getSeries().stream().map(ImagingStudy.ImagingStudySeriesComponent::getUid).toList());
        assertEquals("2", study.getMeta().getVersionId(), "created, then the second series added");
        // Redelivery and a result of a series already listed change nothing.
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(TestResults.ok(b, "3", "PAT-020")));
        assertEquals("2", ((ImagingStudy) TestSupport.all(ehr, "ImagingStudy").get(0)).getMeta().getVersionId());
        List<Resource> reports = TestSupport.all(ehr, "DiagnosticReport");
        assertEquals(2, reports.size());
        for (Resource r : reports) {
            assertEquals("ImagingStudy/" + study.getIdElement().getIdPart(),
                    ((DiagnosticReport) r).getImagingStudyFirstRep().getReference());
        }
    }

    @Test
    void aStudyOfAnotherPatientUnderTheSameUidIsNeitherChangedNorLinkedFromThisPatientsReport() throws Exception {
        String a = TestResults.series(22), b = TestResults.series(23);
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(TestResults.ok(a, "3", "PAT-022")));
        double conflicts = conflicts();
        // PAT-023's series arrives under PAT-022's StudyInstanceUID (a modality reusing UIDs, a mis-merge upstream).
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(TestResults.ok(b, "3", "PAT-023", TestResults.study("PAT-022"))));
        assertEquals(conflicts + 1, conflicts());
        ImagingStudy study = (ImagingStudy) TestSupport.all(ehr, "ImagingStudy").get(0);
        assertEquals(1, ehr.store().count("ImagingStudy"));
        assertEquals(List.of(a, a + ".9", a + ".8"), study.getSeries().stream().map(ImagingStudy.ImagingStudySeriesComponent::getUid).toList());
        assertEquals("1", study.getMeta().getVersionId());
        DiagnosticReport other = byKey(TestSupport.all(ehr, "DiagnosticReport"), ResultMapper.reportKey(b, "3"));
        assertTrue(other.getImagingStudy().isEmpty(), "PAT-023's report must not point at PAT-022's study");
        String studyRef = "ImagingStudy/" + study.getIdElement().getIdPart();
        for (Resource o : ehr.store().search("Observation", x -> true)) {
            if (((org.hl7.fhir.r4.model.Observation) o).getSubject().getReference().equals(other.getSubject().getReference())) {
                assertTrue(((org.hl7.fhir.r4.model.Observation) o).getDerivedFrom().stream().noneMatch(d -> d.getReference().equals(studyRef)));
            }
        }
        assertFalse(other.getSubject().getReference().equals(study.getSubject().getReference()));
    }

    @Test
    void theFirstResultsOfTwoSeriesOfANewStudyAtOnceBothEndUpInTheStudy() throws Exception {
        String a = TestResults.series(26), b = TestResults.series(27);
        // Result b searched and found no study; before its transaction runs, result a (another partition or bridge
        // instance) creates the patient and the study with its own series only. b's conditional create then matches it.
        AtomicBoolean raced = new AtomicBoolean();
        ehr.setTransactionFault(bundle -> {
            if (raced.compareAndSet(false, true)) {
                Bundle first = new ResultMapper(MappingOptions.defaults()).map(TestResults.ok(a, "3", "PAT-026"), List.of());
                Patient p = (Patient) first.getEntry().get(0).getResource().copy();
                ehr.store().put("Patient", "race-patient", p);
                ImagingStudy s = (ImagingStudy) first.getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
                        .filter(x -> x instanceof ImagingStudy).findFirst().orElseThrow().copy();
                s.setSubject(new Reference("Patient/race-patient"));
                s.getEndpoint().clear();
                ehr.store().put("ImagingStudy", "race-study", s);
            }
            return null;
        });
        byte[] value = EventJson.mapper().writeValueAsBytes(TestResults.ok(b, "3", "PAT-026"));
        assertEquals("study_created_concurrently", assertInstanceOf(ResultProcessor.Retry.class,
                processor.attempt(value, SRC, 1, Instant.now())).reason());
        assertInstanceOf(ResultProcessor.Delivered.class, processor.attempt(value, SRC, 2, Instant.now()));
        assertEquals(1, ehr.store().count("ImagingStudy"));
        ImagingStudy study = (ImagingStudy) ehr.store().read("ImagingStudy", "race-study");
        assertEquals(List.of(a, a + ".9", a + ".8", b, b + ".9", b + ".8"), study.getSeries().stream().map(ImagingStudy.ImagingStudySeriesComponent::getUid).toList());
        assertEquals(1, TestSupport.all(ehr, "DiagnosticReport").size(), "the second attempt matched the first's report");
        // A third delivery (redelivery) finds every series listed and is not retried again.
        assertInstanceOf(ResultProcessor.Delivered.class, processor.attempt(value, SRC, 1, Instant.now()));
    }

    private static double conflicts() {
        var c = registry.find("fhir_bridge.study_patient_conflicts").counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void aStudyChangedAfterTheBridgeReadItIsReadAgainAndKeepsTheChange() throws Exception {
        String a = TestResults.series(24), b = TestResults.series(25);
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(TestResults.ok(a, "3", "PAT-024")));
        String studyId = TestSupport.all(ehr, "ImagingStudy").get(0).getIdElement().getIdPart();
        AtomicBoolean changed = new AtomicBoolean();
        ehr.setTransactionFault(bundle -> {
            if (changed.compareAndSet(false, true)) {
                ImagingStudy now = (ImagingStudy) ehr.store().read("ImagingStudy", studyId);
                ehr.store().put("ImagingStudy", studyId, now.setDescription("MR brain, edited by the archive"));
            }
            return null;
        });
        byte[] value = EventJson.mapper().writeValueAsBytes(TestResults.ok(b, "3", "PAT-024"));
        assertEquals("http_412", assertInstanceOf(ResultProcessor.Retry.class,
                processor.attempt(value, SRC, 1, Instant.now())).reason());
        assertInstanceOf(ResultProcessor.Delivered.class, processor.attempt(value, SRC, 2, Instant.now()));
        ImagingStudy study = (ImagingStudy) TestSupport.all(ehr, "ImagingStudy").get(0);
        assertEquals("MR brain, edited by the archive", study.getDescription());
        assertEquals(List.of(a, a + ".9", a + ".8", b, b + ".9", b + ".8"), study.getSeries().stream().map(ImagingStudy.ImagingStudySeriesComponent::getUid).toList());
    }

    private static DiagnosticReport byKey(List<Resource> reports, String key) {
        return reports.stream().map(DiagnosticReport.class::cast).filter(d -> d.getIdentifier().stream()
                .anyMatch(i -> Codes.ID_REPORT.equals(i.getSystem()) && key.equals(i.getValue()))).findFirst()
                .orElseThrow();
    }

    @Test
    void errorResultIsFiledAsCancelledReport() throws Exception {
        assertInstanceOf(ResultProcessor.Delivered.class,
                deliver(TestResults.error(TestResults.series(14), "3", "PAT-014")));
        DiagnosticReport d = (DiagnosticReport) TestSupport.all(ehr, "DiagnosticReport").get(0);
        assertEquals(DiagnosticReport.DiagnosticReportStatus.CANCELLED, d.getStatus());
        assertEquals(0, ehr.store().count("Observation"));
    }

    @Test
    void badRequestGoesToDlqWithOperationOutcome() throws Exception {
        ehr.setTransactionFault(b -> new InvalidRequestException("Unknown patient identifier system"));
        ResultProcessor.Decision d = deliver(TestResults.ok(TestResults.series(15), "3", "PAT-015"));
        DeliveryFailure f = assertInstanceOf(ResultProcessor.DeadLetter.class, d).failure();
        assertEquals(DeliveryFailure.Reason.EHR_REJECTED, f.reason());
        assertEquals(400, f.httpStatus());
        OperationOutcome oo = TestSupport.CTX.newJsonParser().parseResource(OperationOutcome.class,
                f.operationOutcome());
        assertTrue(oo.getIssueFirstRep().getDiagnostics().contains("Unknown patient identifier system"));
        assertNotNull(f.bundle());
        assertEquals(0, ehr.store().count("DiagnosticReport"));
    }

    @Test
    void serverErrorsAndRefusedConnectionsAreRetried() throws Exception {
        ehr.setTransactionFault(b -> new InternalErrorException("database unavailable"));
        assertEquals("http_5xx", assertInstanceOf(ResultProcessor.Retry.class,
                deliver(TestResults.ok(TestResults.series(16), "3", "PAT-016"))).reason());
        ehr.setTransactionFault(null);
        ehr.stop();
        try {
            assertEquals("connection_refused", assertInstanceOf(ResultProcessor.Retry.class,
                    deliver(TestResults.ok(TestResults.series(16), "3", "PAT-016"))).reason());
        } finally {
            ehr.start();
        }
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(TestResults.ok(TestResults.series(16), "3", "PAT-016")));
        assertEquals(1, ehr.store().count("DiagnosticReport"));
    }

    @Test
    void brokenMappingIsCaughtAndNeverSent() throws Exception {
        SegmentationResult r = TestResults.ok(TestResults.series(17), "3", "PAT-017");
        Bundle b = new ResultMapper(MappingOptions.defaults()).map(r, List.of());
        b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource).filter(x -> x instanceof DiagnosticReport)
                .forEach(x -> ((DiagnosticReport) x).setStatus(null));
        ResultProcessor.Decision d = processor.validateAndSend(r, b, SRC, 1, Instant.now());
        DeliveryFailure f = assertInstanceOf(ResultProcessor.DeadLetter.class, d).failure();
        assertEquals(DeliveryFailure.Reason.VALIDATION_FAILED, f.reason());
        assertTrue(f.operationOutcome().contains("status"), f.operationOutcome());
        assertEquals(0, ehr.store().count("DiagnosticReport"));
        assertTrue(registry.get("fhir_bridge.validation_errors").counter().count() >= 1);
    }

    @Test
    void unreadableEventGoesToDlq() throws Exception {
        ResultProcessor.Decision d = processor.attempt("{not json".getBytes(), SRC, 1, Instant.now());
        DeliveryFailure f = assertInstanceOf(ResultProcessor.DeadLetter.class, d).failure();
        assertEquals(DeliveryFailure.Reason.UNREADABLE_EVENT, f.reason());
        assertEquals("{not json", f.rawValue());
    }
}
