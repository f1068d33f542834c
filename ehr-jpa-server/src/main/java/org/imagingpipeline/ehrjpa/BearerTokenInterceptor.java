package org.imagingpipeline.ehrjpa;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.server.exceptions.AuthenticationException;
import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Every request needs {@code Authorization: Bearer <token>} with the server's one token; anything else is answered
 * 401 (with {@code WWW-Authenticate: Bearer}) before HAPI routes, parses or reads anything. The token is compared in
 * constant time.
 */
@Interceptor
public final class BearerTokenInterceptor {
    private final byte[] expected;

    public BearerTokenInterceptor(String token) {
        if (token == null || token.isBlank()) throw new IllegalArgumentException("empty bearer token");
        this.expected = ("Bearer " + token.strip()).getBytes(StandardCharsets.UTF_8);
    }

    @Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_PROCESSED)
    public boolean authenticate(HttpServletRequest request) {
        String header = request.getHeader("Authorization");
        byte[] given = header == null ? new byte[0] : header.strip().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(expected, given)) {
            throw new AuthenticationException(header == null ? "Authorization: Bearer required" : "invalid bearer token")
                    .addResponseHeader("WWW-Authenticate", "Bearer realm=\"ehr-jpa-server\"");
        }
        return true;
    }
}
