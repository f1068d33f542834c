package org.imagingpipeline.fhirbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ca.uhn.fhir.util.VersionUtil;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.ImagingStudy;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Provenance;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.imagingpipeline.events.DeliveryFailure;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.SegmentationResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bridge's real delivery path ({@link ResultProcessor}, real validator) against a real HAPI FHIR JPA server (module
 * ehr-jpa-server: HAPI's JPA storage with its default settings over H2, in its own JVM, bearer token required), the
 * scenarios {@link EhrDeliveryTest} runs against the stand-in: conditional creates, supersession with If-Match, version
 * conflicts, series merged into one ImagingStudy, the other patient's study, error results. Races the server cannot
 * stage are staged by a {@link TransactionGate} between the bridge and the server. The server is never cleared: every
 * test has its own series and patients. What the server stores is read back over FHIR and validated.
 */
class JpaEhrScenarioTest {
    static JpaEhrProcess ehr;
    static TransactionGate gate;
    static ResultProcessor processor;
    static ResultProcessor gated;
    static final SimpleMeterRegistry REGISTRY = new SimpleMeterRegistry();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static final DeliveryFailure.SourceRecord SRC = new DeliveryFailure.SourceRecord("t", 0, 0);

    @BeforeAll
    static void start() throws Exception {
        ehr = JpaEhrProcess.start();
        System.err.printf("JpaEhrScenarioTest: %s (ready %d ms after launch)%n", ehr.readyLine(), ehr.startTime().toMillis());
        gate = new TransactionGate(ehr.baseUrl());
        processor = processor(ehr.baseUrl(), ehr.token());
        gated = processor(gate.baseUrl(), ehr.token());
    }

    @AfterAll
    static void stop() throws Exception {
        if (gate != null) gate.close();
        if (ehr != null) ehr.close();
    }

    private static ResultProcessor processor(String base, String token) {
        EhrClient client = new EhrClient(TestSupport.CTX, base, Duration.ofSeconds(10), Duration.ofSeconds(60),
                AuthProvider.bearer(token));
        return new ResultProcessor(new ResultMapper(MappingOptions.defaults()), TestSupport.validator(), client,
                new BridgeMetrics(REGISTRY));
    }

    private static ResultProcessor.Decision deliver(ResultProcessor p, SegmentationResult r, int attempt) throws Exception {
        return p.attempt(EventJson.mapper().writeValueAsBytes(r), SRC, attempt, Instant.now());
    }

    private static ResultProcessor.Delivered delivered(SegmentationResult r) throws Exception {
        ResultProcessor.Decision d = deliver(processor, r, 1);
        if (d instanceof ResultProcessor.DeadLetter dl) {
            throw new AssertionError("dead-lettered: " + dl.failure().detail() + " " + dl.failure().operationOutcome()
                    + "\n" + ehr.logTail());
        }
        return assertInstanceOf(ResultProcessor.Delivered.class, d, () -> d + "\n" + ehr.logTail());
    }

    @Test
    void theServerIsHapiJpaAtTheBridgesVersionAndRefusesRequestsWithoutTheToken() throws Exception {
        assertTrue(ehr.readyLine().contains("HAPI-FHIR " + VersionUtil.getVersion() + " JPA R4"),
                "server and bridge run the same HAPI version: " + ehr.readyLine());
        assertEquals(401, get("metadata", null).statusCode());
        HttpResponse<String> wrong = get("metadata", "not-the-token");
        assertEquals(401, wrong.statusCode());
        assertTrue(wrong.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
        HttpResponse<String> ok = get("metadata", ehr.token());
        assertEquals(200, ok.statusCode(), ok.body());
        CapabilityStatement cs = TestSupport.CTX.newJsonParser().parseResource(CapabilityStatement.class, ok.body());
        assertTrue(cs.getSoftware().getName().contains("HAPI FHIR"), cs.getSoftware().getName());
        // The bridge with a wrong token: retried (never dead-lettered), nothing stored.
        ResultProcessor refused = processor(ehr.baseUrl(), "not-the-token");
        assertEquals("http_401", assertInstanceOf(ResultProcessor.Retry.class,
                deliver(refused, TestResults.ok(TestResults.series(60), "3", "PAT-J60"), 1)).reason());
        assertTrue(search("Patient?identifier=" + enc(pidSystem() + "|PAT-J60")).isEmpty());
    }

    @Test
    void sameResultTwiceMakesExactlyOneOfEachResource() throws Exception {
        SegmentationResult r = TestResults.ok(TestResults.series(61), "3", "PAT-J61");
        delivered(r);
        delivered(r);
        Stored s = stored("PAT-J61", "3");
        assertEquals(1, s.patients.size());
        assertEquals(1, s.studies.size());
        assertEquals(5, s.observations.size());
        assertEquals(1, s.media.size());
        assertEquals(1, s.reports.size());
        assertEquals(1, s.provenances.size());
        assertEquals(1, s.devices.size());
        assertEquals(1, s.endpoints.size());
        DiagnosticReport d = (DiagnosticReport) s.reports.get(0);
        assertEquals(DiagnosticReport.DiagnosticReportStatus.PRELIMINARY, d.getStatus());
        assertEquals(5, d.getResult().size());
        assertTrue(d.getResult().get(0).getReference().startsWith("Observation/"));
        assertTrue(d.getImagingStudyFirstRep().getReference().startsWith("ImagingStudy/"));
        assertEquals("1", d.getMeta().getVersionId(), "the redelivery matched the report, it did not write it again");
        assertEquals("1", s.provenances.get(0).getMeta().getVersionId(), "the Provenance PUT with the same content made no version");
        // The same bundle once more, straight to the server: every conditional create answers 200 (matched).
        EhrClient.Response again = new EhrClient(TestSupport.CTX, ehr.baseUrl(), Duration.ofSeconds(10),
                Duration.ofSeconds(60), AuthProvider.bearer(ehr.token()))
                .transaction(new ResultMapper(MappingOptions.defaults()).map(r, List.of()));
        assertEquals(200, again.status(), again.body());
        Bundle answer = TestSupport.CTX.newJsonParser().parseResource(Bundle.class, again.body());
        List<String> statuses = answer.getEntry().stream().map(e -> e.getResponse().getStatus()).toList();
        System.err.println("JpaEhrScenarioTest: transaction-response of a redelivery: " + statuses);
        for (int i = 0; i < statuses.size() - 1; i++) assertTrue(statuses.get(i).startsWith("200"), statuses.toString());
        assertValid(s.all());

        // The SR's measurement group, found by its Observation UID as the DICOM SR to FHIR mapping names it, holds the
        // stored measurements, each found by its own Observation UID.
        SegmentationResult.Content c = r.sr().content();
        List<Resource> groups = search("Observation?identifier=" + enc(Codes.DICOM_UID + "|urn:oid:" + c.measurementGroupUid()));
        assertEquals(1, groups.size(), "the measurement group by its Observation UID");
        Observation group = (Observation) groups.get(0);
        assertEquals("125007", group.getCategoryFirstRep().getCodingFirstRep().getCode());
        assertEquals("108369006", group.getValueCodeableConcept().getCodingFirstRep().getCode());
        assertTrue(group.getDerivedFrom().stream().anyMatch(x -> x.getReference().startsWith("Media/")), "the SEG");
        List<String> members = group.getHasMember().stream().map(x -> x.getReferenceElement().toUnqualifiedVersionless().getValue())
                .toList();
        for (String uid : List.of(c.volumeUid(), c.slicesWithLesionUid(), c.meanPredictiveEntropyUid())) {
            List<Resource> m = search("Observation?identifier=" + enc(Codes.DICOM_UID + "|urn:oid:" + uid));
            assertEquals(1, m.size(), uid);
            assertTrue(members.contains(m.get(0).getIdElement().toUnqualifiedVersionless().getValue()), members + " " + uid);
            assertTrue(((Observation) m.get(0)).getPartOfFirstRep().getReference().startsWith("ImagingStudy/"));
        }
    }

    @Test
    void newModelVersionSupersedesAndOldRedeliveryDoesNotFlipIt() throws Exception {
        String series = TestResults.series(62);
        delivered(TestResults.ok(series, "3", "PAT-J62"));
        delivered(TestResults.ok(series, "4", "PAT-J62"));
        delivered(TestResults.ok(series, "3", "PAT-J62")); // a late redelivery of the old result
        Stored s = stored("PAT-J62", "3", "4");
        assertEquals(2, s.reports.size());
        DiagnosticReport v3 = byKey(s.reports, ResultMapper.reportKey(series, "3"));
        DiagnosticReport v4 = byKey(s.reports, ResultMapper.reportKey(series, "4"));
        assertNotNull(v3.getMeta().getTag(Codes.TAG_SYSTEM, Codes.TAG_SUPERSEDED));
        assertFalse(v3.getIdentifier().stream().anyMatch(i -> Codes.ID_SERIES_REPORT.equals(i.getSystem())));
        assertEquals("2", v3.getMeta().getVersionId(), "created, then superseded (with If-Match W/\"1\")");
        assertEquals(DiagnosticReport.DiagnosticReportStatus.PRELIMINARY, v3.getStatus(), "its status is left as it was");
        assertNull(v4.getMeta().getTag(Codes.TAG_SYSTEM, Codes.TAG_SUPERSEDED));
        // The server's own searches agree: one current report, one not superseded.
        List<Resource> current = search("DiagnosticReport?identifier=" + enc(Codes.ID_SERIES_REPORT + "|" + series));
        assertEquals(List.of(v4.getIdElement().getIdPart()), ids(current));
        List<Resource> notSuperseded = search("DiagnosticReport?subject=" + patientRef(s) + "&_tag:not="
                + enc(Codes.TAG_SYSTEM + "|" + Codes.TAG_SUPERSEDED));
        assertEquals(List.of(v4.getIdElement().getIdPart()), ids(notSuperseded));
        // Provenance of the new report: its model as author, the old report as revision by the old model.
        Provenance prov = (Provenance) single(search("Provenance?target=DiagnosticReport/" + v4.getIdElement().getIdPart()));
        TestSupport.assertProvenanceNamesBothModels(prov, v3, deviceOf(v3), deviceOf(v4));
        // vread: the superseded report as first stored.
        DiagnosticReport first = (DiagnosticReport) read("DiagnosticReport/" + v3.getIdElement().getIdPart() + "/_history/1");
        assertEquals("1", first.getMeta().getVersionId());
        assertNull(first.getMeta().getTag(Codes.TAG_SYSTEM, Codes.TAG_SUPERSEDED));
        assertEquals(1, s.patients.size());
        assertEquals(2, s.devices.size());
        assertValid(s.all());
    }

    @Test
    void aReportChangedAfterTheBridgeReadItIsRefusedByTheServerThenReadAgain() throws Exception {
        String series = TestResults.series(63);
        delivered(TestResults.ok(series, "3", "PAT-J63"));
        DiagnosticReport v3 = byKey(stored("PAT-J63", "3").reports, ResultMapper.reportKey(series, "3"));
        String oldId = v3.getIdElement().getIdPart();
        // Another writer changes the version-3 report after the bridge searched it and before its transaction lands.
        gate.beforeNextTransaction(() -> {
            DiagnosticReport now = (DiagnosticReport) read("DiagnosticReport/" + oldId);
            assertEquals(200, put("DiagnosticReport/" + oldId, now.setConclusion(now.getConclusion() + " Addendum: reviewed."))
                    .statusCode());
        });
        SegmentationResult v4 = TestResults.ok(series, "4", "PAT-J63");
        ResultProcessor.Decision first = deliver(gated, v4, 1);
        String reason = assertInstanceOf(ResultProcessor.Retry.class, first, () -> first + "\n" + ehr.logTail()).reason();
        System.err.println("JpaEhrScenarioTest: a stale If-Match on the superseded report: retry reason " + reason);
        assertTrue(Set.of("http_409", "http_412").contains(reason), reason);
        Stored between = stored("PAT-J63", "3", "4");
        assertEquals(1, between.reports.size(), "all or nothing: no version-4 report yet");
        assertEquals(5, between.observations.size(), "nor its Observations");

        assertInstanceOf(ResultProcessor.Delivered.class, deliver(gated, v4, 2));
        Stored s = stored("PAT-J63", "3", "4");
        assertEquals(2, s.reports.size());
        DiagnosticReport old = byKey(s.reports, ResultMapper.reportKey(series, "3"));
        assertNotNull(old.getMeta().getTag(Codes.TAG_SYSTEM, Codes.TAG_SUPERSEDED));
        assertTrue(old.getConclusion().endsWith(" Addendum: reviewed."), "the other writer's change is kept: " + old.getConclusion());
        assertEquals("3", old.getMeta().getVersionId(), "created, changed by the other writer, superseded");
        assertValid(s.all());
    }

    @Test
    void aStaleIfMatchIsRefusedByTheServerItself() throws Exception {
        // The server's answer to a PUT whose If-Match names an older version, outside any transaction.
        SegmentationResult r = TestResults.ok(TestResults.series(64), "3", "PAT-J64");
        delivered(r);
        DiagnosticReport d = (DiagnosticReport) stored("PAT-J64", "3").reports.get(0);
        String id = d.getIdElement().getIdPart();
        assertEquals(200, put("DiagnosticReport/" + id, d.setConclusion("changed once")).statusCode());
        HttpResponse<String> stale = send(HttpRequest.newBuilder(URI.create(ehr.baseUrl() + "/DiagnosticReport/" + id))
                .header("Content-Type", "application/fhir+json").header("If-Match", "W/\"1\"")
                .PUT(HttpRequest.BodyPublishers.ofString(TestSupport.CTX.newJsonParser().encodeResourceToString(
                        d.setConclusion("changed on a stale copy")))));
        System.err.println("JpaEhrScenarioTest: PUT with a stale If-Match answered " + stale.statusCode() + ": "
                + stale.body().replaceAll("\\s+", " "));
        assertTrue(stale.statusCode() == 409 || stale.statusCode() == 412, stale.statusCode() + " " + stale.body());
        assertEquals("changed once", ((DiagnosticReport) read("DiagnosticReport/" + id)).getConclusion());
    }

    @Test
    void everySeriesOfAStudyIsListedInItsOneImagingStudy() throws Exception {
        String a = TestResults.series(65), b = TestResults.series(66);
        delivered(TestResults.ok(a, "3", "PAT-J65"));
        delivered(TestResults.ok(b, "3", "PAT-J65"));
        Stored s = stored("PAT-J65", "3");
        assertEquals(1, s.studies.size());
        ImagingStudy study = (ImagingStudy) s.studies.get(0);
        assertEquals(List.of(a, a + ".9", a + ".8", b, b + ".9", b + ".8"), seriesUids(study));
        assertEquals("2", study.getMeta().getVersionId(), "created, then the second series added (If-Match W/\"1\")");
        delivered(TestResults.ok(b, "3", "PAT-J65")); // a redelivery changes nothing
        assertEquals("2", ((ImagingStudy) single(stored("PAT-J65", "3").studies)).getMeta().getVersionId());
        assertEquals(2, s.reports.size());
        for (Resource r : s.reports) {
            assertEquals("ImagingStudy/" + study.getIdElement().getIdPart(),
                    ((DiagnosticReport) r).getImagingStudyFirstRep().getReference());
        }
        assertValid(s.all());
    }

    @Test
    void aStudyChangedAfterTheBridgeReadItIsReadAgainAndKeepsTheChange() throws Exception {
        String a = TestResults.series(67), b = TestResults.series(68);
        delivered(TestResults.ok(a, "3", "PAT-J67"));
        String studyId = single(stored("PAT-J67", "3").studies).getIdElement().getIdPart();
        gate.beforeNextTransaction(() -> {
            ImagingStudy now = (ImagingStudy) read("ImagingStudy/" + studyId);
            assertEquals(200, put("ImagingStudy/" + studyId, now.setDescription("MR brain, edited by the archive")).statusCode());
        });
        SegmentationResult rb = TestResults.ok(b, "3", "PAT-J67");
        ResultProcessor.Decision first = deliver(gated, rb, 1);
        assertTrue(Set.of("http_409", "http_412").contains(
                assertInstanceOf(ResultProcessor.Retry.class, first, () -> first + "\n" + ehr.logTail()).reason()));
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(gated, rb, 2));
        ImagingStudy study = (ImagingStudy) single(stored("PAT-J67", "3").studies);
        assertEquals("MR brain, edited by the archive", study.getDescription());
        assertEquals(List.of(a, a + ".9", a + ".8", b, b + ".9", b + ".8"), seriesUids(study));
        assertEquals("3", study.getMeta().getVersionId());
    }

    @Test
    void theFirstResultsOfTwoSeriesOfANewStudyAtOnceBothEndUpInTheStudy() throws Exception {
        String a = TestResults.series(69), b = TestResults.series(70);
        // Result b searched and found no study; before its transaction lands, result a (another partition or bridge
        // instance) is delivered completely. b's conditional create of the study then matches a's study.
        gate.beforeNextTransaction(() -> delivered(TestResults.ok(a, "3", "PAT-J69")));
        SegmentationResult rb = TestResults.ok(b, "3", "PAT-J69");
        ResultProcessor.Decision first = deliver(gated, rb, 1);
        assertEquals("study_created_concurrently", assertInstanceOf(ResultProcessor.Retry.class, first,
                () -> first + "\n" + ehr.logTail()).reason());
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(gated, rb, 2));
        Stored s = stored("PAT-J69", "3");
        ImagingStudy study = (ImagingStudy) single(s.studies);
        assertEquals(List.of(a, a + ".9", a + ".8", b, b + ".9", b + ".8"), seriesUids(study));
        assertEquals(2, s.reports.size());
        assertEquals(1, s.patients.size());
        assertInstanceOf(ResultProcessor.Delivered.class, deliver(gated, rb, 1), "a redelivery is not retried again");
        assertValid(s.all());
    }

    @Test
    void aStudyOfAnotherPatientUnderTheSameUidIsNeitherChangedNorLinkedFromThisPatientsReport() throws Exception {
        String a = TestResults.series(71), b = TestResults.series(72);
        delivered(TestResults.ok(a, "3", "PAT-J71"));
        delivered(TestResults.ok(b, "3", "PAT-J72", TestResults.study("PAT-J71")));
        ImagingStudy study = (ImagingStudy) single(stored("PAT-J71", "3").studies);
        assertEquals(List.of(a, a + ".9", a + ".8"), seriesUids(study));
        assertEquals("1", study.getMeta().getVersionId());
        Stored other = stored("PAT-J72", "3");
        assertTrue(other.studies.isEmpty());
        DiagnosticReport report = (DiagnosticReport) single(other.reports);
        assertTrue(report.getImagingStudy().isEmpty(), "PAT-J72's report must not point at PAT-J71's study");
        for (Resource o : other.observations) {
            // derived from its own SEG (the measurement group) at most; never from, nor part of, the other's study
            assertTrue(((Observation) o).getDerivedFrom().stream().allMatch(x -> x.getReference().startsWith("Media/")), o.getId());
            assertTrue(((Observation) o).getPartOf().isEmpty(), o.getId());
        }
        assertValid(other.all());
    }

    @Test
    void errorResultIsFiledAsCancelledReport() throws Exception {
        SegmentationResult r = TestResults.error(TestResults.series(73), "3", "PAT-J73");
        delivered(r);
        Stored s = storedUnder(new ResultMapper(MappingOptions.defaults()).patientIdentifier(r).getSystem(), "PAT-J73", "3");
        DiagnosticReport d = (DiagnosticReport) single(s.reports);
        assertEquals(DiagnosticReport.DiagnosticReportStatus.CANCELLED, d.getStatus());
        assertTrue(s.observations.isEmpty());
        assertTrue(s.media.isEmpty());
        assertValid(s.all());
    }

    @Test
    void aReferenceTheServerDoesNotHoldIsRejectedAndDeadLettered() throws Exception {
        // A valid bundle the server must refuse: its Provenance names a Device the server does not hold.
        SegmentationResult r = TestResults.ok(TestResults.series(74), "3", "PAT-J74");
        Bundle b = new ResultMapper(MappingOptions.defaults()).map(r, List.of());
        b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource).filter(x -> x instanceof Provenance)
                .forEach(x -> ((Provenance) x).getAgentFirstRep().setWho(new Reference("Device/not-in-this-ehr")));
        DeliveryFailure f = assertInstanceOf(ResultProcessor.DeadLetter.class,
                processor.validateAndSend(r, b, SRC, 1, Instant.now())).failure();
        System.err.println("JpaEhrScenarioTest: unknown reference answered " + f.httpStatus() + ": " + f.operationOutcome());
        assertEquals(DeliveryFailure.Reason.EHR_REJECTED, f.reason());
        assertTrue(f.httpStatus() == 400 || f.httpStatus() == 404, "HTTP " + f.httpStatus());
        OperationOutcome oo = TestSupport.CTX.newJsonParser().parseResource(OperationOutcome.class, f.operationOutcome());
        assertTrue(oo.getIssueFirstRep().getDiagnostics().contains("Device/not-in-this-ehr"), f.operationOutcome());
        assertTrue(search("Patient?identifier=" + enc(pidSystem() + "|PAT-J74")).isEmpty(), "all or nothing");
    }

    // ------------------------------------------------------------------ reading back

    /** What the server holds for one patient (and the Devices of the given model versions, the one Endpoint). */
    record Stored(List<Resource> patients, List<Resource> studies, List<Resource> observations, List<Resource> media,
                  List<Resource> reports, List<Resource> provenances, List<Resource> devices, List<Resource> endpoints) {
        List<Resource> all() {
            List<Resource> out = new ArrayList<>();
            for (List<Resource> l : List.of(patients, studies, observations, media, reports, provenances, devices, endpoints)) {
                out.addAll(l);
            }
            return out;
        }
    }

    private static Stored stored(String patientId, String... modelVersions) throws Exception {
        return storedUnder(pidSystem(), patientId, modelVersions);
    }

    private static Stored storedUnder(String system, String patientId, String... modelVersions) throws Exception {
        List<Resource> patients = search("Patient?identifier=" + enc(system + "|" + patientId));
        assertEquals(1, patients.size(), "one Patient " + patientId);
        String subject = "Patient/" + patients.get(0).getIdElement().getIdPart();
        List<Resource> reports = search("DiagnosticReport?subject=" + subject);
        List<Resource> provenances = new ArrayList<>();
        for (Resource r : reports) provenances.addAll(search("Provenance?target=DiagnosticReport/" + r.getIdElement().getIdPart()));
        List<Resource> devices = new ArrayList<>();
        for (String v : modelVersions) devices.addAll(search("Device?identifier=" + enc(Codes.ID_MODEL + "|lgg-flair-unet:" + v)));
        return new Stored(patients, search("ImagingStudy?subject=" + subject), search("Observation?subject=" + subject),
                search("Media?subject=" + subject), reports, provenances, devices,
                search("Endpoint?identifier=" + enc(Codes.ID_DICOMWEB_ENDPOINT + "|" + MappingOptions.LOCAL_DICOMWEB)));
    }

    private static String patientRef(Stored s) {
        return "Patient/" + s.patients.get(0).getIdElement().getIdPart();
    }

    /** The Patient identifier system of TestResults.ok's issuer (SITE_A). */
    private static String pidSystem() {
        return "urn:imaging-pipeline:patient-id:SITE_A";
    }

    /** Every resource as stored validates with 0 errors (the bridge's own offline validator). */
    private static void assertValid(List<Resource> resources) {
        List<String> errors = new ArrayList<>();
        for (Resource r : resources) {
            for (var m : TestSupport.validator().validate(r).errors()) {
                errors.add(r.fhirType() + "/" + r.getIdElement().getIdPart() + " " + m.getLocationString() + ": " + m.getMessage());
            }
        }
        assertEquals(List.of(), errors);
    }

    /** A search, fresh (Cache-Control: no-cache: the server's cache of earlier searches is not used), every match. */
    static List<Resource> search(String query) throws Exception {
        HttpResponse<String> r = get(query + (query.contains("?") ? "&" : "?") + "_count=50", ehr.token());
        assertEquals(200, r.statusCode(), r.body());
        Bundle b = TestSupport.CTX.newJsonParser().parseResource(Bundle.class, r.body());
        assertFalse(b.getLink().stream().anyMatch(l -> "next".equals(l.getRelation())), "more than one page: " + query);
        return b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource).toList();
    }

    static Resource read(String path) throws Exception {
        HttpResponse<String> r = get(path, ehr.token());
        assertEquals(200, r.statusCode(), r.body());
        return (Resource) TestSupport.CTX.newJsonParser().parseResource(r.body());
    }

    private static HttpResponse<String> put(String path, Resource body) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(ehr.baseUrl() + "/" + path)).header("Content-Type", "application/fhir+json")
                .PUT(HttpRequest.BodyPublishers.ofString(TestSupport.CTX.newJsonParser().encodeResourceToString(body))));
    }

    private static HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(ehr.baseUrl() + "/" + path))
                .header("Accept", "application/fhir+json").header("Cache-Control", "no-cache").GET();
        if (token != null) b.header("Authorization", "Bearer " + token);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return HTTP.send(b.header("Authorization", "Bearer " + ehr.token()).header("Accept", "application/fhir+json").build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String deviceOf(DiagnosticReport d) throws Exception {
        return ((Observation) read(d.getResultFirstRep().getReference())).getDevice().getReference();
    }

    private static DiagnosticReport byKey(List<Resource> reports, String key) {
        return reports.stream().map(DiagnosticReport.class::cast).filter(d -> d.getIdentifier().stream()
                .anyMatch(i -> Codes.ID_REPORT.equals(i.getSystem()) && key.equals(i.getValue()))).findFirst()
                .orElseThrow(() -> new AssertionError("no report " + key));
    }

    private static Resource single(List<Resource> l) {
        assertEquals(1, l.size(), () -> "expected one, got " + ids(l));
        return l.get(0);
    }

    private static List<String> ids(List<Resource> l) {
        return l.stream().map(r -> r.getIdElement().getIdPart()).toList();
    }

    private static List<String> seriesUids(ImagingStudy s) {
        return s.getSeries().stream().map(ImagingStudy.ImagingStudySeriesComponent::getUid).toList();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
