package org.imagingpipeline.retrain.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The service's meters (Prometheus names at /q/metrics): {@code retrain_job_duration_seconds{method,outcome}} (queued
 * to finished is not included: started to finished), {@code retrain_gate_outcomes_total{method,outcome}} (passed,
 * failed, none), {@code retrain_promoted_versions_total{domain}}, {@code retrain_rollbacks_total{domain}},
 * {@code retrain_series_skipped_total} (series that could not be exported), {@code retrain_jobs_requeued_total{method}}
 * (interrupted drift-triggered jobs queued again at start), {@code retrain_job_files_corrupt_total} (unreadable job
 * files moved aside at start) and the gauge {@code retrain_jobs_queued}.
 */
public final class RetrainMetrics {
    private final MeterRegistry registry;

    public RetrainMetrics(MeterRegistry registry, Supplier<Number> queued) {
        this.registry = registry;
        Gauge.builder("retrain.jobs.queued", queued, s -> s.get().doubleValue()).description("jobs waiting for a worker")
                .strongReference(true).register(registry);
    }

    public void jobFinished(String method, String outcome, Duration duration) {
        Timer.builder("retrain.job.duration").description("adaptation jobs, start to finish")
                .tag("method", method).tag("outcome", outcome).register(registry).record(duration);
    }

    public void gate(String method, String outcome) {
        Counter.builder("retrain.gate.outcomes").description("promotion gate results").tag("method", method)
                .tag("outcome", outcome).register(registry).increment();
    }

    public void promoted(String domainId) {
        Counter.builder("retrain.promoted.versions").description("versions promoted to serve a domain")
                .tag("domain", domainId).register(registry).increment();
    }

    public void rolledBack(String domainId) {
        Counter.builder("retrain.rollbacks").description("rollbacks of a domain's serving version")
                .tag("domain", domainId).register(registry).increment();
    }

    /** A drift-triggered job a restart found RUNNING and queued again (retrain.jobs.max-attempts). */
    public void jobRequeued(String method) {
        Counter.builder("retrain.jobs.requeued").description("interrupted drift-triggered jobs queued again at start")
                .tag("method", method).register(registry).increment();
    }

    /** Job files that could not be read and were moved aside at start ({@code *.corrupt-<time>}). */
    public void corruptJobFiles(int n) {
        Counter.builder("retrain.job.files.corrupt").description("unreadable job files moved aside at start")
                .register(registry).increment(n);
    }

    public void seriesSkipped(int n) {
        Counter.builder("retrain.series.skipped").description("series that could not be exported for adaptation")
                .register(registry).increment(n);
    }
}
