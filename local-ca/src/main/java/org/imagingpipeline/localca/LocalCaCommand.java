package org.imagingpipeline.localca;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code init}: what {@code ./pipeline up} runs before it starts a service (deploy/stack.sh {@code stack_secrets}):
 * the CA under {@code --secrets} (created once) and a certificate per {@code --issue NAME[=EXTRA,NAMES]} (kept while
 * good, see {@link LocalCa}). Prints what it did on stderr; stdout stays empty.
 */
@Command(name = "local-ca", mixinStandardHelpOptions = true, subcommands = LocalCaCommand.Init.class,
        description = "The local stack's certificate authority (docs/security.md, \"DICOM TLS\").")
public final class LocalCaCommand implements Callable<Integer> {
    public static void main(String[] args) {
        System.exit(new CommandLine(new LocalCaCommand()).execute(args));
    }

    @Override
    public Integer call() {
        CommandLine.usage(this, System.err);
        return 2;
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = "Creates the CA under --secrets unless it exists, then issues (or keeps) each --issue certificate.")
    static final class Init implements Callable<Integer> {
        @Option(names = "--secrets", required = true, description = "the secrets folder (PIPELINE_HOME/secrets)")
        Path secrets;

        @Option(names = "--issue", paramLabel = "NAME[=NAME,...]",
                description = "a certificate NAME.pem + NAME-key.pem; after '=' extra subject alternative names (host names, IP addresses)"
                        + " besides localhost, 127.0.0.1 and ::1")
        List<String> issue = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            LocalCa ca = LocalCa.ensure(secrets);
            System.err.printf("local CA: %s (%s, valid until %s)%n", ca.caFile(), ca.certificate().getSubjectX500Principal().getName(),
                    ca.certificate().getNotAfter().toInstant());
            for (String spec : issue) {
                int eq = spec.indexOf('=');
                String name = eq < 0 ? spec : spec.substring(0, eq);
                List<String> extra = eq < 0 ? List.of() : Arrays.asList(spec.substring(eq + 1).split(","));
                LocalCa.Issued i = ca.issue(name.trim(), extra);
                System.err.printf("certificate %s: %s %s (key %s)%n", name, i.created() ? "issued" : "kept", i.certificate(), i.privateKey());
            }
            return 0;
        }
    }
}
