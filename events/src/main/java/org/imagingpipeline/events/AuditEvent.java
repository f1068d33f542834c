package org.imagingpipeline.events;

import java.time.Instant;
import java.util.Objects;

/**
 * Value of {@link Topics#AUDIT_EVENTS}: one state change, or one refused attempt at one, with who did it. Written by
 * the service where it happened; {@code GET /audit} on retrain reads the most recent ones. Never carries patient data:
 * the target is a domain id, a job id, a model version or an HTTP method and path of an API without patient
 * identifiers, and the principal is a token's subject.
 *
 * @param schemaVersion {@link #SCHEMA_VERSION}
 * @param eventId       a random UUID
 * @param at            when it happened
 * @param service       the service that recorded it: ingest, streams, inference, retrain, ...
 * @param principal     the caller: the bearer token's {@code upn}/{@code sub}; {@code anonymous} without a valid token;
 *                      {@code system:SERVICE} for what a service did on its own (a promotion by the gate, a refusal)
 * @param action        approve, adapt, cancel, promote, rollback, model-refused, authenticate, authorize
 * @param target        what it acted on, e.g. {@code domain dom-1a2b3c4d5e6f}, {@code job job-…}, {@code POST /jobs/x/cancel}
 * @param outcome       succeeded, accepted (a job queued), refused (the request was valid but not possible, or a record
 *                      was refused), denied (authentication or authorisation failed), failed
 * @param detail        short words on the outcome (an HTTP status, a refusal reason); optional
 */
public record AuditEvent(int schemaVersion, String eventId, Instant at, String service, String principal, String action,
                         String target, String outcome, String detail) {
    public static final int SCHEMA_VERSION = 1;

    public AuditEvent {
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(outcome, "outcome");
    }

    /** A new event, now, with a random id. */
    public static AuditEvent of(String service, String principal, String action, String target, String outcome, String detail) {
        return new AuditEvent(SCHEMA_VERSION, java.util.UUID.randomUUID().toString(), Instant.now(), service, principal, action, target,
                outcome, detail);
    }
}
