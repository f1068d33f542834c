package org.imagingpipeline.securityaudit;

import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.spi.runtime.AbstractSecurityEvent;
import io.quarkus.security.spi.runtime.AuthenticationFailureEvent;
import io.quarkus.security.spi.runtime.AuthorizationFailureEvent;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.inject.Inject;
import java.util.regex.Pattern;

/**
 * Every service's refused HTTP requests on {@code audit.events} (Quarkus security events, observed asynchronously):
 * no or a bad token ({@code authenticate}, principal {@code anonymous}) and a valid token without the endpoint's role
 * ({@code authorize}, the token's subject); outcome {@code denied}; target the method and path ({@link #target}); time
 * the event's. Bounded by {@link ServiceAudit#denied()}. The token itself, the query string and the verifier's message
 * (which may quote the token's claims) are never recorded; DICOM UIDs in a path are replaced by {@code {uid}}.
 */
@ApplicationScoped
public class HttpSecurityAudit {
    static final String NO_TOKEN = "no valid bearer token";
    static final String NO_ROLE = "token lacks the endpoint's role";
    private static final Pattern UID = Pattern.compile("^[0-9]+(\\.[0-9]+){3,}$");

    @Inject
    ServiceAudit audit;

    void authenticationFailed(@ObservesAsync AuthenticationFailureEvent e) {
        audit.denied().denied("anonymous", "authenticate", target(e), NO_TOKEN);
    }

    void authorizationFailed(@ObservesAsync AuthorizationFailureEvent e) {
        SecurityIdentity id = e.getSecurityIdentity();
        if (id == null || id.isAnonymous()) {
            audit.denied().denied("anonymous", "authenticate", target(e), NO_TOKEN);
        } else {
            audit.denied().denied(Principals.name(id), "authorize", target(e), NO_ROLE);
        }
    }

    /** METHOD /path of the refused request (at most 200 characters), or "http" when the event has no request. */
    static String target(AbstractSecurityEvent e) {
        if (e.getEventProperties() != null) {
            for (Object v : e.getEventProperties().values()) {
                if (v instanceof RoutingContext rc) return target(rc.request().method().name(), rc.normalizedPath());
            }
        }
        return "http";
    }

    /** METHOD and the path with DICOM UIDs as {@code {uid}}, cut at 200 characters. */
    static String target(String method, String path) {
        StringBuilder b = new StringBuilder(method).append(' ');
        String[] parts = (path == null ? "" : path).split("/", -1);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) b.append('/');
            b.append(UID.matcher(parts[i]).matches() ? "{uid}" : parts[i]);
        }
        String t = b.toString();
        return t.length() > 200 ? t.substring(0, 200) : t;
    }
}
