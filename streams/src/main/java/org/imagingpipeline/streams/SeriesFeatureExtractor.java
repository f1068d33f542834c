package org.imagingpipeline.streams;

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
import org.imagingpipeline.events.SeriesReady;
import org.jboss.logging.Logger;

/**
 * imaging.series.ready -> {@link SeriesFeatures}: decodes {@link DriftConfig#slicesPerSeries()} slices of the series
 * (evenly spread over its middle 80%) from the blob store with {@link PixelDecoder} and computes
 * {@link ImageStatistics}. Slices that cannot be decoded are counted per transfer syntax with the reason, never
 * dropped silently; a series with no decodable slice goes on without values. Output key: the constant
 * {@link #REGISTRY_KEY}, so the detector sees every series on one partition.
 */
public class SeriesFeatureExtractor implements Processor<String, SeriesReady, String, SeriesFeatures> {
    public static final String REGISTRY_KEY = "registry";
    private static final Logger LOG = Logger.getLogger(SeriesFeatureExtractor.class);
    private final DriftConfig config;
    private final ReferencePatients references;
    private final Timer timer;
    private ProcessorContext<String, SeriesFeatures> context;

    public SeriesFeatureExtractor(DriftConfig config, ReferencePatients references, MeterRegistry metrics) {
        this.config = config;
        this.references = references;
        this.timer = Timer.builder("streams.drift.features").description("time to decode and measure one series").register(metrics);
    }

    @Override
    public void init(ProcessorContext<String, SeriesFeatures> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, SeriesReady> record) {
        SeriesReady s = record.value();
        if (s == null || s.domainId() == null) return;
        SeriesFeatures f = timer.record(() -> measure(s, config, references));
        if (f.slicesDecoded() < f.slicesPicked()) {
            LOG.warnf("series %s (domain %s): %d of %d slices not decodable: %s %s", s.seriesInstanceUid(), s.domainId(),
                    f.slicesPicked() - f.slicesDecoded(), f.slicesPicked(), f.undecodable(), f.note());
        }
        context.forward(new Record<>(REGISTRY_KEY, f, record.timestamp()));
    }

    static SeriesFeatures measure(SeriesReady s, DriftConfig config, ReferencePatients references) {
        int[] pick = SliceSelection.pick(s.instances().size(), config.slicesPerSeries());
        List<ImageStatistics.Slice> slices = new ArrayList<>();
        Map<String, Integer> undecodable = new LinkedHashMap<>();
        String note = null;
        for (int i : pick) {
            SeriesReady.Instance inst = s.instances().get(i);
            try {
                slices.add(PixelDecoder.decode(blobPath(inst)));
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
