package org.imagingpipeline.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.imagingpipeline.events.DomainEvent;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.kafka.TopicReader;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas of the streams application (the service's topology, the same application id, each its own state directory,
 * application.server and HTTP listener) on a real broker, with the service's routing component ({@link DomainRequests})
 * behind a small HTTP server each (the same answers {@link DomainResource} gives; Quarkus itself cannot run twice in one
 * JVM). The drift detector's task, and so the domain registry, lives on one of them: an approval sent to the OTHER one
 * is applied (through imaging.domain.commands), and GET /domains answers the same list on both (forwarded, with the
 * caller's Authorization header, from the one that does not host it).
 */
class DomainReplicasTest extends SharedBrokerTopologyTest {
    private static final DriftConfig DRIFT = new DriftConfig(0.01, 3, 6, 499, 7, 200, 6, 3, 0.01, 499, 4);
    private static final String TOKEN = "Bearer replica-test-token";

    @TempDir
    Path tmp;
    private final List<Replica> replicas = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper mapper = new ObjectMapper().findAndRegisterModules().disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    @AfterEach
    void stopReplicas() {
        for (Replica r : replicas) r.close();
    }

    /** One replica: the topology on its own KafkaStreams, the routing component, an HTTP listener at its application.server. */
    private final class Replica implements AutoCloseable {
        final HostInfo host;
        final KafkaStreams streams;
        final DomainCommands commands;
        final DomainRequests requests;
        final HttpServer server;
        final ExecutorService executor = Executors.newFixedThreadPool(4);
        /** The Authorization header of every forwarded request this replica received. */
        final ConcurrentLinkedQueue<String> forwardedAuthorization = new ConcurrentLinkedQueue<>();

        Replica(String applicationId, String name) throws Exception {
            host = new HostInfo("127.0.0.1", BrokerProcess.freePort());
            StreamsBuilder b = new StreamsBuilder();
            SeriesAssemblyTopology.addTo(b, new AssemblyConfig(Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofMinutes(5)),
                    new SimpleMeterRegistry());
            DriftTopology.addTo(b, DRIFT, ReferencePatients.of(Set.of()), new SimpleMeterRegistry());
            Properties p = new Properties();
            p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
            p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
            p.put(StreamsConfig.STATE_DIR_CONFIG, tmp.resolve(name).toString());
            p.put(StreamsConfig.APPLICATION_SERVER_CONFIG, host.host() + ":" + host.port());
            withDeadLetterHandlers(p);
            // as application.properties sets them for the service
            p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
            p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 200);
            p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
            p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
            streams = new KafkaStreams(b.build(), p);
            commands = new DomainCommands(KafkaClients.of(broker.bootstrap()), Duration.ofSeconds(10));
            requests = new DomainRequests(streams, host, mapper, commands, Duration.ofSeconds(5));
            server = HttpServer.create(new InetSocketAddress(host.host(), host.port()), 0);
            server.setExecutor(executor);
            server.createContext("/domains", this::handle);
            server.start();
            streams.start();
        }

        /** What DomainResource does with DomainRequests' answers (authentication is Quarkus' part, not tested here). */
        private void handle(HttpExchange ex) throws IOException {
            try (ex) {
                String[] path = ex.getRequestURI().getPath().split("/");
                String authorization = ex.getRequestHeaders().getFirst("Authorization");
                boolean forwarded = ex.getRequestHeaders().getFirst(DomainRequests.FORWARDED_HEADER) != null;
                if (forwarded) forwardedAuthorization.add(String.valueOf(authorization));
                DomainRequests.Answer a;
                if (ex.getRequestMethod().equals("GET") && path.length == 2) a = requests.all(authorization, forwarded);
                else if (ex.getRequestMethod().equals("GET") && path.length == 3) a = requests.one(path[2], authorization, forwarded);
                else if (ex.getRequestMethod().equals("POST") && path.length == 4 && path[3].equals("approve")) {
                    a = requests.approve(path[2], "test-mlops", authorization);
                } else {
                    a = new DomainRequests.Answer(404, mapper.createObjectNode().put("error", "no such path"), 0);
                }
                byte[] body = mapper.writeValueAsBytes(a.body());
                ex.getResponseHeaders().add("Content-Type", "application/json");
                if (a.retryAfter() > 0) ex.getResponseHeaders().add("Retry-After", Integer.toString(a.retryAfter()));
                ex.sendResponseHeaders(a.status(), body.length);
                ex.getResponseBody().write(body);
            }
        }

        /** This replica's own domain-registry store, without routing: what GET /domains answered before replicas were routed. */
        ReadOnlyKeyValueStore<String, DomainState> localStore() {
            return streams.store(StoreQueryParameters.fromNameAndType(DriftDetector.REGISTRY_STORE, QueryableStoreTypes.keyValueStore()));
        }

        @Override
        public void close() {
            server.stop(0);
            executor.shutdownNow();
            streams.close(Duration.ofSeconds(30));
            commands.close();
        }
    }

    @Test
    void anApprovalSentToTheReplicaWithoutTheRegistryIsAppliedAndBothListTheSameDomains() throws Exception {
        String app = "replicas-test-" + UUID.randomUUID();
        Replica a = new Replica(app, "a");
        replicas.add(a);
        Replica b = new Replica(app, "b");
        replicas.add(b);
        HostInfo registryHost = awaitOneRegistryHost(Duration.ofMinutes(3));
        Replica owner = registryHost.equals(a.host) ? a : b;
        Replica other = owner == a ? b : a;
        assertNotEquals(owner.host, other.host);

        // two series of a new site: one CANDIDATE domain (no reference patients, so no test decides it)
        String site = "Replica Site " + UUID.randomUUID().toString().substring(0, 8);
        SeriesReady s1 = PhantomSeries.write(tmp.resolve("blobs"), site, "R-MR", "P1", 1, PhantomSeries.Shift.NONE, 6);
        SeriesReady s2 = PhantomSeries.write(tmp.resolve("blobs"), site, "R-MR", "P2", 2, PhantomSeries.Shift.NONE, 6);
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, SeriesReady> producer = new KafkaProducer<>(pp, new StringSerializer(), JsonSerde.of(SeriesReady.class))) {
            for (SeriesReady s : List.of(s1, s2)) producer.send(new ProducerRecord<>(Topics.SERIES_READY, s.seriesInstanceUid(), s)).get();
        }
        String id = s1.domainId();
        JsonNode candidate = awaitGet(other, "/domains/" + id, d -> d.path("seriesCount").asInt() == 2, Duration.ofMinutes(3));
        assertEquals("CANDIDATE", candidate.path("status").asText(), candidate.toString());

        // the replica that received nothing of the registry: its own store cannot answer (the old, local-only GET/approve)
        assertFalse(hasLocally(other, id), "the registry lives on " + owner.host + " only");
        assertTrue(hasLocally(owner, id));

        // approve through the replica that does NOT host the registry: 202 once the command is on Kafka, then applied
        HttpResponse<String> approve = awaitNot503(() -> send(other, "POST", "/domains/" + id + "/approve"), Duration.ofMinutes(1));
        assertEquals(202, approve.statusCode(), approve.body());
        JsonNode accepted = mapper.readTree(approve.body());
        assertEquals(id, accepted.path("id").asText());
        assertEquals("CANDIDATE", accepted.path("status").asText());
        assertEquals("KNOWN", accepted.path("requested").asText());
        String requestId = accepted.path("requestId").asText();
        assertFalse(requestId.isBlank(), approve.body());
        for (Replica r : List.of(a, b)) {
            JsonNode known = awaitGet(r, "/domains/" + id, d -> d.path("status").asText().equals("KNOWN"), Duration.ofMinutes(2));
            assertEquals(2, known.path("imageStatistics").path("referenceSeries").asInt(), "its series became its reference: " + known);
            assertTrue(known.path("reason").asText().contains(requestId), known.toString());
        }
        List<DomainEvent> events = TopicReader.awaitRecords(broker.bootstrap(), JsonSerde.of(DomainEvent.class), "the approval's event",
                rs -> rs.stream().filter(r -> id.equals(r.key())).count() >= 2, Duration.ofMinutes(1), Topics.DOMAIN_EVENTS).stream()
                .filter(r -> id.equals(r.key())).map(ConsumerRecord::value).toList();
        assertEquals(List.of(DomainEvent.Status.CANDIDATE, DomainEvent.Status.KNOWN), events.stream().map(DomainEvent::status).toList());

        // GET /domains: the same list from both replicas
        JsonNode fromOwner = awaitGet(owner, "/domains", l -> contains(l, id), Duration.ofSeconds(30));
        JsonNode fromOther = awaitGet(other, "/domains", l -> contains(l, id), Duration.ofSeconds(30));
        assertEquals(fromOwner, fromOther);
        assertTrue(fromOther.isArray() && fromOther.size() >= 1, fromOther.toString());
        assertTrue(owner.forwardedAuthorization.contains(TOKEN), "forwarded with the caller's Authorization: " + owner.forwardedAuthorization);
        assertTrue(other.forwardedAuthorization.isEmpty(), "the owner answers from its own store: " + other.forwardedAuthorization);

        // an unknown domain is 404 on either replica, for GET and approve
        for (Replica r : List.of(a, b)) {
            assertEquals(404, send(r, "GET", "/domains/dom-00000000dead").statusCode());
            assertEquals(404, send(r, "POST", "/domains/dom-00000000dead/approve").statusCode());
        }
    }

    /** The one instance both replicas name as the registry's host, once they agree and both are RUNNING. */
    private HostInfo awaitOneRegistryHost(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            List<Set<HostInfo>> views = new ArrayList<>();
            for (Replica r : replicas) {
                views.add(r.streams.state() != KafkaStreams.State.RUNNING ? Set.of() : r.streams.streamsMetadataForStore(DriftDetector.REGISTRY_STORE)
                        .stream().filter(m -> m.stateStoreNames().contains(DriftDetector.REGISTRY_STORE)).map(m -> m.hostInfo())
                        .collect(Collectors.toSet()));
            }
            last = views + " " + replicas.stream().map(r -> r.streams.state()).toList();
            if (views.stream().allMatch(v -> v.size() == 1) && views.stream().distinct().count() == 1) return views.get(0).iterator().next();
            Thread.sleep(250);
        }
        throw new AssertionError("the replicas never agreed on one registry host: " + last);
    }

    private static boolean hasLocally(Replica r, String id) {
        try {
            return r.localStore().get(id) != null;
        } catch (InvalidStateStoreException e) {
            return false;
        }
    }

    private static boolean contains(JsonNode list, String id) {
        for (JsonNode d : list) if (d.path("id").asText().equals(id)) return true;
        return false;
    }

    private HttpResponse<String> send(Replica r, String method, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://" + r.host.host() + ":" + r.host.port() + path)).timeout(Duration.ofSeconds(20))
                .header("Authorization", TOKEN).method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private interface Call {
        HttpResponse<String> call() throws Exception;
    }

    /** The first answer that is not 503 (a rebalance may be under way), or the last 503 after the timeout. */
    private static HttpResponse<String> awaitNot503(Call c, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpResponse<String> r = c.call();
        while (r.statusCode() == 503 && System.nanoTime() < deadline) {
            assertTrue(r.headers().firstValue("Retry-After").isPresent(), "503 with Retry-After: " + r.headers().map());
            Thread.sleep(500);
            r = c.call();
        }
        return r;
    }

    private JsonNode awaitGet(Replica r, String path, Predicate<JsonNode> until, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            HttpResponse<String> resp = send(r, "GET", path);
            last = resp.statusCode() + " " + resp.body();
            if (resp.statusCode() == 200) {
                JsonNode n = mapper.readTree(resp.body());
                if (until.test(n)) return n;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("GET " + path + " on " + r.host + " never matched within " + timeout + "; last: " + last);
    }
}
