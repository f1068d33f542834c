package org.imagingpipeline.ingest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The service's meters. Prometheus names: {@code ingest_instances_stored_total}, {@code ingest_stored_bytes_total},
 * {@code ingest_instances_duplicate_total}, {@code ingest_instances_rejected_total{reason}},
 * {@code ingest_store_to_ack_seconds} (bytes complete to Kafka ack) and its parts {@code ingest_blob_write_seconds},
 * {@code ingest_kafka_ack_seconds}; {@code ingest_dicom_associations_active}.
 */
@ApplicationScoped
public class IngestMetrics {
    private final MeterRegistry registry;
    private final Map<RejectReason, Counter> rejected = new EnumMap<>(RejectReason.class);
    private final Counter stored;
    private final Counter duplicates;
    private final Counter bytes;
    private final Timer storeToAck;
    private final Timer blobWrite;
    private final Timer kafkaAck;
    private final AtomicInteger activeAssociations = new AtomicInteger();

    public IngestMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (RejectReason r : RejectReason.values()) {
            rejected.put(r, Counter.builder("ingest.instances.rejected").description("instances or associations refused")
                    .tag("reason", r.tag).register(registry));
        }
        stored = Counter.builder("ingest.instances.stored").description("instances stored and acknowledged by Kafka").register(registry);
        duplicates = Counter.builder("ingest.instances.duplicate").description("re-sent instances answered without a new event").register(registry);
        bytes = Counter.builder("ingest.stored").baseUnit("bytes").description("bytes of stored instances").register(registry);
        storeToAck = Timer.builder("ingest.store.to.ack").description("from instance received to Kafka acknowledgement")
                .publishPercentiles(0.5, 0.95, 0.99).register(registry);
        blobWrite = Timer.builder("ingest.blob.write").description("blob write incl. fsync")
                .publishPercentiles(0.5, 0.95, 0.99).register(registry);
        kafkaAck = Timer.builder("ingest.kafka.ack").description("Kafka send until acknowledged (acks=all)")
                .publishPercentiles(0.5, 0.95, 0.99).register(registry);
        registry.gauge("ingest.dicom.associations.active", activeAssociations);
    }

    public void stored(long size, long nanos) {
        stored.increment();
        bytes.increment(size);
        storeToAck.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    public void blobWritten(long nanos) {
        blobWrite.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    public void kafkaAcked(long nanos) {
        kafkaAck.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    public void duplicate() {
        duplicates.increment();
    }

    public void rejected(RejectReason reason) {
        rejected.get(reason).increment();
    }

    public AtomicInteger activeAssociations() {
        return activeAssociations;
    }

    public MeterRegistry registry() {
        return registry;
    }
}
