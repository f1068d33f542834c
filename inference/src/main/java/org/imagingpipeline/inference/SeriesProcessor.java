package org.imagingpipeline.inference;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.imagingpipeline.blob.BlobStore;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.InstanceHeader;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.ReplayPredecessor;
import org.imagingpipeline.events.SeriesReady;
import org.jboss.logging.Logger;

/**
 * One series in, one result out: route by domain, load the slices, segment, measure, write the SEG to the blob
 * store and (when configured) C-STORE it to the PACS. Nothing is thrown but an interrupt.
 *
 * <p>Failure policy ({@link FailurePolicy}, docs/operations.md "Failure policy"): a permanent failure
 * ({@link InferenceFailure.Kind#transientFailure()} false) becomes an ERROR result and a DLQ record at once; a transient
 * one is handed back as {@link Outcome#retryLater} (the loop tries the series again after its backoff, publishing nothing)
 * until the series' last allowed attempt, which publishes the ERROR result naming the attempts. A PACS store that fails
 * transiently is tried again here, with a doubling delay, up to {@link FailurePolicy#pacsAttempts()}; a refusal
 * ({@link PacsSender.Refused}) or the last failure leaves the result OK and asks for a PACS_STORE_FAILED DLQ record.
 */
public final class SeriesProcessor {
    private static final Logger LOG = Logger.getLogger(SeriesProcessor.class);
    static final String SEG_MEDIA_TYPE = "application/dicom";

    /**
     * What became of a series.
     *
     * @param result    the result to publish (OK or ERROR)
     * @param dlqReason non-null when a DLQ record must be written as well (ERROR results, PACS refusals)
     * @param segBytes  the SEG written, null when none
     */
    public record Outcome(SegmentationResult result, String dlqReason, byte[] segBytes, InferenceFailure retry) {
        public Outcome(SegmentationResult result, String dlqReason, byte[] segBytes) {
            this(result, dlqReason, segBytes, null);
        }

        /** Nothing to publish yet: the transient {@code failure} may pass on a later attempt. */
        static Outcome retryLater(InferenceFailure failure) {
            return new Outcome(null, null, null, failure);
        }

        public boolean isRetry() {
            return retry != null;
        }
    }

    /**
     * How often a series is tried.
     *
     * @param transientAttempts attempts at a series whose failure is transient before its ERROR result (1 = no retry)
     * @param pacsAttempts      C-STORE attempts for one SEG before the PACS_STORE_FAILED DLQ record (1 = no retry)
     * @param pacsRetryDelay    delay before the second PACS attempt, doubled for each further one
     */
    public record FailurePolicy(int transientAttempts, int pacsAttempts, java.time.Duration pacsRetryDelay) {
        /** One attempt at everything (what a caller that does not retry asks for). */
        public static final FailurePolicy SINGLE_ATTEMPT = new FailurePolicy(1, 1, java.time.Duration.ZERO);

        public FailurePolicy {
            if (transientAttempts < 1 || pacsAttempts < 1) throw new IllegalArgumentException("attempts must be >= 1");
            if (pacsRetryDelay.isNegative()) throw new IllegalArgumentException("pacs retry delay must not be negative");
        }
    }

    private final SeriesLoader loader;
    private final ModelRoutes router;
    private final SeriesSegmenter segmenter;
    private final SegWriter segWriter = new SegWriter();
    private final SrWriter srWriter = new SrWriter();
    private final BlobStore blobs;
    private final PacsSender pacs;
    private final InferenceMetrics metrics;
    private final FailurePolicy policy;

    /** One attempt at everything ({@link FailurePolicy#SINGLE_ATTEMPT}). */
    public SeriesProcessor(SeriesLoader loader, ModelRoutes router, SeriesSegmenter segmenter, BlobStore blobs,
                           PacsSender pacs, InferenceMetrics metrics) {
        this(loader, router, segmenter, blobs, pacs, metrics, FailurePolicy.SINGLE_ATTEMPT);
    }

    public SeriesProcessor(SeriesLoader loader, ModelRoutes router, SeriesSegmenter segmenter, BlobStore blobs,
                           PacsSender pacs, InferenceMetrics metrics, FailurePolicy policy) {
        this.policy = policy;
        this.loader = loader;
        this.router = router;
        this.segmenter = segmenter;
        this.blobs = blobs;
        this.pacs = pacs;
        this.metrics = metrics;
    }

    /** The series' only (hence last) attempt. */
    public Outcome process(SeriesReady series) throws InterruptedException {
        return process(series, policy.transientAttempts());
    }

    /**
     * @param attempt the attempt at this series (1 = first); a transient failure before the policy's last attempt is
     *                handed back as {@link Outcome#retryLater}
     */
    public Outcome process(SeriesReady series, int attempt) throws InterruptedException {
        return process(series, attempt, null);
    }

    /**
     * @param predecessor the earlier report a replayed series' new SR supersedes (its Predecessor Documents Sequence),
     *                    or null
     */
    public Outcome process(SeriesReady series, int attempt, ReplayPredecessor predecessor) throws InterruptedException {
        long start = System.nanoTime();
        Optional<ModelRoute> route = router.route(series.domainId());
        SegmentationResult.Model model = route.map(r -> new SegmentationResult.Model(r.name(), r.version(), r.sha256()))
                .orElse(new SegmentationResult.Model(null, "none", null));
        long loadNs = 0;
        long inferNs = 0;
        try {
            if (route.isEmpty()) {
                throw new InferenceFailure(InferenceFailure.Kind.NO_MODEL, "no model serves domain " + series.domainId()
                        + " and no default model is registered on the model registry topic");
            }
            SliceStack stack = loader.load(series);
            loadNs = System.nanoTime() - start;
            long t1 = System.nanoTime();
            Segmentation seg = segmenter.segment(stack, route.get().model());
            inferNs = System.nanoTime() - t1;
            long t2 = System.nanoTime();
            SegmentationResult.Lesion lesion = LesionMeasures.of(seg, stack);
            SegWriter.Uids uids = SegWriter.Uids.of(series.seriesInstanceUid(), model.version());
            SrWriter.Uids srUids = SrWriter.Uids.of(series.seriesInstanceUid(), model.version());
            Instant now = Instant.now();
            byte[] segBytes;
            BlobRef segRef;
            BlobRef srRef;
            byte[] srBytes;
            try {
                segBytes = segWriter.write(stack, seg, model, uids, now);
                segRef = blobs.put(segBytes, SEG_MEDIA_TYPE);
                // the measurement report (TID 1500) beside it, naming the SEG's segment as the lesion's region
                srBytes = srWriter.write(stack, lesion, model, uids, srUids, predecessor, now);
                srRef = blobs.put(srBytes, SEG_MEDIA_TYPE);
            } catch (IOException e) {
                throw new InferenceFailure(InferenceFailure.Kind.OUTPUT_ERROR, "SEG or SR not written: " + e.getMessage(), e);
            }
            String dlq = sendToPacs(series, "SEG", segBytes);
            if (dlq == null) dlq = sendToPacs(series, "SR", srBytes);
            long postNs = System.nanoTime() - t2;
            metrics.stages(loadNs, inferNs, postNs, System.nanoTime() - start);
            metrics.series("ok", stack.size());
            LOG.infof("series %s (domain %s): %d slices, model %s on %s, lesion %d voxels %.2f mL on %d slices;"
                            + " load %d ms, inference %d ms, post %d ms", series.seriesInstanceUid(), series.domainId(),
                    stack.size(), model.version(), route.get().model().provider(), lesion.volumeVoxels(), lesion.volumeMl(),
                    lesion.slicesWithLesion(), ms(loadNs), ms(inferNs), ms(postNs));
            SegmentationResult result = result(series, SegmentationResult.Status.OK, null, model, lesion,
                    new SegmentationResult.Seg(uids.sopInstanceUid(), uids.seriesInstanceUid(), segRef),
                    new SegmentationResult.Sr(srUids.sopInstanceUid(), srUids.seriesInstanceUid(), srRef, srUids.content()),
                    new SegmentationResult.Timings(series.completedAt(), ms(loadNs), ms(inferNs), ms(postNs)), now);
            return new Outcome(result, dlq, segBytes);
        } catch (InferenceFailure f) {
            if (f.kind().transientFailure() && attempt < policy.transientAttempts()) {
                metrics.retried(f.kind().name());
                LOG.warnf("series %s (domain %s, model %s): attempt %d of %d failed, will be tried again: %s",
                        series.seriesInstanceUid(), series.domainId(), model.version(), attempt, policy.transientAttempts(),
                        f.describe());
                return Outcome.retryLater(f);
            }
            if (attempt > 1) {
                f = new InferenceFailure(f.kind(), f.getMessage() + " (attempt " + attempt + "; "
                        + (f.kind().transientFailure() ? "the last one allowed" : "permanent: not retried") + ")", f.getCause());
            }
            return failed(series, model, f, loadNs, inferNs, start);
        } catch (RuntimeException e) {
            return failed(series, model, new InferenceFailure(InferenceFailure.Kind.INTERNAL_ERROR, e.toString(), e),
                    loadNs, inferNs, start);
        }
    }

    /** C-STORE of one object ({@code what}: SEG or SR) with the policy's retries; the DLQ reason when it failed, else null. */
    private String sendToPacs(SeriesReady series, String what, byte[] segBytes) throws InterruptedException {
        if (pacs == null) return null;
        long delay = policy.pacsRetryDelay().toMillis();
        for (int attempt = 1; ; attempt++) {
            try {
                pacs.store(segBytes);
                metrics.pacs("stored");
                return null;
            } catch (IOException | RuntimeException e) {
                boolean refused = e instanceof PacsSender.Refused;
                if (!refused && attempt < policy.pacsAttempts()) {
                    metrics.pacs("retried");
                    LOG.warnf("series %s: %s to PACS %s, attempt %d of %d failed (%s); trying again in %d ms",
                            series.seriesInstanceUid(), what, pacs.address(), attempt, policy.pacsAttempts(), e.getMessage(), delay);
                    Thread.sleep(delay);
                    delay = Math.min(delay * 2, 60_000);
                    continue;
                }
                metrics.pacs("failed");
                String why = e.getMessage() + (refused ? " (refused: not retried)" : " (" + attempt + " attempt(s))");
                LOG.errorf("series %s: %s not stored to PACS %s: %s (result stays OK; DLQ record PACS_STORE_FAILED)",
                        series.seriesInstanceUid(), what, pacs.address(), why);
                return "PACS_STORE_FAILED: " + what + ": " + why;
            }
        }
    }

    private Outcome failed(SeriesReady series, SegmentationResult.Model model, InferenceFailure f, long loadNs,
                           long inferNs, long start) {
        metrics.failed(f.kind().name());
        metrics.series("error", 0);
        LOG.errorf("series %s (domain %s, model %s): %s", series.seriesInstanceUid(), series.domainId(), model.version(),
                f.describe());
        if (f.kind() == InferenceFailure.Kind.INTERNAL_ERROR) LOG.error("defect while segmenting", f);
        long post = Math.max(0, System.nanoTime() - start - loadNs - inferNs);
        SegmentationResult r = result(series, SegmentationResult.Status.ERROR, f.describe(), model, null, null, null,
                new SegmentationResult.Timings(series.completedAt(), ms(loadNs), ms(inferNs), ms(post)), Instant.now());
        return new Outcome(r, f.kind().name(), null);
    }

    private static SegmentationResult result(SeriesReady s, SegmentationResult.Status status, String error,
                                             SegmentationResult.Model model, SegmentationResult.Lesion lesion,
                                             SegmentationResult.Seg seg, SegmentationResult.Sr sr,
                                             SegmentationResult.Timings timings, Instant now) {
        InstanceHeader h = s.header();
        List<String> sops = s.instances().stream().map(SeriesReady.Instance::sopInstanceUid).toList();
        return new SegmentationResult(SegmentationResult.SCHEMA_VERSION,
                SegmentationResult.eventIdFor(s.seriesInstanceUid(), model.version()), status, error,
                s.studyInstanceUid() == null ? "" : s.studyInstanceUid(), s.seriesInstanceUid(), sops,
                h == null ? null : h.patientId(), h == null ? null : h.issuerOfPatientId(),
                h == null ? null : h.accessionNumber(), h == null ? null : h.modality(), s.instances().size(),
                h == null ? null : h.studyDate(), s.domainId(), model, lesion, seg, sr, timings, now);
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }
}
