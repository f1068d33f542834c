package org.imagingpipeline.inference;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The service's meters (Prometheus at /q/metrics): series/s and slices/s are the rates of
 * {@code inference_series_total} and {@code inference_slices_total}; {@code inference_stage_seconds{stage}} times
 * load / inference / postprocess / total; {@code inference_provider{provider}} = 1 for the provider in use;
 * {@code inference_model_serving{domain,version}} = 1 for each domain's serving version;
 * {@code inference_model_refused_total{reason}}, {@code inference_series_failed_total{kind}},
 * {@code inference_dlq_total{reason}}, {@code inference_pacs_total{outcome}},
 * {@code inference_series_superseded_total} (an older revision skipped).
 */
public final class InferenceMetrics implements ModelRouter.Listener {
    private final MeterRegistry registry;
    private final Counter slices;
    private final Map<String, AtomicInteger> serving = new ConcurrentHashMap<>();

    public InferenceMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.slices = Counter.builder("inference.slices").description("slices segmented").register(registry);
    }

    public void provider(String provider) {
        Gauge.builder("inference.provider", () -> 1).tag("provider", provider)
                .description("execution provider in use (1)").register(registry);
    }

    public void series(String status, int sliceCount) {
        Counter.builder("inference.series").tag("status", status).description("series segmented").register(registry).increment();
        slices.increment(sliceCount);
    }

    public void stages(long loadNs, long inferNs, long postNs, long totalNs) {
        stage("load", loadNs);
        stage("inference", inferNs);
        stage("postprocess", postNs);
        stage("total", totalNs);
    }

    private void stage(String name, long nanos) {
        Timer.builder("inference.stage").tag("stage", name).description("time per series and stage")
                .register(registry).record(Duration.ofNanos(nanos));
    }

    public void failed(String kind) {
        Counter.builder("inference.series.failed").tag("kind", kind).register(registry).increment();
    }

    /** A transient failure of this kind; the series will be tried again. */
    public void retried(String kind) {
        Counter.builder("inference.series.retried").tag("kind", kind)
                .description("series attempts that failed transiently and are tried again").register(registry).increment();
    }

    public void deadLettered(String reason) {
        Counter.builder("inference.dlq").tag("reason", reason).register(registry).increment();
    }

    public void pacs(String outcome) {
        Counter.builder("inference.pacs").tag("outcome", outcome).register(registry).increment();
    }

    public void superseded() {
        Counter.builder("inference.series.superseded").register(registry).increment();
    }

    @Override
    public void served(String domainId, String version) {
        String key = domainId + "\u0000" + version;
        serving.forEach((k, v) -> {
            if (k.startsWith(domainId + "\u0000")) v.set(0);
        });
        serving.computeIfAbsent(key, k -> {
            AtomicInteger v = new AtomicInteger();
            Gauge.builder("inference.model.serving", v, AtomicInteger::get).tag("domain", domainId).tag("version", version)
                    .description("1 for the model version serving the domain").register(registry);
            return v;
        }).set(1);
    }

    @Override
    public void unrouted(String domainId) {
        serving.forEach((k, v) -> {
            if (k.startsWith(domainId + "\u0000")) v.set(0);
        });
    }

    @Override
    public void refused(String domainId, String version, String reason) {
        Counter.builder("inference.model.refused").tag("reason", reason).register(registry).increment();
    }

    public MeterRegistry registry() {
        return registry;
    }
}
