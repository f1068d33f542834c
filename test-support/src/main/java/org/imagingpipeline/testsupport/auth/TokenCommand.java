package org.imagingpipeline.testsupport.auth;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The local issuer's command line: {@code init} (what {@code ./pipeline up} runs before it starts a service) creates
 * the key pair under {@code --secrets} once; {@code token ROLE [ROLE...]} ({@code ./pipeline token}) prints a bearer
 * token as the last stdout line. Nothing but the token goes to stdout; the token is never written anywhere else.
 */
@Command(name = "token-issuer", mixinStandardHelpOptions = true, subcommands = {TokenCommand.Init.class, TokenCommand.Token.class},
        description = "The local stack's token issuer (docs/security.md).")
public final class TokenCommand implements Callable<Integer> {
    /** Longest lifetime {@code token} issues (a day): long-lived bearer tokens are what leaks. */
    static final int MAX_MINUTES = 24 * 60;

    public static void main(String[] args) {
        System.exit(new CommandLine(new TokenCommand()).execute(args));
    }

    @Override
    public Integer call() {
        CommandLine.usage(this, System.err);
        return 2;
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = "Creates the issuer's key pair under --secrets unless it exists (never replaces it).")
    static final class Init implements Callable<Integer> {
        @Option(names = "--secrets", required = true, description = "the secrets folder (PIPELINE_HOME/secrets)")
        Path secrets;

        @Override
        public Integer call() throws Exception {
            LocalIssuer.Ensured e = LocalIssuer.ensure(secrets);
            System.err.printf("token issuer: %s %s (public key %s, kid %s)%n", e.created() ? "created" : "kept", e.privateKey(),
                    e.publicKey(), e.issuer().keyId());
            return 0;
        }
    }

    @Command(name = "token", mixinStandardHelpOptions = true,
            description = "Prints a bearer token (JWT) for the roles as the last stdout line; creates the key first when missing.")
    static final class Token implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "ROLE", description = "viewer, mlops, scanner or admin (several: one token with all)")
        List<String> roles;

        @Option(names = "--secrets", required = true, description = "the secrets folder (PIPELINE_HOME/secrets)")
        Path secrets;

        @Option(names = "--minutes", defaultValue = "60", description = "lifetime in minutes, 1 to " + MAX_MINUTES + " (default: ${DEFAULT-VALUE})")
        int minutes;

        @Option(names = "--subject", description = "sub/upn of the token (default: local-ROLE)")
        String subject;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Set<String> unique = new LinkedHashSet<>(roles);
            for (String r : unique) {
                if (!LocalIssuer.ROLES.contains(r)) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "unknown role '" + r + "' (roles: " + LocalIssuer.ROLES + ")");
                }
            }
            if (minutes < 1 || minutes > MAX_MINUTES) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--minutes must be 1 to " + MAX_MINUTES + ", got " + minutes);
            }
            if (subject != null && !subject.matches("[A-Za-z0-9._@-]{1,64}")) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--subject: 1 to 64 of A-Z a-z 0-9 . _ @ -");
            }
            LocalIssuer.Ensured e = LocalIssuer.ensure(secrets);
            if (e.created()) System.err.println("token issuer: created " + e.privateKey() + " (services started without it must be restarted to accept its tokens)");
            String sub = subject != null ? subject : "local-" + String.join("-", unique);
            System.err.printf("token: roles %s, subject %s, valid %d min%n", unique, sub, minutes);
            System.out.println(e.issuer().token(sub, unique, Duration.ofMinutes(minutes)));
            return 0;
        }
    }
}
