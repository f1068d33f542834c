package org.imagingpipeline.ingest.dicomweb;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.Config;
import org.imagingpipeline.blob.BlobNotFoundException;
import org.imagingpipeline.blob.BlobStore;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.ingest.HeaderExtractor;
import org.imagingpipeline.ingest.IngestConfig;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.kafka.PollingThread;
import org.jboss.logging.Logger;

/**
 * Feeds the {@link DicomWebIndex} from Kafka: every partition of imaging.instances.received and
 * imaging.segmentation.results, assigned (no consumer group, nothing committed) and read from the beginning, so every
 * ingest instance builds the whole index. A SEG's attributes come from its Part-10 header in the blob store (PixelMed,
 * stopping before the pixel data), filed under the result's source study. A record that cannot be read is skipped with
 * a WARN naming topic, partition and offset. Meters: {@code ingest_dicomweb_indexed_instances} (gauge) and
 * {@code ingest_dicomweb_index_refused_total{reason=full|unreadable|blob_missing}}.
 */
@ApplicationScoped
public class DicomWebIndexer {
    private static final Logger LOG = Logger.getLogger(DicomWebIndexer.class);
    static final List<String> TOPICS = List.of(Topics.INSTANCES_RECEIVED, Topics.SEGMENTATION_RESULTS);
    /** How often the partitions are looked up again (a topic created or grown after the start). */
    private static final Duration REASSIGN_EVERY = Duration.ofSeconds(60);

    private final DicomWebIndex index;
    private final BlobStore blobs;
    private final Config config;
    private final boolean enabled;
    private final Counter full;
    private final Counter unreadable;
    private final Counter blobMissing;
    private Reader reader;

    @Inject
    public DicomWebIndexer(IngestConfig settings, Config config, BlobStore blobs, MeterRegistry registry) {
        this.index = new DicomWebIndex(settings.dicomweb().maxInstances());
        this.blobs = blobs;
        this.config = config;
        this.enabled = settings.dicomweb().indexEnabled();
        registry.gauge("ingest.dicomweb.indexed.instances", index, DicomWebIndex::size);
        this.full = refused(registry, "full");
        this.unreadable = refused(registry, "unreadable");
        this.blobMissing = refused(registry, "blob_missing");
    }

    private static Counter refused(MeterRegistry registry, String reason) {
        return Counter.builder("ingest.dicomweb.index.refused").description("records or instances the DICOMweb index did not take")
                .tag("reason", reason).register(registry);
    }

    public DicomWebIndex index() {
        return index;
    }

    void start(@Observes StartupEvent event) {
        if (!enabled) {
            LOG.info("DICOMweb index disabled (ingest.dicomweb.index-enabled=false): QIDO-RS and WADO-RS find nothing");
            return;
        }
        KafkaConsumer<String, byte[]> consumer = KafkaClients.fromConfig(config, Map.of()).consumer(Map.of(
                ConsumerConfig.CLIENT_ID_CONFIG, "ingest-dicomweb-index",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1000"));
        reader = new Reader(consumer);
        reader.start();
    }

    @PreDestroy
    void stop() throws InterruptedException {
        if (reader != null) reader.close();
    }

    /** Indexes one record's value (an instance; a result's SEG and SR); false (after a WARN) when nothing was indexed. */
    boolean accept(String topic, int partition, long offset, byte[] value) {
        String where = topic + "-" + partition + "@" + offset;
        try {
            if (value == null) return false;
            List<IndexedInstance> instances = Topics.INSTANCES_RECEIVED.equals(topic) ? List.of(fromInstance(value))
                    : fromResult(value, where);
            boolean any = false;
            for (IndexedInstance instance : instances) {
                DicomWebIndex.Added added = index.add(instance);
                if (added == DicomWebIndex.Added.REFUSED_FULL) {
                    full.increment();
                    if (full.count() == 1 || (long) full.count() % 1000 == 0) {
                        LOG.warnf("DICOMweb index full (ingest.dicomweb.max-instances=%d): instance %s of study %s (%s) not indexed; %d refused so far",
                                index.maxInstances(), instance.sopInstanceUid(), instance.studyInstanceUid(), where, (long) full.count());
                    }
                } else {
                    any = true;
                }
            }
            return any;
        } catch (BlobNotFoundException e) {
            blobMissing.increment();
            LOG.warnf("skipped %s: a SEG or SR blob is not in the blob store", where);
            return false;
        } catch (JsonProcessingException e) {
            unreadable.increment();
            // The class and position only: a parser's message may quote the record's content.
            LOG.warnf("skipped %s: not a readable event (%s at %s)", where, e.getClass().getSimpleName(),
                    e.getLocation() == null ? "?" : "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr());
            return false;
        } catch (Exception e) { // a malformed SEG file, a null UID: skip the record, never stop the reader
            unreadable.increment();
            LOG.warnf("skipped %s: %s: %s", where, e.getClass().getSimpleName(), e.getMessage());
            return false;
        }
    }

    private static IndexedInstance fromInstance(byte[] value) throws java.io.IOException {
        InstanceReceived e = EventJson.mapper().readValue(value, InstanceReceived.class);
        return IndexedInstance.of(e.studyInstanceUid(), e.seriesInstanceUid(), e.sopInstanceUid(), e.sopClassUid(),
                e.transferSyntaxUid(), e.blob(), e.header());
    }

    /** The result's SEG and SR (each when written), filed under the result's source study. */
    private List<IndexedInstance> fromResult(byte[] value, String where) throws Exception {
        SegmentationResult r = EventJson.mapper().readValue(value, SegmentationResult.class);
        List<IndexedInstance> out = new ArrayList<>(2);
        if (r.seg() != null && r.seg().blob() != null) {
            out.add(derived(r, r.seg().sopInstanceUid(), r.seg().seriesInstanceUid(), r.seg().blob(), where));
        }
        if (r.sr() != null && r.sr().blob() != null) {
            out.add(derived(r, r.sr().sopInstanceUid(), r.sr().seriesInstanceUid(), r.sr().blob(), where));
        }
        return out; // an ERROR result wrote neither: nothing to serve
    }

    /** An object inference derived from the result's series, its attributes read from its Part-10 header. */
    private IndexedInstance derived(SegmentationResult r, String eventSop, String eventSeries, BlobRef blob, String where) throws Exception {
        AttributeList l = BlobHeaders.header(blobs, blob.sha256());
        String sop = Objects.requireNonNullElse(Attribute.getSingleStringValueOrNull(l, TagFromName.SOPInstanceUID), eventSop);
        String series = Objects.requireNonNullElse(Attribute.getSingleStringValueOrNull(l, TagFromName.SeriesInstanceUID), eventSeries);
        String fileStudy = Attribute.getSingleStringValueOrNull(l, TagFromName.StudyInstanceUID);
        if (fileStudy != null && !fileStudy.equals(r.studyInstanceUid())) {
            LOG.warnf("%s: instance %s names study %s, the result study %s; filed under the result's", where, sop, fileStudy, r.studyInstanceUid());
        }
        return IndexedInstance.of(r.studyInstanceUid(), series, sop, Attribute.getSingleStringValueOrNull(l, TagFromName.SOPClassUID),
                Attribute.getSingleStringValueOrNull(l, TagFromName.TransferSyntaxUID), blob, HeaderExtractor.extract(l));
    }

    /** The consumer thread: assigns every partition of {@link #TOPICS} from the beginning, then polls until closed. */
    private final class Reader extends PollingThread {
        private final Set<TopicPartition> assigned = new HashSet<>();
        /** Topics whose lookup failure was logged at WARN (once each; then DEBUG would add nothing). */
        private final Set<String> warnedTopics = new HashSet<>();

        Reader(KafkaConsumer<String, byte[]> consumer) {
            super("dicomweb-index", consumer);
        }

        @Override
        protected void consume() throws InterruptedException {
            long nextAssign = 0;
            while (running()) {
                if (System.nanoTime() - nextAssign >= 0) {
                    boolean complete = assign();
                    nextAssign = System.nanoTime() + (complete ? REASSIGN_EVERY : Duration.ofSeconds(2)).toNanos();
                }
                if (assigned.isEmpty()) {
                    Thread.sleep(500);
                    continue;
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
                    accept(r.topic(), r.partition(), r.offset(), r.value());
                }
                polled();
            }
        }

        /** Assigns every partition found, new ones from the beginning; true when every topic was found. */
        private boolean assign() {
            List<TopicPartition> all = new ArrayList<>();
            boolean complete = true;
            for (String topic : TOPICS) {
                try {
                    List<PartitionInfo> ps = consumer.partitionsFor(topic, Duration.ofSeconds(5));
                    if (ps == null || ps.isEmpty()) complete = false;
                    else for (PartitionInfo p : ps) all.add(new TopicPartition(topic, p.partition()));
                } catch (org.apache.kafka.common.errors.WakeupException e) {
                    throw e;
                } catch (RuntimeException e) { // broker not reachable yet, not authorized: try again later
                    complete = false;
                    if (warnedTopics.add(topic)) {
                        LOG.warnf("DICOMweb index cannot read the partitions of %s yet (%s: %s); trying again every 2 s", topic,
                                e.getClass().getSimpleName(), e.getMessage());
                    }
                }
            }
            List<TopicPartition> added = all.stream().filter(tp -> !assigned.contains(tp)).toList();
            if (!added.isEmpty()) {
                assigned.addAll(added);
                consumer.assign(assigned);
                consumer.seekToBeginning(added);
                LOG.infof("DICOMweb index reads %d partitions of %s from the beginning", assigned.size(), TOPICS);
            }
            return complete;
        }
    }
}
