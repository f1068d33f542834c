package org.imagingpipeline.dlq;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.kafka.dlq.DeadLetterTopic;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./pipeline dlq list|replay TOPIC}: one JSON line per dead letter on stdout (never its value), the last line a JSON
 * summary; messages on stderr. Kafka client settings: {@code --bootstrap} and the {@code KAFKA_*} environment
 * ({@link KafkaClients#fromEnvironment}). Exit status: 0, 1 when a replay refused a selected dead letter, 2 on a usage
 * error or when the broker or topic cannot be used.
 */
@Command(name = "dlq", mixinStandardHelpOptions = true, subcommands = {DlqCommand.ListCommand.class, DlqCommand.ReplayCommand.class},
        description = {"Inspects and re-injects dead-lettered records (docs/operations.md).",
                "Dead-letter topics: " + "imaging.streams.dlq, imaging.segmentation.dlq, ehr.delivery.dlq"})
public final class DlqCommand implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(System.out, System.err, System.getenv(), args));
    }

    /** Runs the command with these streams and environment (tests call it in-process). */
    public static int run(PrintStream out, PrintStream err, Map<String, String> env, String... args) {
        CommandLine cl = new CommandLine(new DlqCommand());
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        for (CommandLine sub : cl.getSubcommands().values()) {
            Common c = sub.getCommand();
            c.out = out;
            c.err = err;
            c.env = env;
        }
        return cl.execute(args);
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    /** Options of both verbs. */
    abstract static class Common implements Callable<Integer> {
        PrintStream out = System.out;
        PrintStream err = System.err;
        Map<String, String> env = System.getenv();

        @Parameters(index = "0", paramLabel = "TOPIC", description = "the dead-letter topic (imaging.streams.dlq, imaging.segmentation.dlq,"
                + " ehr.delivery.dlq, or any topic with dlq.* headers)")
        String topic;

        @Option(names = "--bootstrap", paramLabel = "HOST:PORT",
                description = "the broker (default: $KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:$KAFKA_PORT, else 127.0.0.1:9092)")
        String bootstrap;

        @Option(names = "--reason", paramLabel = "KIND", description = "only dead letters of this reason kind (EHR_REJECTED, POISON,"
                + " PIXEL_LIMITS, ...; case-insensitive) or whose reason starts with this text")
        String reason;

        @Option(names = "--since", paramLabel = "TIME", description = "only dead letters written at or after TIME: an ISO-8601 instant"
                + " (2026-12-06T10:00:00Z), a date (UTC midnight) or an age (30m, 2h, 7d, PT90M)")
        String since;

        @Option(names = "--limit", paramLabel = "N", description = "at most N dead letters")
        Integer limit;

        KafkaClients clients() {
            String b = bootstrap != null ? bootstrap : env.getOrDefault("KAFKA_BOOTSTRAP_SERVERS",
                    "127.0.0.1:" + env.getOrDefault("KAFKA_PORT", "9092"));
            return KafkaClients.fromEnvironment(env, Map.of("bootstrap.servers", b));
        }

        Instant sinceInstant() {
            return since == null ? null : parseTime(since, Clock.systemUTC());
        }

        void line(Map<String, Object> m) {
            try {
                out.println(JSON.writeValueAsString(m));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public Integer call() {
            try {
                if (limit != null && limit < 1) throw new IllegalArgumentException("--limit must be >= 1");
                if (!Topics.DEAD_LETTER_TOPICS.contains(topic)) {
                    err.println("dlq: note: " + topic + " is not one of the pipeline's dead-letter topics " + Topics.DEAD_LETTER_TOPICS);
                }
                return execute();
            } catch (IllegalArgumentException e) {
                return fail("usage", e.getMessage());
            } catch (IOException e) {
                return fail("broker", e.getMessage());
            }
        }

        private int fail(String kind, String message) {
            err.println("dlq: " + message);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("topic", topic);
            m.put("error", message);
            m.put("error_kind", kind);
            line(m);
            return 2;
        }

        abstract int execute() throws IOException;
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = {"One JSON line per dead letter: partition, offset, time, key, reason, source topic/partition/offset,"
                    + " size, replayed or not (never the value); the last line a summary with the counts by reason kind."})
    static final class ListCommand extends Common {
        @Override
        int execute() throws IOException {
            DeadLetterTopic t = new DeadLetterTopic(clients(), topic);
            DeadLetterTopic.ListSummary s = t.list(new DeadLetterTopic.Filter(reason, sinceInstant(), limit), (d, marker) -> line(d.json(marker)));
            line(s.json());
            return 0;
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = {"Re-injects dead letters into the topic they came from (dlq.source), each once: a marker on dlq.replays"
                    + " is written in the same transaction, and a dead letter with a marker is never sent again.",
                    "One JSON line per selected dead letter (replayed, would_replay, already_replayed, refused with why);"
                            + " the last line a summary. Exit status 1 when one was refused."})
    static final class ReplayCommand extends Common {
        @Option(names = "--offset", paramLabel = "[PARTITION:]OFFSET", split = ",",
                description = "the dead letters at these offsets of TOPIC (partition 0 unless given); repeatable")
        List<String> offsets;

        @Option(names = "--all", description = "every dead letter of TOPIC (with --reason/--since: every one that matches)")
        boolean all;

        @Option(names = "--dry-run", description = "say what would be re-injected; send nothing, write no marker")
        boolean dryRun;

        @Override
        int execute() throws IOException {
            Set<DeadLetterTopic.Offset> at = new HashSet<>();
            if (offsets != null) offsets.forEach(o -> at.add(DeadLetterTopic.Offset.parse(o)));
            DeadLetterTopic.Selection selection = new DeadLetterTopic.Selection(at, reason, sinceInstant(), all, limit);
            DeadLetterTopic t = new DeadLetterTopic(clients(), topic);
            DeadLetterTopic.ReplaySummary s = t.replay(selection, dryRun, r -> line(r.json()));
            line(s.json());
            if (s.selected() == 0) err.println("dlq: no dead letter of " + topic + " matched the selection");
            return s.refused() > 0 ? 1 : 0;
        }
    }

    /** An ISO-8601 instant, a date (UTC), or an age before now ({@code 30m}, {@code 2h}, {@code 7d}, {@code PT90M}). */
    static Instant parseTime(String text, Clock clock) {
        String t = text.trim();
        try {
            if (t.matches("\\d+[smhd]")) {
                long n = Long.parseLong(t.substring(0, t.length() - 1));
                Duration d = switch (t.charAt(t.length() - 1)) {
                    case 's' -> Duration.ofSeconds(n);
                    case 'm' -> Duration.ofMinutes(n);
                    case 'h' -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
                return clock.instant().minus(d);
            }
            if (t.toUpperCase(Locale.ROOT).startsWith("P")) return clock.instant().minus(Duration.parse(t));
            if (t.matches("\\d{4}-\\d{2}-\\d{2}")) return LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant();
            return Instant.parse(t);
        } catch (DateTimeParseException | ArithmeticException e) {
            throw new IllegalArgumentException("--since: '" + text + "' is neither an ISO-8601 instant, a date, nor an age like 2h or 7d");
        }
    }
}
