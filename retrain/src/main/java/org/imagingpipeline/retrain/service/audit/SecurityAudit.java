package org.imagingpipeline.retrain.service.audit;

import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.spi.runtime.AbstractSecurityEvent;
import io.quarkus.security.spi.runtime.AuthenticationFailureEvent;
import io.quarkus.security.spi.runtime.AuthorizationFailureEvent;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.inject.Inject;
import org.imagingpipeline.kafka.AuditLog;
import org.imagingpipeline.retrain.service.RetrainService;

/**
 * Audits refused HTTP requests (Quarkus security events): no or a bad token ({@code authenticate}, principal
 * {@code anonymous}) and a valid token without the endpoint's role ({@code authorize}, the token's subject), outcome
 * {@code denied}, target the method and path. The token itself, and the verifier's message (which may quote its
 * claims), are never recorded.
 */
@ApplicationScoped
public class SecurityAudit {
    @Inject
    RetrainService service;

    void authenticationFailed(@ObservesAsync AuthenticationFailureEvent e) {
        record(e, "anonymous", "authenticate", "no valid bearer token");
    }

    void authorizationFailed(@ObservesAsync AuthorizationFailureEvent e) {
        SecurityIdentity id = e.getSecurityIdentity();
        if (id == null || id.isAnonymous()) {
            record(e, "anonymous", "authenticate", "no valid bearer token");
        } else {
            record(e, Principals.name(id), "authorize", "token lacks the endpoint's role");
        }
    }

    private void record(AbstractSecurityEvent e, String principal, String action, String detail) {
        AuditLog audit = service.audit();
        if (audit != null) audit.record(principal, action, target(e), "denied", detail);
    }

    /** METHOD /path of the refused request (at most 200 characters), or "http" when the event has no request. */
    static String target(AbstractSecurityEvent e) {
        if (e.getEventProperties() != null) {
            for (Object v : e.getEventProperties().values()) {
                if (v instanceof RoutingContext rc) {
                    String t = rc.request().method().name() + " " + rc.normalizedPath();
                    return t.length() > 200 ? t.substring(0, 200) : t;
                }
            }
        }
        return "http";
    }
}
