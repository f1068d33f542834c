package org.imagingpipeline.events;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The topic catalogue: every topic the pipeline uses, in data-flow order. Topic names are contracts
 * (see the architecture document); change them only together with every producer and consumer.
 */
public final class Topics {
    private Topics() {
    }

    public static final String INSTANCES_RECEIVED = "imaging.instances.received";
    public static final String SERIES_READY = "imaging.series.ready";
    public static final String DOMAIN_EVENTS = "imaging.domain.events";
    public static final String DOMAIN_COMMANDS = "imaging.domain.commands";
    public static final String STREAMS_DLQ = "imaging.streams.dlq";
    public static final String SEGMENTATION_RESULTS = "imaging.segmentation.results";
    public static final String SEGMENTATION_DLQ = "imaging.segmentation.dlq";
    public static final String MODEL_VERSIONS = "ml.model.versions";
    public static final String EHR_DELIVERY_DLQ = "ehr.delivery.dlq";
    public static final String AUDIT_EVENTS = "audit.events";
    public static final String DLQ_REPLAYS = "dlq.replays";

    /** The dead-letter topics (./pipeline dlq list|replay reads them; any other topic with dead-letter headers works too). */
    public static final List<String> DEAD_LETTER_TOPICS = List.of(STREAMS_DLQ, SEGMENTATION_DLQ, EHR_DELIVERY_DLQ);

    public static final List<TopicSpec> ALL = List.of(
            new TopicSpec(INSTANCES_RECEIVED, 3, false, Duration.ofDays(7),
                    "SeriesInstanceUID (all instances of a series share a partition, so series assembly sees them in order)",
                    "InstanceReceived (JSON, schemaVersion 1): UIDs, header fields, blob reference of the Part-10 file;"
                            + " after a series' last instance of an association or STOW-RS request, a marker with a null value and"
                            + " header pipeline.sender.done; also read, without a group, by ingest's DICOMweb index",
                    "ingest", "streams"),
            new TopicSpec(SERIES_READY, 3, false, Duration.ofDays(7),
                    "SeriesInstanceUID",
                    "SeriesReady (JSON): ordered blob references, geometry, series fingerprint; an update re-emits the series"
                            + " (records up to 16 MiB: a series of thousands of slices); after a promotion retrain sends the"
                            + " domain's earlier series again with header pipeline.replay (inference only: drift and retrain skip it)",
                    "streams; retrain (replay)", "inference", 16 << 20),
            new TopicSpec(DOMAIN_EVENTS, 1, false, Duration.ofDays(30),
                    "domain id",
                    "DomainEvent (JSON): a domain's state change (KNOWN, CANDIDATE, DRIFT_CONFIRMED, ALIAS) with its evidence",
                    "streams", "retrain"),
            new TopicSpec(DOMAIN_COMMANDS, 1, false, Duration.ofDays(30),
                    "domain id (one partition, like the drift detector's input: every command reaches the task that owns"
                            + " the domain registry)",
                    "DomainCommand (JSON, schemaVersion 1, defined by streams): APPROVE a domain; requestId, principal (token"
                            + " subject), requestedAt; never patient data. The drift detector applies it in its stream thread",
                    "streams (POST /domains/{id}/approve, any replica)", "streams (drift detector)"),
            new TopicSpec(STREAMS_DLQ, 1, false, Duration.ofDays(30),
                    "the input record's key (SeriesInstanceUID; the domain id for a domain command)",
                    "the input record streams could not read, process or write a result for, as its bytes were read"
                            + " (InstanceReceived, SeriesReady or DomainCommand JSON, or whatever could not be parsed); headers dlq.reason,"
                            + " dlq.source (topic-partition@offset), dlq.stage (deserialization, processing, production),"
                            + " dlq.processor",
                    "streams", "operators", 16 << 20),
            new TopicSpec(SEGMENTATION_RESULTS, 3, false, Duration.ofDays(7),
                    "SeriesInstanceUID",
                    "SegmentationResult (JSON): model version and sha256, lesion measures, SEG and SR blob references, status;"
                            + " also read, without a group, by ingest's DICOMweb index and by retrain's replay after a promotion",
                    "inference", "fhir-bridge"),
            new TopicSpec(SEGMENTATION_DLQ, 1, false, Duration.ofDays(30),
                    "SeriesInstanceUID",
                    "SegmentationResult (JSON) of a series that failed (status ERROR) or whose SEG the PACS refused;"
                            + " headers dlq.reason and dlq.source (topic-partition@offset); raw bytes for an unreadable event",
                    "inference", "operators", 16 << 20),
            new TopicSpec(MODEL_VERSIONS, 1, true, null,
                    "domain id (\"default\" for the source model)",
                    "ModelVersion (JSON): version, URI, sha256, status candidate/promoted/rejected/rolled-back, gate evidence;"
                            + " signed by retrain (Ed25519), inference refuses unsigned or forged records",
                    "retrain", "inference"),
            new TopicSpec(EHR_DELIVERY_DLQ, 1, false, Duration.ofDays(30),
                    "SeriesInstanceUID",
                    "DeliveryFailure (JSON): the result that could not be delivered, the FHIR OperationOutcome, the reason",
                    "fhir-bridge", "operators"),
            new TopicSpec(AUDIT_EVENTS, 1, false, Duration.ofDays(365),
                    "the service that recorded it",
                    "AuditEvent (JSON): a state change or a refused attempt: principal (token subject), time, action, target,"
                            + " outcome; never patient data",
                    "streams, retrain, inference", "retrain (GET /audit), operators"),
            new TopicSpec(DLQ_REPLAYS, 1, true, null,
                    "the dead letter replayed: dlqtopic-partition@offset",
                    "ReplayMarker (JSON, schemaVersion 1): the dead letter, the record it was re-injected as"
                            + " (topic-partition@offset), its source, reason and time; written in the same transaction as"
                            + " the re-injected record, so a second replay of the same dead letter sends nothing",
                    "./pipeline dlq replay", "./pipeline dlq list|replay"));

    public static Optional<TopicSpec> byName(String name) {
        return ALL.stream().filter(t -> t.name().equals(name)).findFirst();
    }
}
