package org.imagingpipeline.fhirbridge;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.ImagingStudy;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.imagingpipeline.events.DeliveryFailure;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SegmentationResult;
import org.jboss.logging.Logger;

/**
 * One delivery attempt for one consumed record: read the result, find the report it supersedes, map, validate,
 * POST. Says what to do with the record: it is done (delivered, or a {@link DeliveryFailure} for the DLQ), or it
 * must be tried again later (the EHR is unreachable, slow, overloaded or failing). Never throws for a bad record.
 * Logs carry UIDs and model versions only, never patient data.
 */
public final class ResultProcessor {
    private static final Logger LOG = Logger.getLogger(ResultProcessor.class);
    /** Attempts at a record the EHR answers 409/412 (a version conflict) before it is dead-lettered as rejected. */
    static final int CONFLICT_ATTEMPTS = 5;
    private final FhirContext ctx;
    private final ResultMapper mapper;
    private final BundleValidator validator;
    private final EhrClient ehr;
    private final BridgeMetrics metrics;
    private final JsonSerde<SegmentationResult> serde = JsonSerde.of(SegmentationResult.class);

    public ResultProcessor(ResultMapper mapper, BundleValidator validator, EhrClient ehr, BridgeMetrics metrics) {
        this.ctx = validator.context();
        this.mapper = mapper;
        this.validator = validator;
        this.ehr = ehr;
        this.metrics = metrics;
    }

    /** What to do with the record after an attempt. */
    public sealed interface Decision permits Delivered, DeadLetter, Retry {
    }

    /** Stored in the EHR (2xx). */
    public record Delivered(String seriesUid, String modelVersion, int httpStatus) implements Decision {
    }

    /** Permanent failure: publish {@code failure} to the DLQ, then move on. */
    public record DeadLetter(DeliveryFailure failure) implements Decision {
    }

    /** Transient failure: try the same record again after a backoff. */
    public record Retry(String reason, String detail) implements Decision {
    }

    /**
     * @param value        the record value
     * @param source       topic/partition/offset, for the DLQ record
     * @param attempt      1 for the first attempt at this record
     * @param firstAttempt when the first attempt at this record started
     */
    public Decision attempt(byte[] value, DeliveryFailure.SourceRecord source, int attempt, Instant firstAttempt)
            throws InterruptedException {
        SegmentationResult r;
        try {
            r = serde.deserialize(source.topic(), value);
            if (r == null) throw new IllegalArgumentException("empty record value");
        } catch (RuntimeException e) {
            LOG.warnf("unreadable result at %s-%d@%d: %s", source.topic(), source.partition(), source.offset(),
                    e.getMessage());
            return dlq(DeliveryFailure.Reason.UNREADABLE_EVENT, e.getMessage(), null, null, null, null,
                    value == null ? null : new String(value, StandardCharsets.UTF_8), source, attempt);
        }
        String series = r.seriesInstanceUid();
        String version = r.model().version();

        List<ResultMapper.Superseded> superseded;
        List<ImagingStudy> studies;
        ResultMapper.StoredStudy study;
        try {
            superseded = supersededReports(r);
            studies = studiesOf(r);
            study = storedStudy(r, studies);
        } catch (EhrClient.SearchFailed e) {
            return classify(e.response(), r, null, source, attempt);
        } catch (IOException e) {
            return retry(r, ioReason(e), e.toString());
        }

        Bundle bundle;
        try {
            bundle = mapper.map(r, superseded, study);
        } catch (RuntimeException e) {
            LOG.warnf("result for series %s model %s cannot be mapped: %s", series, version, e.getMessage());
            return dlq(DeliveryFailure.Reason.MAPPING_FAILED, e.getMessage(), null, null, null, r, null, source,
                    attempt);
        }
        return send(r, bundle, source, attempt, firstAttempt, studies.isEmpty());
    }

    /** Validation and POST of an already mapped bundle (also the entry point for tests that break a mapping). */
    public Decision validateAndSend(SegmentationResult r, Bundle bundle, DeliveryFailure.SourceRecord source,
                                    int attempt, Instant firstAttempt) throws InterruptedException {
        return send(r, bundle, source, attempt, firstAttempt, false);
    }

    /**
     * @param studyWasAbsent the EHR held no ImagingStudy for the result's StudyInstanceUID when it was searched: the
     *                       bundle creates it, and when the transaction says its conditional create matched one instead
     *                       (another result of the same new study, e.g. on another partition or bridge instance, created
     *                       it in between) that study may lack this result's series. The result is then tried again:
     *                       the next attempt finds the study and adds the series (with If-Match); everything else in the
     *                       bundle is idempotent.
     */
    private Decision send(SegmentationResult r, Bundle bundle, DeliveryFailure.SourceRecord source, int attempt,
                          Instant firstAttempt, boolean studyWasAbsent) throws InterruptedException {
        String series = r.seriesInstanceUid();
        String version = r.model().version();
        BundleValidator.Outcome v = validator.validate(bundle);
        if (v.hasErrors()) {
            metrics.validationErrors(v.errors().size());
            LOG.errorf("bundle for series %s model %s has %d validation errors, first: %s", series, version,
                    v.errors().size(), v.errors().get(0).getLocationString() + " " + v.errors().get(0).getMessage());
            return dlq(DeliveryFailure.Reason.VALIDATION_FAILED, v.errors().size() + " validation errors", null,
                    encode(v.operationOutcome()), encode(bundle), r, null, source, attempt);
        }
        EhrClient.Response resp;
        try {
            resp = ehr.transaction(bundle);
        } catch (IOException e) {
            return retry(r, ioReason(e), e.toString());
        }
        if (resp.ok()) {
            if (studyWasAbsent && studyCreateMatched(bundle, resp)) {
                LOG.infof("study %s was created by another result while series %s model %s was delivered: trying again "
                        + "to add the series to it", r.studyInstanceUid(), series, version);
                return retry(r, "study_created_concurrently", "ImagingStudy conditional create matched a new study");
            }
            Instant now = Instant.now();
            Instant complete = r.timings() == null ? null : r.timings().seriesCompleteAt();
            metrics.delivered(Duration.between(firstAttempt, now), complete == null ? null : Duration.between(complete, now));
            LOG.infof("delivered series %s model %s (HTTP %d, attempt %d)", series, version, resp.status(), attempt);
            return new Delivered(series, version, resp.status());
        }
        return classify(resp, r, encode(bundle), source, attempt);
    }

    /**
     * Validates a synthetic bundle once, so that the validator's first, slow run (loading and snapshotting the core
     * definitions, tens of seconds on a small machine) happens before the first real result, not on it.
     */
    public void warmUp() {
        long t0 = System.nanoTime();
        SegmentationResult sample = new SegmentationResult(SegmentationResult.SCHEMA_VERSION, "warm-up",
                SegmentationResult.Status.OK, null, "2.25.1", "2.25.2", null, "WARM-UP", null, null, "MR", 1, null,
                null, new SegmentationResult.Model("warm-up", "0", null),
                new SegmentationResult.Lesion(1, 0.001, "assumed 1x1x1 mm", 1, 0.9, 0.1),
                new SegmentationResult.Seg("2.25.3", "2.25.4", null), new SegmentationResult.Sr("2.25.5", "2.25.6", null, null), null,
                Instant.now());
        BundleValidator.Outcome o;
        try {
            o = validator.validate(mapper.map(sample, List.of()));
        } catch (RuntimeException e) {
            LOG.warn("validator warm-up failed; the first result will pay for it", e);
            return;
        }
        LOG.infof("validator ready in %d ms (%s)", (System.nanoTime() - t0) / 1_000_000,
                o.hasErrors() ? "warm-up bundle has errors: " + o.errors().get(0).getMessage() : "warm-up bundle valid");
    }

    /** Counts a retry decided outside this class. */
    public void metricsRetried(String reason) {
        metrics.retried(reason);
    }

    /** Counts a dead-lettered record once the DLQ has acknowledged it. */
    public void metricsDeadLettered(DeliveryFailure.Reason reason) {
        metrics.deadLettered(reason);
    }

    private Decision classify(EhrClient.Response resp, SegmentationResult r, String bundle,
                              DeliveryFailure.SourceRecord source, int attempt) {
        int s = resp.status();
        if (s == 429 || s == 408 || s >= 500) {
            return retry(r, s == 429 ? "http_429" : s == 408 ? "http_408" : "http_5xx", "HTTP " + s);
        }
        if (s == 401) {
            // The EHR refused our credentials, not the report (an expired or revoked token that a new one did not fix
            // yet, a token endpoint mix-up): keep the record and retry with backoff, never dead-letter it for that.
            LOG.warnf("EHR answered HTTP 401 for series %s model %s: credentials refused, will retry",
                    r.seriesInstanceUid(), r.model().version());
            return retry(r, "http_401", "HTTP 401");
        }
        if ((s == 409 || s == 412) && attempt < CONFLICT_ATTEMPTS) {
            // A version conflict: the superseded report changed between our search and our update (If-Match), so the
            // next attempt reads it again and keeps the other writer's change. A 412 can also be a conditional URL
            // that matches several resources, which no retry fixes: after CONFLICT_ATTEMPTS it is dead-lettered.
            LOG.infof("EHR answered HTTP %d for series %s model %s (attempt %d): a concurrent change, will read and retry",
                    s, r.seriesInstanceUid(), r.model().version(), attempt);
            return retry(r, "http_" + s, "HTTP " + s + ": version conflict");
        }
        LOG.warnf("EHR rejected series %s model %s with HTTP %d", r.seriesInstanceUid(), r.model().version(), s);
        return dlq(DeliveryFailure.Reason.EHR_REJECTED, "EHR answered HTTP " + s, s, outcomeOf(resp), bundle, r, null,
                source, attempt);
    }

    /**
     * The reports this result replaces: the series' current report when it is from another model version, unless
     * this result's own report is already stored (a redelivery of an older result must not supersede a newer one).
     * Error results supersede nothing.
     */
    List<ResultMapper.Superseded> supersededReports(SegmentationResult r)
            throws IOException, InterruptedException, EhrClient.SearchFailed {
        if (r.status() != SegmentationResult.Status.OK) return List.of();
        String key = ResultMapper.reportKey(r.seriesInstanceUid(), r.model().version());
        List<DiagnosticReport> current = ehr.reportsByIdentifier(Codes.ID_SERIES_REPORT, r.seriesInstanceUid());
        if (current.isEmpty()) return List.of();
        boolean ownIsCurrent = current.stream().anyMatch(d -> d.getIdentifier().stream()
                .anyMatch(i -> Codes.ID_REPORT.equals(i.getSystem()) && key.equals(i.getValue())));
        if (ownIsCurrent) return List.of();
        if (!ehr.reportsByIdentifier(Codes.ID_REPORT, key).isEmpty()) return List.of();
        List<ResultMapper.Superseded> out = new ArrayList<>();
        for (DiagnosticReport d : current) out.add(new ResultMapper.Superseded(d, modelDeviceOf(d)));
        return out;
    }

    /**
     * The Device (model) that made a report, as its first Observation names it (R4 DiagnosticReport has no device
     * element); null when the report has no result or the Observation names none or is gone.
     */
    private String modelDeviceOf(DiagnosticReport d) throws IOException, InterruptedException, EhrClient.SearchFailed {
        for (org.hl7.fhir.r4.model.Reference result : d.getResult()) {
            if (!result.hasReference()) continue;
            Optional<Observation> o = ehr.read(Observation.class, result.getReference());
            if (o.isPresent() && o.get().hasDevice() && o.get().getDevice().hasReference()) {
                return o.get().getDevice().getReference();
            }
        }
        return null;
    }

    /**
     * What the EHR holds for the result's StudyInstanceUID, when it holds exactly one ImagingStudy: of another Patient
     * resource than this result's (patient safety: the report must not point at it; logged with UIDs only, counted in
     * {@code fhir_bridge_study_patient_conflicts_total}), or of this patient without every series of this result (they
     * are added). Null otherwise (none, several, or all series listed): the bundle's conditional create then creates
     * the study or matches it unchanged.
     */
    ResultMapper.StoredStudy storedStudy(SegmentationResult r, List<ImagingStudy> studies)
            throws IOException, InterruptedException, EhrClient.SearchFailed {
        if (studies.size() != 1) return null;
        ImagingStudy stored = studies.get(0);
        Identifier pid = mapper.patientIdentifier(r);
        List<Patient> patients = ehr.byIdentifier(Patient.class, pid.getSystem(), pid.getValue());
        String subject = stored.getSubject().getReferenceElement().getIdPart();
        if (patients.size() != 1 || subject == null || !subject.equals(patients.get(0).getIdElement().getIdPart())) {
            LOG.warnf("study %s is in the EHR for another patient than series %s: the report is filed without a link to "
                    + "that ImagingStudy", r.studyInstanceUid(), r.seriesInstanceUid());
            metrics.studyPatientConflict();
            return new ResultMapper.StoredStudy(stored, true);
        }
        List<String> listed = stored.getSeries().stream().map(ImagingStudy.ImagingStudySeriesComponent::getUid).toList();
        return listed.containsAll(ResultMapper.seriesOf(r)) ? null : new ResultMapper.StoredStudy(stored, false);
    }

    /** The ImagingStudy resources the EHR holds under the result's StudyInstanceUID. */
    List<ImagingStudy> studiesOf(SegmentationResult r) throws IOException, InterruptedException, EhrClient.SearchFailed {
        Identifier sid = ResultMapper.studyIdentifier(r);
        return ehr.byIdentifier(ImagingStudy.class, sid.getSystem(), sid.getValue());
    }

    /**
     * Whether the bundle's ImagingStudy conditional create (POST with ifNoneExist) answered 200 (an existing study
     * matched) rather than 201 in the transaction-response, whose entries follow the request's order (FHIR R4
     * http.html#transaction-response). False when the bundle has no such entry or the response cannot be read.
     */
    private boolean studyCreateMatched(Bundle bundle, EhrClient.Response resp) {
        int i = 0;
        for (; i < bundle.getEntry().size(); i++) {
            Bundle.BundleEntryComponent e = bundle.getEntry().get(i);
            if (e.getResource() instanceof ImagingStudy && e.getRequest().getMethod() == Bundle.HTTPVerb.POST) break;
        }
        if (i == bundle.getEntry().size()) return false;
        try {
            Bundle answer = ctx.newJsonParser().parseResource(Bundle.class, resp.body());
            if (answer.getEntry().size() != bundle.getEntry().size()) return false;
            String status = answer.getEntry().get(i).getResponse().getStatus();
            return status != null && status.startsWith("200");
        } catch (RuntimeException e) {
            LOG.debugf("transaction-response not readable: %s", e.getMessage());
            return false;
        }
    }

    private String outcomeOf(EhrClient.Response resp) {
        try {
            OperationOutcome oo = ctx.newJsonParser().parseResource(OperationOutcome.class, resp.body());
            return encode(oo);
        } catch (RuntimeException e) {
            OperationOutcome oo = new OperationOutcome();
            String body = resp.body() == null ? "" : resp.body();
            oo.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR).setCode(OperationOutcome.IssueType.EXCEPTION)
                    .setDiagnostics("HTTP " + resp.status() + ": " + body.substring(0, Math.min(2000, body.length())));
            return encode(oo);
        }
    }

    private Retry retry(SegmentationResult r, String reason, String detail) {
        metrics.retried(reason);
        LOG.debugf("series %s model %s: will retry (%s: %s)", r.seriesInstanceUid(), r.model().version(), reason,
                detail);
        return new Retry(reason, detail);
    }

    private DeadLetter dlq(DeliveryFailure.Reason reason, String detail, Integer status, String outcome,
                           String bundle, SegmentationResult r, String raw, DeliveryFailure.SourceRecord source,
                           int attempt) {
        return new DeadLetter(new DeliveryFailure(DeliveryFailure.SCHEMA_VERSION, reason, detail, status, outcome,
                bundle, r, raw, source, attempt, Instant.now()));
    }

    private static String ioReason(IOException e) {
        if (e instanceof HttpTimeoutException) return "timeout";
        if (e instanceof java.net.ConnectException) return "connection_refused";
        return "io";
    }

    private String encode(org.hl7.fhir.instance.model.api.IBaseResource res) {
        return ctx.newJsonParser().encodeResourceToString(res);
    }
}
