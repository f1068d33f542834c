package org.imagingpipeline.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.imagingpipeline.events.TopicSpec;
import org.imagingpipeline.events.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real KRaft broker in its own JVM: topics as documented, data survives a clean stop and a kill -9. */
class BrokerProcessTest {
    @TempDir
    Path dir;

    @Test
    void topicsAreProvisionedAsCataloguedAndDataSurvivesRestarts() throws Exception {
        try (BrokerProcess broker = BrokerProcess.startWithTopics(dir.resolve("kafka"))) {
            try (Admin admin = TopicProvisioner.admin(broker.bootstrap())) {
                Map<String, TopicDescription> d = admin.describeTopics(Topics.ALL.stream().map(TopicSpec::name).toList())
                        .allTopicNames().get(20, TimeUnit.SECONDS);
                for (TopicSpec t : Topics.ALL) {
                    assertEquals(t.partitions(), d.get(t.name()).partitions().size(), t.name());
                    Config c = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, t.name())))
                            .all().get(20, TimeUnit.SECONDS).values().iterator().next();
                    assertEquals(t.configs().get("cleanup.policy"), c.get("cleanup.policy").value(), t.name());
                    if (!t.compacted()) assertEquals(t.configs().get("retention.ms"), c.get("retention.ms").value(), t.name());
                }
                // Provisioning again is a no-op.
                assertEquals(List.of(), new TopicProvisioner(admin, (short) 1).ensure(Topics.ALL));
            }
            produce(broker.bootstrap(), "before-stop");
            broker.stop();
            broker.start();
            produce(broker.bootstrap(), "before-kill");
            broker.kill();
            broker.start();
            assertEquals(Set.of("before-stop", "before-kill"), Set.copyOf(consumeAll(broker.bootstrap())));
        }
    }

    private static void produce(String bootstrap, String value) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(Topics.DOMAIN_EVENTS, "k", value)).get(30, TimeUnit.SECONDS);
        }
    }

    private static List<String> consumeAll(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "t");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            c.subscribe(List.of(Topics.DOMAIN_EVENTS));
            java.util.ArrayList<String> out = new java.util.ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (out.size() < 2 && System.nanoTime() < deadline) {
                ConsumerRecords<String, String> rs = c.poll(Duration.ofMillis(500));
                rs.forEach(r -> out.add(r.value()));
            }
            assertTrue(out.size() >= 2, "records after restarts: " + out);
            return out;
        }
    }
}
