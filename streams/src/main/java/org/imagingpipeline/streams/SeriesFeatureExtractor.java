package org.imagingpipeline.streams;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.imagingpipeline.dicomnet.PixelDataLimits;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.streams.deadletter.RefusedRecord;
import org.jboss.logging.Logger;

/**
 * imaging.series.ready -> {@link SeriesFeatures}: decodes {@link DriftConfig#slicesPerSeries()} slices of the series
 * (evenly spread over its middle 80%) from the blob store with {@link PixelDecoder} and computes
 * {@link ImageStatistics}. Slices that cannot be decoded are counted per transfer syntax with the reason, never
 * dropped silently; a series with no decodable slice goes on without values. Output key: the constant
 * {@link #REGISTRY_KEY}, so the detector sees every series on one partition.
 *
 * <p>A series with an instance whose pixel geometry the {@link PixelDataLimits} refuse (30000 x 30000, a product that
 * overflows, pixel data shorter than the header claims) is a bad record, not a codec gap: the extractor throws
 * {@link RefusedRecord} ({@code PIXEL_LIMITS}) and the processing exception handler dead-letters the series with the
 * reason; it changes no domain. An OutOfMemoryError while decoding one series' slices (the allocation failed, so the
 * heap is intact) refuses that series as {@code OUT_OF_MEMORY}, logged at ERROR with its stack and counted in
 * {@code streams_drift_out_of_memory_total}: loud, never an ordinary undecodable slice.
 */
public class SeriesFeatureExtractor implements Processor<String, SeriesReady, String, SeriesFeatures> {
    public static final String REGISTRY_KEY = "registry";
    private static final Logger LOG = Logger.getLogger(SeriesFeatureExtractor.class);
    private final DriftConfig config;
    private final PixelDataLimits limits;
    private final ReferencePatients references;
    private final Timer timer;
    private final Counter outOfMemory;
    private ProcessorContext<String, SeriesFeatures> context;

    public SeriesFeatureExtractor(DriftConfig config, PixelDataLimits limits, ReferencePatients references, MeterRegistry metrics) {
        this.config = config;
        this.limits = limits;
        this.references = references;
        this.timer = Timer.builder("streams.drift.features").description("time to decode and measure one series").register(metrics);
        this.outOfMemory = Counter.builder("streams.drift.out.of.memory").description("series refused because decoding their slices ran out of heap")
                .register(metrics);
    }

    @Override
    public void init(ProcessorContext<String, SeriesFeatures> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, SeriesReady> record) {
        SeriesReady s = record.value();
        if (s == null || s.domainId() == null) return;
        if (record.headers().lastHeader(SeriesReady.REPLAY_HEADER) != null) {
            // Sent again after a promotion, for inference: no new acquisition, so the detector does not see it twice.
            LOG.debugf("series %s (domain %s): replayed after a promotion; not measured again", s.seriesInstanceUid(), s.domainId());
            return;
        }
        SeriesFeatures f;
        try {
            f = timer.record(() -> measure(s, config, limits, references));
        } catch (OutOfMemoryError e) {
            outOfMemory.increment();
            LOG.errorf(e, "series %s: OutOfMemoryError while decoding its slices; the series is refused (OUT_OF_MEMORY)", s.seriesInstanceUid());
            throw new RefusedRecord(RefusedRecord.Kind.OUT_OF_MEMORY, "series " + s.seriesInstanceUid() + ": decoding "
                    + Math.min(s.instances().size(), config.slicesPerSeries()) + " slice(s) needed more heap than was free", e);
        }
        if (f.slicesDecoded() < f.slicesPicked()) {
            LOG.warnf("series %s (domain %s): %d of %d slices not decodable: %s %s", s.seriesInstanceUid(), s.domainId(),
                    f.slicesPicked() - f.slicesDecoded(), f.slicesPicked(), f.undecodable(), f.note());
        }
        context.forward(new Record<>(REGISTRY_KEY, f, record.timestamp()));
    }

    /** @throws RefusedRecord when a picked slice's pixel data is refused by the limits */
    static SeriesFeatures measure(SeriesReady s, DriftConfig config, PixelDataLimits limits, ReferencePatients references) {
        int[] pick = SliceSelection.pick(s.instances().size(), config.slicesPerSeries());
        List<ImageStatistics.Slice> slices = new ArrayList<>();
        Map<String, Integer> undecodable = new LinkedHashMap<>();
        String note = null;
        for (int i : pick) {
            SeriesReady.Instance inst = s.instances().get(i);
            try {
                slices.add(PixelDecoder.decode(blobPath(inst), limits));
            } catch (PixelDecoder.Refused e) {
                throw new RefusedRecord(RefusedRecord.Kind.PIXEL_LIMITS, "series " + s.seriesInstanceUid() + ", instance "
                        + inst.sopInstanceUid() + ": " + e.getMessage(), null);
            } catch (PixelDecoder.Undecodable e) {
                String ts = e.transferSyntaxUid() != null ? e.transferSyntaxUid() : String.valueOf(inst.transferSyntaxUid());
                undecodable.merge(ts, 1, Integer::sum);
                if (note == null) note = ts + ": " + e.getMessage();
            }
        }
        double[] values = slices.isEmpty() ? null : ImageStatistics.detectorFeatures(ImageStatistics.of(slices));
        if (values != null && Double.isNaN(values[0])) {
            values = null;
            note = "decoded slices are blank (no intensity range): nothing to measure";
        }
        String institution = s.header() == null ? null : s.header().institutionName();
        String patientId = s.header() == null ? null : s.header().patientId();
        return new SeriesFeatures(s.seriesInstanceUid(), s.revision(), s.domainId(), s.fingerprint(),
                values, pick.length, slices.size(), undecodable, note,
                references.contains(institution, patientId), ReferencePatients.patientKey(institution, patientId), s.completedAt(),
                System.currentTimeMillis());
    }

    private static Path blobPath(SeriesReady.Instance inst) throws PixelDecoder.Undecodable {
        if (inst.blob() == null) throw new PixelDecoder.Undecodable(inst.transferSyntaxUid(), "no blob reference", null);
        URI uri = URI.create(inst.blob().uri());
        if (!"file".equals(uri.getScheme())) {
            throw new PixelDecoder.Undecodable(inst.transferSyntaxUid(), "blob " + uri.getScheme() + ": URIs are not readable here", null);
        }
        return Path.of(uri);
    }
}
