package org.imagingpipeline.streams;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;

/** imaging.instances.received -> {@link SeriesAssembler} (two changelogged stores) -> imaging.series.ready. */
public final class SeriesAssemblyTopology {
    private SeriesAssemblyTopology() {
    }

    public static Topology build(AssemblyConfig config) {
        Topology t = new Topology();
        t.addSource("instances", Serdes.String().deserializer(), JsonSerde.of(InstanceReceived.class), Topics.INSTANCES_RECEIVED);
        t.addProcessor("assemble", () -> new SeriesAssembler(config), "instances");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(SeriesAssembler.SERIES_STORE), Serdes.String(),
                JsonSerde.of(SeriesState.class)), "assemble");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(SeriesAssembler.INSTANCE_STORE), Serdes.String(),
                JsonSerde.of(InstanceEntry.class)), "assemble");
        t.addSink("series-ready", Topics.SERIES_READY, Serdes.String().serializer(), JsonSerde.of(SeriesReady.class), "assemble");
        return t;
    }
}
