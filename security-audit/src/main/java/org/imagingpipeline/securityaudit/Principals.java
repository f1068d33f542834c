package org.imagingpipeline.securityaudit;

import io.quarkus.security.identity.SecurityIdentity;

/** The name an audit event gives a caller. */
public final class Principals {
    private Principals() {
    }

    /** The token's {@code upn} (smallrye-jwt's principal name; else {@code preferred_username}, else {@code sub}); "anonymous" without one. */
    public static String name(SecurityIdentity id) {
        if (id == null || id.isAnonymous() || id.getPrincipal() == null) return "anonymous";
        String n = id.getPrincipal().getName();
        return n == null || n.isBlank() ? "unknown" : n;
    }
}
