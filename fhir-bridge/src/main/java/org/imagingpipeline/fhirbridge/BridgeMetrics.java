package org.imagingpipeline.fhirbridge;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import org.imagingpipeline.events.DeliveryFailure;

/**
 * The bridge's meters (Prometheus names at /q/metrics): {@code fhir_bridge_delivered_total},
 * {@code fhir_bridge_retries_total{reason}}, {@code fhir_bridge_dead_lettered_total{reason}},
 * {@code fhir_bridge_validation_errors_total} (error messages of bundles that failed validation),
 * {@code fhir_bridge_delivery_latency_seconds} (first attempt to the EHR's 2xx) and
 * {@code fhir_bridge_end_to_end_latency_seconds} (series complete, as inference reports it, to the EHR's 2xx).
 */
public final class BridgeMetrics {
    private final MeterRegistry registry;
    private final Counter delivered;
    private final Counter validationErrors;
    private final Timer deliveryLatency;
    private final Timer endToEnd;

    public BridgeMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.delivered = Counter.builder("fhir_bridge.delivered").description("results stored in the EHR (2xx)")
                .register(registry);
        this.validationErrors = Counter.builder("fhir_bridge.validation_errors")
                .description("FHIR validation error messages of bundles that were not sent").register(registry);
        this.deliveryLatency = Timer.builder("fhir_bridge.delivery_latency")
                .description("first delivery attempt to the EHR's 2xx, retries included").publishPercentiles(0.5, 0.95)
                .register(registry);
        this.endToEnd = Timer.builder("fhir_bridge.end_to_end_latency")
                .description("series complete to DiagnosticReport stored").publishPercentiles(0.5, 0.95)
                .register(registry);
        for (DeliveryFailure.Reason r : DeliveryFailure.Reason.values()) deadLetterCounter(r);
    }

    public void delivered(Duration sinceFirstAttempt, Duration sinceSeriesComplete) {
        delivered.increment();
        deliveryLatency.record(sinceFirstAttempt);
        if (sinceSeriesComplete != null && !sinceSeriesComplete.isNegative()) endToEnd.record(sinceSeriesComplete);
    }

    public void retried(String reason) {
        Counter.builder("fhir_bridge.retries").description("delivery attempts that will be retried")
                .tag("reason", reason).register(registry).increment();
    }

    public void deadLettered(DeliveryFailure.Reason reason) {
        deadLetterCounter(reason).increment();
    }

    /** A result whose StudyInstanceUID the EHR holds for another patient (filed without the study link). */
    public void studyPatientConflict() {
        Counter.builder("fhir_bridge.study_patient_conflicts")
                .description("results whose StudyInstanceUID the EHR holds for another patient: filed without a link to that study")
                .register(registry).increment();
    }

    public void validationErrors(int n) {
        validationErrors.increment(n);
    }

    public double deliveredCount() {
        return delivered.count();
    }

    private Counter deadLetterCounter(DeliveryFailure.Reason reason) {
        return Counter.builder("fhir_bridge.dead_lettered").description("results sent to ehr.delivery.dlq")
                .tag("reason", reason.name()).register(registry);
    }
}
