package org.imagingpipeline.streams;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.imagingpipeline.events.Topics;
import org.jboss.logging.Logger;

/**
 * The domain registry's requests on any replica (what {@link DomainResource} answers; docs/drift.md "Replicas"):
 * <ul>
 * <li>GET /domains and GET /domains/{id} are interactive queries routed by Kafka Streams' {@code application.server}:
 *     answered from the local {@link DriftDetector#REGISTRY_STORE} when this instance hosts it (the active task),
 *     (its stream threads run the registry's task), otherwise forwarded, with the caller's Authorization header, to the
 *     instance the metadata names, with a short timeout.
 *     A forwarded request is never forwarded again: it carries {@link #FORWARDED_HEADER}, and an instance that
 *     does not host the store (any more) answers 503.</li>
 * <li>approve: the domain is looked up as GET /domains/{id} does (404 for an unknown one), then an APPROVE
 *     {@link DomainCommand} is sent to imaging.domain.commands; 202 once Kafka acknowledged it, 503 when it did not
 *     within the ack timeout. The detector applies it in its own stream thread.</li>
 * </ul>
 * While Kafka Streams is not RUNNING (starting, rebalancing), when the hosting instance is unknown or does not answer,
 * the answer is 503 with Retry-After. Bodies are JSON trees made with the service's ObjectMapper, so a forwarded
 * answer is the same JSON a local one is.
 */
public final class DomainRequests {
    private static final Logger LOG = Logger.getLogger(DomainRequests.class);
    /** Header of a forwarded query: the forwarding instance's application.server. */
    public static final String FORWARDED_HEADER = "X-Streams-Forwarded-By";
    /** Retry-After (seconds) of a 503. */
    public static final int RETRY_AFTER_SECONDS = 2;

    /** One answer: HTTP status, JSON body, Retry-After seconds (0: none). */
    public record Answer(int status, JsonNode body, int retryAfter) {
    }

    private final KafkaStreams streams;
    private final HostInfo self;
    private final ObjectMapper mapper;
    private final DomainCommands commands;
    private final Duration forwardTimeout;
    private final HttpClient http;

    /**
     * @param self           this instance's application.server (host:port of its HTTP listener); null: no routing, the
     *                       local store only (a single instance)
     * @param forwardTimeout how long a forwarded query may take (connect and answer)
     */
    public DomainRequests(KafkaStreams streams, HostInfo self, ObjectMapper mapper, DomainCommands commands, Duration forwardTimeout) {
        this.streams = streams;
        this.self = self;
        this.mapper = mapper;
        this.commands = commands;
        this.forwardTimeout = forwardTimeout;
        this.http = HttpClient.newBuilder().connectTimeout(forwardTimeout).build();
    }

    /** {@code host:port} as a HostInfo; null for null or blank. */
    public static HostInfo hostInfo(String endpoint) {
        return endpoint == null || endpoint.isBlank() ? null : HostInfo.buildFromEndpoint(endpoint.strip());
    }

    /** GET /domains: every domain, by firstSeen then id. */
    public Answer all(String authorization, boolean forwarded) {
        if (self == null) return local(this::localAll);
        Answer notRunning = notRunning();
        if (notRunning != null) return notRunning;
        Collection<StreamsMetadata> hosts;
        try {
            hosts = streams.streamsMetadataForStore(DriftDetector.REGISTRY_STORE).stream()
                    .filter(m -> m.stateStoreNames().contains(DriftDetector.REGISTRY_STORE)).toList();
        } catch (RuntimeException e) {
            return unavailable("domain registry not queryable yet: " + e.getMessage());
        }
        if (hosts.isEmpty()) return unavailable("domain registry not queryable yet: no instance hosts it (rebalancing)");
        if (forwarded) {
            return hosts.stream().anyMatch(this::hostedHere) ? local(this::localAll) : unavailable("domain registry moved from " + self + " (rebalancing)");
        }
        List<JsonNode> domains = new ArrayList<>();
        for (StreamsMetadata m : hosts) {
            Answer a = hostedHere(m) ? local(this::localAll)
                    : self.equals(m.hostInfo()) ? unavailable("domain registry moving (rebalancing)")
                    : forward(m.hostInfo(), "/domains", authorization);
            if (a.status() != 200) return a;
            if (hosts.size() == 1) return a;
            a.body().forEach(domains::add);
        }
        domains.sort(Comparator.comparing((JsonNode d) -> d.path("firstSeen").isTextual() ? Instant.parse(d.path("firstSeen").asText()) : null,
                Comparator.nullsLast(Comparator.naturalOrder())).thenComparing(d -> d.path("id").asText()));
        ArrayNode out = mapper.createArrayNode();
        domains.forEach(out::add);
        return new Answer(200, out, 0);
    }

    /** GET /domains/{id}: one domain, 404 when the registry does not hold it. */
    public Answer one(String id, String authorization, boolean forwarded) {
        if (self == null) return local(store -> localOne(store, id));
        Answer notRunning = notRunning();
        if (notRunning != null) return notRunning;
        KeyQueryMetadata md;
        try {
            md = streams.queryMetadataForKey(DriftDetector.REGISTRY_STORE, id, Serdes.String().serializer());
        } catch (RuntimeException e) {
            return unavailable("domain registry not queryable yet: " + e.getMessage());
        }
        HostInfo host = md == null ? null : md.activeHost();
        if (host == null || host.equals(HostInfo.unavailable()) || host.port() < 0) {
            return unavailable("domain registry not queryable yet: no instance hosts it (rebalancing)");
        }
        if (hostedHere(md.partition())) return local(store -> localOne(store, id));
        if (forwarded || self.equals(host)) return unavailable("domain registry moved from " + self + " (rebalancing)");
        return forward(host, "/domains/" + URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20"), authorization);
    }

    /**
     * POST /domains/{id}/approve: 202 once the APPROVE command is acknowledged by Kafka (acks=all); 404 for a domain the
     * registry does not hold, 503 when the registry cannot be asked or Kafka does not acknowledge in time.
     *
     * @param principal the approving token's subject (the command's {@code principal})
     */
    public Answer approve(String id, String principal, String authorization) {
        Answer found = one(id, authorization, false);
        if (found.status() != 200) return found;
        DomainCommand c = DomainCommand.approve(id, principal, Instant.now());
        try {
            commands.send(c);
        } catch (TimeoutException e) {
            LOG.errorf("approval %s of %s not acknowledged by Kafka within %s", c.requestId(), id, commands.ackTimeout());
            return unavailable("Kafka did not acknowledge the approval within " + commands.ackTimeout().toMillis() + " ms; see GET /domains/" + id
                    + " (sending it again is safe: approving a KNOWN domain changes nothing)");
        } catch (ExecutionException e) {
            LOG.errorf("approval %s of %s refused by Kafka: %s", c.requestId(), id, e.getCause());
            return unavailable("Kafka refused the approval: " + e.getCause().getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return unavailable("interrupted while waiting for Kafka's acknowledgement");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", id);
        body.put("status", found.body().path("status").asText(null));
        body.put("requested", "KNOWN");
        body.put("requestId", c.requestId());
        body.put("note", "accepted by Kafka (" + c.requestId() + "); the drift detector applies it from imaging.domain.commands; see GET /domains/" + id);
        return new Answer(202, mapper.valueToTree(body), 0);
    }

    /**
     * True when this instance's own stream threads run the registry's task for that partition as its active task. The
     * detector's task always reads {@code imaging.domain.commands} (DriftTopology), so its partition names the task. Asked
     * of the running threads, not of the advertised address: that is this instance's view even when the address is
     * misconfigured (several replicas advertising the same one) or was resolved before the HTTP port was known.
     */
    private boolean hostedHere(int partition) {
        TopicPartition input = new TopicPartition(Topics.DOMAIN_COMMANDS, partition);
        for (ThreadMetadata t : streams.metadataForLocalThreads()) {
            for (TaskMetadata task : t.activeTasks()) if (task.topicPartitions().contains(input)) return true;
        }
        return false;
    }

    private boolean hostedHere(StreamsMetadata m) {
        return m.topicPartitions().stream().anyMatch(tp -> tp.topic().equals(Topics.DOMAIN_COMMANDS) && hostedHere(tp.partition()));
    }

    private Answer notRunning() {
        KafkaStreams.State s = streams.state();
        return s == KafkaStreams.State.RUNNING ? null : unavailable("domain registry not queryable yet: Kafka Streams is " + s);
    }

    private Answer localAll(ReadOnlyKeyValueStore<String, DomainState> store) {
        List<DomainView> out = new ArrayList<>();
        try (KeyValueIterator<String, DomainState> it = store.all()) {
            it.forEachRemaining(kv -> out.add(DomainView.of(kv.value)));
        }
        out.sort(Comparator.comparing(DomainView::firstSeen, Comparator.nullsLast(Comparator.naturalOrder())).thenComparing(DomainView::id));
        return new Answer(200, mapper.valueToTree(out), 0);
    }

    private Answer localOne(ReadOnlyKeyValueStore<String, DomainState> store, String id) {
        DomainState d = store.get(id);
        return d == null ? new Answer(404, error("no domain " + id), 0) : new Answer(200, mapper.valueToTree(DomainView.of(d)), 0);
    }

    private Answer local(Function<ReadOnlyKeyValueStore<String, DomainState>, Answer> q) {
        try {
            return q.apply(streams.store(StoreQueryParameters.fromNameAndType(DriftDetector.REGISTRY_STORE, QueryableStoreTypes.keyValueStore())));
        } catch (InvalidStateStoreException e) {
            return unavailable("domain registry not queryable yet: " + e.getMessage());
        }
    }

    /** The same GET on the instance that hosts the registry (the caller's Authorization header with it). */
    private Answer forward(HostInfo host, String path, String authorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + host.host() + ":" + host.port() + path)).timeout(forwardTimeout)
                .header(FORWARDED_HEADER, self.toString()).header("Accept", "application/json").GET();
        if (authorization != null) b.header("Authorization", authorization);
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode body;
            try {
                body = r.body() == null || r.body().isBlank() ? error("HTTP " + r.statusCode() + " from " + host) : mapper.readTree(r.body());
            } catch (IOException e) {
                body = error("HTTP " + r.statusCode() + " from " + host + " (not JSON)");
            }
            int retryAfter = r.statusCode() == 503 ? r.headers().firstValue("Retry-After").map(DomainRequests::seconds).orElse(RETRY_AFTER_SECONDS) : 0;
            return new Answer(r.statusCode(), body, retryAfter);
        } catch (IOException e) {
            LOG.warnf("domain registry query %s forwarded to %s failed: %s", path, host, e.toString());
            return unavailable("domain registry host " + host + " did not answer within " + forwardTimeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return unavailable("interrupted while asking " + host);
        }
    }

    private static int seconds(String v) {
        try {
            return Math.max(1, Integer.parseInt(v.strip()));
        } catch (NumberFormatException e) {
            return RETRY_AFTER_SECONDS;
        }
    }

    private Answer unavailable(String message) {
        return new Answer(503, error(message), RETRY_AFTER_SECONDS);
    }

    private JsonNode error(String message) {
        return mapper.valueToTree(Map.of("error", message));
    }
}
