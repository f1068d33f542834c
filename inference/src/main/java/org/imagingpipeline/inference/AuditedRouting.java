package org.imagingpipeline.inference;

import org.imagingpipeline.kafka.AuditLog;

/**
 * Puts every model refusal of the {@link ModelRouter} on the audit trail ({@code audit.events}: principal
 * {@code system:inference}, action {@code model-refused}, target domain and version, the reason as detail) and passes
 * every routing change on to the next listener (the metrics).
 */
public final class AuditedRouting implements ModelRouter.Listener {
    public static final String PRINCIPAL = "system:inference";

    private final ModelRouter.Listener next;
    private final AuditLog audit;

    public AuditedRouting(ModelRouter.Listener next, AuditLog audit) {
        this.next = next;
        this.audit = audit;
    }

    @Override
    public void served(String domainId, String version) {
        next.served(domainId, version);
    }

    @Override
    public void unrouted(String domainId) {
        next.unrouted(domainId);
    }

    @Override
    public void refused(String domainId, String version, String reason) {
        next.refused(domainId, version, reason);
        audit.record(PRINCIPAL, "model-refused", "domain " + domainId + " version " + version, "refused", reason);
    }
}
