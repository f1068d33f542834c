package org.imagingpipeline.streams;

import java.time.Instant;
import java.util.UUID;
import org.imagingpipeline.streams.deadletter.RefusedRecord;

/**
 * A command to the domain registry, value of {@code imaging.domain.commands} (key: the domain id; docs/topics.md,
 * docs/drift.md "Approval"). Written by POST /domains/{id}/approve on whichever replica received it, applied by the
 * {@link DriftDetector} in the stream thread that owns the registry. Never patient data.
 *
 * @param requestId   a random UUID per request (in the DomainEvent's reason and the logs: it ties the two together)
 * @param principal   the approving token's subject (the same name the audit record carries)
 * @param requestedAt when the REST resource accepted the request
 */
public record DomainCommand(int schemaVersion, String requestId, Type type, String domainId, String principal, Instant requestedAt)
        implements DetectorInput {
    public static final int SCHEMA_VERSION = 1;

    /** What a command asks for. */
    public enum Type {
        /** make the domain KNOWN (its held series become its reference); a no-op for a KNOWN domain */
        APPROVE
    }

    /** A new approval of the domain by the principal. */
    public static DomainCommand approve(String domainId, String principal, Instant at) {
        return new DomainCommand(SCHEMA_VERSION, UUID.randomUUID().toString(), Type.APPROVE, domainId, principal, at);
    }

    /**
     * The command read under {@code key}, or a {@link RefusedRecord} ({@code BAD_COMMAND}: the processing exception handler
     * dead-letters it) when it cannot be applied: no value, another schema version, no type, no domain id, a key other
     * than its domain id, no principal or request id. The reason names the field, never a value.
     */
    static DomainCommand checked(String key, DomainCommand c) {
        String problem = c == null ? "no value (a tombstone)"
                : c.schemaVersion() != SCHEMA_VERSION ? "schemaVersion " + c.schemaVersion() + " is not " + SCHEMA_VERSION
                : c.type() == null ? "no type"
                : c.domainId() == null || c.domainId().isBlank() ? "no domainId"
                : !c.domainId().equals(key) ? "the key is not the command's domainId"
                : c.requestId() == null || c.requestId().isBlank() ? "no requestId"
                : c.principal() == null || c.principal().isBlank() ? "no principal"
                : null;
        if (problem != null) throw new RefusedRecord(RefusedRecord.Kind.BAD_COMMAND, "domain command cannot be applied: " + problem, null);
        return c;
    }
}
