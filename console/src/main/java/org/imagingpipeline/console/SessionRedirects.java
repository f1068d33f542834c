package org.imagingpipeline.console;

import io.quarkus.qute.Template;
import io.quarkus.qute.Location;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * What a person sees instead of a bare 401/403: without a session, or with one the console no longer accepts (expired,
 * another issuer), the login page (the stale cookie is cleared); with a session whose roles do not allow a page or an
 * action, a page saying which roles it needs.
 */
public class SessionRedirects {
    @Inject
    ConsoleConfig config;
    @Inject
    @Location("refused.html")
    Template refused;

    @ServerExceptionMapper({UnauthorizedException.class, AuthenticationFailedException.class})
    public Response toLogin(HttpHeaders headers) {
        boolean hadSession = headers.getCookies().containsKey(config.sessionCookie());
        return Response.seeOther(URI.create(hadSession ? "/login?expired=true" : "/login"))
                .cookie(LoginResource.sessionCookie(config, "", 0)).build();
    }

    @ServerExceptionMapper
    public Response refused(ForbiddenException e) {
        return Response.status(403).type(MediaType.TEXT_HTML_TYPE)
                .entity(refused.data("message", "Refused: this needs the mlops role (reading needs viewer); "
                        + "sign in with a token that has it, e.g. ./pipeline token mlops viewer.").render()).build();
    }
}
