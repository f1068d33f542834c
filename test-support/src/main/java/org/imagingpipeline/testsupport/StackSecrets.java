package org.imagingpipeline.testsupport;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.imagingpipeline.events.signing.ModelSigning;
import org.imagingpipeline.localca.LocalCaCommand;
import org.imagingpipeline.testsupport.auth.TokenCommand;
import org.imagingpipeline.testsupport.kafka.KafkaAccess;
import org.imagingpipeline.testsupport.kafka.KafkaSecrets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What {@code ./pipeline up} (deploy/stack.sh {@code stack_secrets}) runs before it starts anything, in one process:
 * the token issuer's key pair ({@code TokenCommand init}), retrain's model-signing key pair ({@link ModelSigning}), the
 * local CA and its certificates ({@code LocalCaCommand init --issue ...}) and, with {@code --kafka}, the Kafka
 * credentials ({@link KafkaSecrets}). Each is created once and kept afterwards, so running it on every {@code up} only
 * checks; one JVM instead of four matters when {@code up} restarts a crashed process on a loaded machine.
 */
@Command(name = "stack-secrets", mixinStandardHelpOptions = true,
        description = "Creates (once) or keeps the local stack's keys and certificates under --secrets (docs/security.md).")
public final class StackSecrets implements Callable<Integer> {
    @Option(names = "--secrets", required = true, description = "the secrets folder (PIPELINE_HOME/secrets)")
    Path secrets;

    @Option(names = "--issue", paramLabel = "NAME[=NAME,...]",
            description = "a certificate of the local CA, as LocalCaCommand init --issue")
    List<String> issue = new ArrayList<>();

    @Option(names = "--kafka", description = "also the Kafka node's and every principal's credentials (a secured broker)")
    boolean kafka;

    public static void main(String[] args) {
        System.exit(new CommandLine(new StackSecrets()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        int rc = new CommandLine(new TokenCommand()).execute("init", "--secrets", secrets.toString());
        if (rc != 0) return rc;
        ModelSigning.Ensured signing = ModelSigning.ensure(secrets);
        System.err.printf("model signing key: %s %s (public key %s, key id %s)%n", signing.created() ? "created" : "kept",
                signing.privateKey(), signing.publicKey(), signing.signer().keyId());
        List<String> ca = new ArrayList<>(List.of("init", "--secrets", secrets.toString()));
        for (String spec : issue) {
            ca.add("--issue");
            ca.add(spec);
        }
        rc = new CommandLine(new LocalCaCommand()).execute(ca.toArray(String[]::new));
        if (rc != 0) return rc;
        if (kafka) {
            KafkaSecrets s = KafkaSecrets.ensure(secrets);
            System.err.printf("kafka secrets: %d principals' credentials in %s%n", KafkaAccess.PRINCIPALS.size(), s.folder());
        }
        return 0;
    }
}
