package org.imagingpipeline.streams;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.imagingpipeline.kafka.KafkaClients;
import org.jboss.logging.Logger;

/** The topology Quarkus runs (quarkus-kafka-streams): series assembly and the drift detector, settings from application.properties. */
@ApplicationScoped
public class StreamsTopologyProducer {
    private static final Logger LOG = Logger.getLogger(StreamsTopologyProducer.class);

    /**
     * One topology per application ({@code @Singleton}): quarkus-kafka-streams injects the Topology in more than one
     * place, and a dependent-scoped producer built it twice - the reference patients loaded twice and two detectors'
     * gauges, only one of them the running topology's.
     */
    @Produces
    @Singleton
    public Topology topology(@ConfigProperty(name = "streams.assembly.inactivity") Duration inactivity,
                             @ConfigProperty(name = "streams.assembly.check-interval") Duration checkInterval,
                             @ConfigProperty(name = "streams.assembly.retain-completed") Duration retainCompleted,
                             @ConfigProperty(name = "streams.assembly.sender-done") boolean senderDone,
                             @ConfigProperty(name = "streams.assembly.sender-done-grace") Duration senderDoneGrace,
                             DriftSettings settings, PixelLimitSettings pixels, MeterRegistry metrics) throws IOException {
        DriftConfig drift = settings.config();
        ReferencePatients refs = ReferencePatients.load(settings.referenceFile().orElse(null), settings.modelCard().orElse(null),
                settings.trainingData().orElse(null));
        LOG.infof("drift detector: %d reference (training) patients; %s; %s", refs.size(), drift, pixels.limits());
        StreamsBuilder b = new StreamsBuilder();
        SeriesAssemblyTopology.addTo(b, new AssemblyConfig(inactivity, checkInterval, retainCompleted,
                senderDone ? senderDoneGrace : null), metrics);
        DriftTopology.addTo(b, drift, pixels.limits(), refs, metrics);
        return b.build();
    }

    /** Approval commands to imaging.domain.commands (the service's {@code kafka.*} client settings, acks=all). */
    @Produces
    @Singleton
    public DomainCommands domainCommands(@ConfigProperty(name = "streams.commands.ack-timeout") Duration ackTimeout) {
        return new DomainCommands(KafkaClients.fromConfig(ConfigProvider.getConfig(), Map.of()), ackTimeout);
    }

    void closeDomainCommands(@Disposes DomainCommands commands) {
        commands.close();
    }

    /** The registry's requests, routed by this replica's application.server ({@code streams.application-server}). */
    @Produces
    @Singleton
    public DomainRequests domainRequests(KafkaStreams streams, ObjectMapper mapper, DomainCommands commands,
                                         @ConfigProperty(name = "streams.application-server") Optional<String> applicationServer,
                                         @ConfigProperty(name = "streams.query.forward-timeout") Duration forwardTimeout) {
        return new DomainRequests(streams, DomainRequests.hostInfo(applicationServer.orElse(null)), mapper, commands, forwardTimeout);
    }
}
