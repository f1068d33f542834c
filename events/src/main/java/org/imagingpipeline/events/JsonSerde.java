package org.imagingpipeline.events;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** Kafka serde for an event record, using {@link EventJson}. */
public final class JsonSerde<T> implements Serde<T>, Serializer<T>, Deserializer<T> {
    private final Class<T> type;
    private final ObjectMapper mapper = EventJson.mapper();

    public JsonSerde(Class<T> type) {
        this.type = type;
    }

    public static <T> JsonSerde<T> of(Class<T> type) {
        return new JsonSerde<>(type);
    }

    @Override
    public byte[] serialize(String topic, T data) {
        if (data == null) return null;
        try {
            return mapper.writeValueAsBytes(data);
        } catch (IOException e) {
            throw new SerializationException("cannot write " + type.getSimpleName() + " for topic " + topic, e);
        }
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        if (data == null) return null;
        try {
            return mapper.readValue(data, type);
        } catch (JsonProcessingException e) {
            // Jackson's messages quote the offending value (it could be a patient's name): say only where it failed, and
            // keep the exception out of the chain, so that no log line or dead-letter reason carries a record's values.
            throw new SerializationException("cannot read " + type.getSimpleName() + " from topic " + topic + ": " + where(e));
        } catch (IOException e) {
            throw new SerializationException("cannot read " + type.getSimpleName() + " from topic " + topic
                    + ": " + e.getMessage(), e);
        }
    }

    /** Jackson's error class, line, column and field path: where a record failed to parse, none of its values. */
    static String where(JsonProcessingException e) {
        StringBuilder b = new StringBuilder(e.getClass().getSimpleName());
        JsonLocation at = e.getLocation();
        if (at != null) b.append(" at line ").append(at.getLineNr()).append(" column ").append(at.getColumnNr());
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) b.append(", field ").append(m.getPathReference());
        return b.toString();
    }

    @Override
    public void configure(java.util.Map<String, ?> configs, boolean isKey) {
        // no settings
    }

    @Override
    public void close() {
        // nothing to release
    }

    @Override
    public Serializer<T> serializer() {
        return this;
    }

    @Override
    public Deserializer<T> deserializer() {
        return this;
    }
}
