package org.imagingpipeline.streams;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.time.Duration;
import org.apache.kafka.streams.Topology;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** The topology Quarkus runs (quarkus-kafka-streams): series assembly, settings from application.properties. */
@ApplicationScoped
public class StreamsTopologyProducer {

    @Produces
    public Topology topology(@ConfigProperty(name = "streams.assembly.inactivity") Duration inactivity,
                             @ConfigProperty(name = "streams.assembly.check-interval") Duration checkInterval,
                             @ConfigProperty(name = "streams.assembly.retain-completed") Duration retainCompleted) {
        return SeriesAssemblyTopology.build(new AssemblyConfig(inactivity, checkInterval, retainCompleted));
    }
}
