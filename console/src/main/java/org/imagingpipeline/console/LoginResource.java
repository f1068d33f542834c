package org.imagingpipeline.console;

import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import io.smallrye.jwt.auth.principal.JWTParser;
import io.smallrye.jwt.auth.principal.ParseException;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.NewCookie;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Instant;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.jboss.logging.Logger;

/**
 * Signing in and out. A person signs in with a token from the hospital's token issuer (locally {@code ./pipeline token
 * mlops viewer}); the console checks it as the APIs do (signature, issuer, audience, expiry) and keeps it in an
 * HttpOnly, SameSite=Strict cookie until it expires. Logs name the token's subject and roles, never the token.
 */
@Path("/")
public class LoginResource {
    private static final Logger LOG = Logger.getLogger(LoginResource.class);
    /** Longest token a person may paste (a JWT with a few roles is well under 2 KB). */
    static final int MAX_TOKEN_CHARS = 8192;

    @CheckedTemplate
    static class Templates {
        static native TemplateInstance login(String error, boolean expired);
    }

    @Inject
    JWTParser parser;
    @Inject
    ConsoleConfig config;

    @GET
    @Path("login")
    @PermitAll
    @Produces(MediaType.TEXT_HTML)
    public TemplateInstance form(@QueryParam("expired") boolean expired) {
        return Templates.login(null, expired);
    }

    @POST
    @Path("login")
    @PermitAll
    @Produces(MediaType.TEXT_HTML)
    public Response signIn(@FormParam("token") String token) {
        String t = token == null ? "" : token.strip();
        if (t.startsWith("Bearer ")) t = t.substring("Bearer ".length()).strip();
        if (t.isEmpty() || t.length() > MAX_TOKEN_CHARS) {
            return Response.status(400).entity(Templates.login("Paste a token (at most " + MAX_TOKEN_CHARS + " characters).", false)).build();
        }
        JsonWebToken jwt;
        try {
            jwt = parser.parse(t);
        } catch (ParseException e) {
            LOG.infof("sign-in refused: %s", e.getClass().getSimpleName());
            return Response.status(401).entity(Templates.login(
                    "This token is not accepted: it is expired, malformed, or not from this pipeline's token issuer.", false)).build();
        }
        long maxAge = Math.max(1, jwt.getExpirationTime() - Instant.now().getEpochSecond());
        LOG.infof("signed in: subject %s, roles %s", jwt.getSubject(), jwt.getGroups());
        return Response.seeOther(URI.create("/")).cookie(sessionCookie(config, t, (int) Math.min(Integer.MAX_VALUE, maxAge))).build();
    }

    @POST
    @Path("logout")
    @PermitAll
    public Response signOut() {
        return Response.seeOther(URI.create("/login")).cookie(sessionCookie(config, "", 0)).build();
    }

    static NewCookie sessionCookie(ConsoleConfig config, String value, int maxAgeSeconds) {
        return new NewCookie.Builder(config.sessionCookie()).value(value).path("/").httpOnly(true)
                .sameSite(NewCookie.SameSite.STRICT).secure(config.secureCookie()).maxAge(maxAgeSeconds).build();
    }
}
