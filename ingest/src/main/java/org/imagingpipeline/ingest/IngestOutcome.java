package org.imagingpipeline.ingest;

import org.imagingpipeline.events.InstanceReceived;

/** What became of one instance. */
public sealed interface IngestOutcome {

    String sopClassUid();

    String sopInstanceUid();

    /** Stored and its event acknowledged by Kafka. */
    record Stored(InstanceReceived event) implements IngestOutcome {
        public String sopClassUid() {
            return event.sopClassUid();
        }

        public String sopInstanceUid() {
            return event.sopInstanceUid();
        }
    }

    /** The same SOP Instance UID with the same bytes was acknowledged before: success, no second event. */
    record Duplicate(String sopClassUid, String sopInstanceUid, String blobSha256) implements IngestOutcome {
    }

    /** Refused; nothing published. */
    record Rejected(RejectReason reason, String detail, String sopClassUid, String sopInstanceUid) implements IngestOutcome {
    }

    default boolean success() {
        return !(this instanceof Rejected);
    }
}
