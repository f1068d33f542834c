package org.imagingpipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.imagingpipeline.dicomnet.Part10;
import org.imagingpipeline.dicomnet.StoreScu;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.kafka.TopicReader;
import org.junit.jupiter.api.Test;

/**
 * Bad input against the running stack (issue 20, Maven profile {@code reliability}): 1000 and more malformed instances
 * made from the real vendor files ({@link InstanceMutator}: flipped, truncated, inserted and deleted bytes, huge lengths,
 * a 30000 x 30000 matrix claim, odd Bits Allocated, wrong or mismatched UIDs, the wrong transfer syntax, intact controls),
 * 600 by C-STORE and the rest by STOW-RS (plus multi-part requests, broken multipart framing, a part that is not DICOM and
 * a gzip bomb), all to one stack started by {@code ./pipeline up}. Afterwards:
 * <ul>
 *   <li>the stack's Kafka answers no client without credentials (security on by default);</li>
 *   <li>every answer was a DIMSE status or an HTTP status below 500; no association was aborted;</li>
 *   <li>every intact control was stored; every request (or file meta) naming another instance than its dataset, every UID
 *       with letters and every native image claiming more pixels than it holds was refused;</li>
 *   <li>imaging.instances.received holds exactly the instances that were answered "stored", each exactly once;</li>
 *   <li>no service restarted or died (the same processes), each still answers ready, and every stage's consumer group
 *       has consumed its input to the end (no stage stuck on a poison record);</li>
 *   <li>a valid series sent afterwards gets exactly one report in the EHR.</li>
 * </ul>
 * It prints one JSON line with the counts per mutation and outcome and the dead-letter topics' sizes.
 */
class MalformedInputScenarioIT {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private static final List<String> FOLDERS = List.of("ge-ct", "ge-mr", "philips-mr", "siemens-mr", "uih-mr", "transfer-syntaxes");
    private static final List<String> SERVICES = List.of("broker", "ingest", "streams", "inference", "retrain", "ehr", "fhir-bridge");
    private static final int DIMSE_MUTANTS = 600;
    private static final int STOW_MUTANTS = 420;

    @Test
    void malformedInstancesAreRefusedOrStoredOnceAndNothingFalls() throws Exception {
        Path vendors = PipelineRun.sharedData("dicom-vendors");
        Path lgg = PipelineRun.sharedData("lgg-flair");
        Path work = Files.createTempDirectory("malformed");
        PipelineRun run = new PipelineRun(work.resolve("stack"));
        run.env.put("SOURCE_MODEL", PipelineRun.sourceModel().toString());
        run.env.put("STREAMS_ASSEMBLY_INACTIVITY", "4s");
        List<InstanceMutator.Seed> seeds = InstanceMutator.seeds(vendors, FOLDERS, 3);
        assertTrue(seeds.size() >= 12, "seeds from the vendor files: " + seeds.size());
        InstanceMutator mutator = new InstanceMutator(20261206L);
        InstanceMutator.Kind[] kinds = InstanceMutator.Kind.values();
        Map<InstanceMutator.Kind, Map<String, Integer>> tally = new EnumMap<>(InstanceMutator.Kind.class);
        List<String> stored = new ArrayList<>(); // SOP Instance UIDs answered "stored", one entry per answer
        List<String> problems = new ArrayList<>();
        try {
            PipelineRun.Result up = run.run(8, "up");
            assertEquals(0, up.exit(), "./pipeline up:\n" + PipelineRun.tail(up.stderr()));
            assertBrokerRefusesPlaintext(run);
            Map<String, Long> pidsBefore = pids(run);

            // --- C-STORE: associations of 50 mutants each, every (SOP class, transfer syntax) they use proposed ---
            List<InstanceMutator.Mutant> dimse = new ArrayList<>();
            for (int i = 0; i < DIMSE_MUTANTS; i++) {
                dimse.add(mutator.mutate(i, kinds[i % kinds.length], seeds.get((i / kinds.length) % seeds.size())));
            }
            long t0 = System.nanoTime();
            for (int from = 0; from < dimse.size(); from += 50) {
                List<InstanceMutator.Mutant> batch = dimse.subList(from, Math.min(dimse.size(), from + 50));
                Set<StoreScu.Context> contexts = new LinkedHashSet<>();
                for (InstanceMutator.Mutant m : batch) contexts.add(new StoreScu.Context(m.sopClassUid(), m.transferSyntaxUid()));
                try (StoreScu scu = StoreScu.open("127.0.0.1", run.port("INGEST_DICOM_PORT"), "INGEST", "PIPELINE_SEND",
                        new ArrayList<>(contexts), Duration.ofSeconds(60))) {
                    for (InstanceMutator.Mutant m : batch) {
                        StoreScu.Context c = new StoreScu.Context(m.sopClassUid(), m.transferSyntaxUid());
                        if (!scu.accepts(c)) {
                            count(tally, m.kind(), "context_not_accepted");
                            continue;
                        }
                        StoreScu.Response r = scu.store(c, m.requestSopUid(), m.dataset(), 0);
                        boolean ok = r.success() || r.warning();
                        count(tally, m.kind(), ok ? "stored" : String.format("status_%04X", r.status()));
                        if (ok) stored.add(m.requestSopUid());
                        expect(m, ok, "C-STORE status " + Integer.toHexString(r.status()), problems);
                    }
                } catch (StoreScu.AssociationException e) {
                    problems.add("association of mutants " + from + "-" + (from + batch.size() - 1) + " failed: " + e.getMessage());
                }
            }
            double dimseSeconds = (System.nanoTime() - t0) / 1e9;

            // --- STOW-RS: one Part-10 file per request, then multi-part requests and framing attacks ---
            String token = run.run(2, "token", "scanner").lastLine();
            URI stow = URI.create("http://127.0.0.1:" + run.port("INGEST_HTTP_PORT") + "/dicomweb/studies");
            Map<Integer, Integer> httpStatuses = new TreeMap<>();
            t0 = System.nanoTime();
            for (int i = DIMSE_MUTANTS; i < DIMSE_MUTANTS + STOW_MUTANTS; i++) {
                InstanceMutator.Mutant m = mutator.mutate(i, kinds[i % kinds.length], seeds.get((i / kinds.length) % seeds.size()));
                HttpResponse<String> r = post(stow, token, multipart("b" + i, List.of(part10(m))), null);
                httpStatuses.merge(r.statusCode(), 1, Integer::sum);
                List<String> referenced = referenced(r);
                count(tally, m.kind(), referenced.isEmpty() ? "http_" + r.statusCode() : "stored");
                stored.addAll(referenced);
                if (r.statusCode() >= 500) problems.add(m.label() + " by STOW: " + r.statusCode() + " " + r.body());
                expect(m, !referenced.isEmpty(), "STOW-RS " + r.statusCode() + " " + r.body(), problems);
            }
            // multi-part requests: an intact instance between two mutants; all three answered in one response
            for (int i = 0; i < 10; i++) {
                int base = 2000 + 3 * i;
                List<byte[]> parts = new ArrayList<>();
                for (int j = 0; j < 3; j++) {
                    InstanceMutator.Kind k = j == 1 ? InstanceMutator.Kind.INTACT : kinds[(base + j) % kinds.length];
                    parts.add(part10(mutator.mutate(base + j, k, seeds.get((base + j) % seeds.size()))));
                }
                HttpResponse<String> r = post(stow, token, multipart("m" + i, parts), null);
                httpStatuses.merge(r.statusCode(), 1, Integer::sum);
                List<String> referenced = referenced(r);
                stored.addAll(referenced);
                if (r.statusCode() >= 500 || referenced.isEmpty()) problems.add("multi-part request " + i + ": " + r.statusCode() + " " + r.body());
            }
            // framing: a body cut before its closing delimiter, a part that is not DICOM, a gzip bomb
            for (int i = 0; i < 5; i++) {
                byte[] body = multipart("t" + i, List.of(part10(mutator.mutate(3000 + i, InstanceMutator.Kind.INTACT, seeds.get(i)))));
                HttpResponse<String> r = post(stow, token, java.util.Arrays.copyOf(body, body.length - 30 - 97 * i), null);
                httpStatuses.merge(r.statusCode(), 1, Integer::sum);
                stored.addAll(referenced(r));
                if (r.statusCode() >= 500) problems.add("cut multipart body " + i + ": " + r.statusCode() + " " + r.body());
            }
            HttpResponse<String> notDicom = post(stow, token, multipart("n", List.of("not a DICOM file".getBytes(StandardCharsets.US_ASCII))), null);
            httpStatuses.merge(notDicom.statusCode(), 1, Integer::sum);
            if (notDicom.statusCode() / 100 != 4) problems.add("a non-DICOM part: " + notDicom.statusCode());
            HttpResponse<String> bomb = post(stow, token, gzipBomb(), "gzip");
            httpStatuses.merge(bomb.statusCode(), 1, Integer::sum);
            if (bomb.statusCode() != 413) problems.add("gzip bomb: " + bomb.statusCode() + " " + bomb.body());
            double stowSeconds = (System.nanoTime() - t0) / 1e9;

            // --- what reached Kafka: exactly the stored instances, once each ---
            KafkaClients cli = KafkaClients.of("127.0.0.1:" + run.port("KAFKA_PORT"), run.home.resolve("secrets/kafka/cli.properties"));
            Map<String, Integer> inKafka = new TreeMap<>();
            for (ConsumerRecord<String, InstanceReceived> rec : TopicReader.readToEnd(cli, JsonSerde.of(InstanceReceived.class), Topics.INSTANCES_RECEIVED)) {
                if (rec.value() != null) inKafka.merge(rec.value().sopInstanceUid(), 1, Integer::sum); // null: a sender-done marker
            }
            Map<String, Integer> answered = new TreeMap<>();
            for (String sop : stored) answered.merge(sop, 1, Integer::sum);
            answered.forEach((sop, n) -> {
                if (n != 1) problems.add(sop + " answered stored " + n + " times (fresh UIDs: each is sent once)");
                if (inKafka.getOrDefault(sop, 0) != 1) problems.add(sop + " answered stored but in Kafka " + inKafka.getOrDefault(sop, 0) + " times");
            });
            inKafka.keySet().stream().filter(sop -> !answered.containsKey(sop)).forEach(sop -> problems.add(sop + " is in Kafka but was refused"));

            // --- nothing fell over and nothing is stuck ---
            Duration drain = Duration.ofMinutes(4);
            TopicReader.awaitConsumed(cli, "imaging-streams", drain, Topics.INSTANCES_RECEIVED);
            TopicReader.awaitConsumed(cli, "inference", drain, Topics.SERIES_READY);
            TopicReader.awaitConsumed(cli, "fhir-bridge", drain, Topics.SEGMENTATION_RESULTS);
            Map<String, Long> pidsAfter = pids(run);
            for (String s : SERVICES) {
                if (!pidsBefore.get(s).equals(pidsAfter.get(s))) problems.add(s + " restarted: pid " + pidsBefore.get(s) + " -> " + pidsAfter.get(s));
                if (!ProcessHandle.of(pidsAfter.get(s)).map(ProcessHandle::isAlive).orElse(false)) problems.add(s + " is not running");
            }
            for (String port : List.of("INGEST_HTTP_PORT", "STREAMS_HTTP_PORT", "INFERENCE_HTTP_PORT", "RETRAIN_HTTP_PORT", "FHIR_BRIDGE_HTTP_PORT")) {
                HttpResponse<String> h = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + run.port(port) + "/q/health/ready"))
                        .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
                if (h.statusCode() != 200) problems.add(port + " not ready after the flood: " + h.statusCode() + " " + h.body());
            }
            Map<String, Integer> deadLetters = new TreeMap<>();
            for (String dlq : Topics.DEAD_LETTER_TOPICS) deadLetters.put(dlq, TopicReader.readToEnd(cli, dlq).size());

            // --- and it still works: one valid series, one report ---
            Set<String> before = run.reportsBySeries().keySet();
            String[] patient = firstPatient(lgg, "DU");
            PipelineRun.Result sent = run.run(5, "send", "--data", lgg.toString(), "--sites", patient[0], "--include-patients", patient[1]);
            assertEquals(0, sent.exit(), "a valid series after the flood:\n" + PipelineRun.tail(sent.stderr()));
            Map<String, List<String>> fresh = Map.of();
            long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
            while (fresh.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(2000);
                Map<String, List<String>> now = new LinkedHashMap<>(run.reportsBySeries());
                now.keySet().removeAll(before);
                // A flood series whose assembly timer fired after the drain check may still be reported now: not ours.
                now.keySet().removeAll(mutator.seriesUids());
                fresh = now;
            }
            if (fresh.size() != 1 || fresh.values().iterator().next().size() != 1) {
                problems.add("the valid series sent after the flood: reports " + fresh);
            } else {
                // ... which a viewer opens from the EHR by the report's own URLs (WADO-RS, QIDO-RS; issue 18).
                problems.addAll(ReportImages.check(run, fresh.values().iterator().next().get(0), work));
            }

            int total = tally.values().stream().mapToInt(m -> m.values().stream().mapToInt(Integer::intValue).sum()).sum();
            System.out.println("malformed-input: " + EventJson.mapper().writeValueAsString(Map.of(
                    "instances", total, "dimse_seconds", Math.round(dimseSeconds * 10) / 10.0, "stow_seconds", Math.round(stowSeconds * 10) / 10.0,
                    "stored", stored.size(), "in_kafka", inKafka.size(), "by_mutation", tally, "stow_http_statuses", httpStatuses,
                    "dead_letters", deadLetters, "problems", problems.size())));
            assertTrue(total >= 1000, "at least 1000 malformed or control instances: " + total);
            assertTrue(problems.isEmpty(), problems.size() + " problems:\n" + String.join("\n", problems.subList(0, Math.min(40, problems.size()))));
        } finally {
            PipelineRun.Result down = run.run(3, "down");
            System.out.println(down.stderr());
        }
    }

    /**
     * What must happen to a mutant, whichever path it took: intact controls are stored; a request or file meta naming
     * another instance than the dataset, a UID with letters, and a native image whose Rows x Columns claim exceeds its
     * pixel data are refused (an encapsulated image's decoded size is not known before decoding: the stages check it).
     */
    private static void expect(InstanceMutator.Mutant m, boolean stored, String answer, List<String> problems) {
        boolean nativePixels = m.seed().meta().transferSyntaxUid().equals(InstanceMutator.IMPLICIT_LE)
                || m.seed().meta().transferSyntaxUid().equals(InstanceMutator.EXPLICIT_LE);
        switch (m.kind()) {
            case INTACT -> {
                if (!stored) problems.add(m.label() + ": intact control refused: " + answer);
            }
            case UID_MISMATCH, BAD_UID -> {
                if (stored) problems.add(m.label() + ": stored: " + answer);
            }
            case HUGE_MATRIX -> {
                if (stored && nativePixels) problems.add(m.label() + ": a native image claiming 30000 x 30000 was stored: " + answer);
            }
            default -> {
            }
        }
    }

    private static void count(Map<InstanceMutator.Kind, Map<String, Integer>> tally, InstanceMutator.Kind kind, String outcome) {
        tally.computeIfAbsent(kind, k -> new TreeMap<>()).merge(outcome, 1, Integer::sum);
    }

    private static Map<String, Long> pids(PipelineRun run) throws IOException {
        Map<String, Long> out = new TreeMap<>();
        for (String s : SERVICES) {
            Path f = run.home.resolve("pids").resolve(s + ".pid");
            assertTrue(Files.isRegularFile(f), "no pid file for " + s);
            out.put(s, Long.parseLong(Files.readString(f).strip()));
        }
        return out;
    }

    /** The mutant as a Part-10 file, its meta naming the request's SOP Instance UID and transfer syntax. */
    private static byte[] part10(InstanceMutator.Mutant m) {
        byte[] header = Part10.header(m.sopClassUid(), m.requestSopUid(), m.transferSyntaxUid(), "FUZZ");
        byte[] out = java.util.Arrays.copyOf(header, header.length + m.dataset().length);
        System.arraycopy(m.dataset(), 0, out, header.length, m.dataset().length);
        return out;
    }

    private static byte[] multipart(String boundary, List<byte[]> parts) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.write(("--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            b.write(p);
            b.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        b.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        return b.toByteArray();
    }

    /** A multipart body whose one part inflates to 1 GiB of zeros: about 1 MiB on the wire. */
    private static byte[] gzipBomb() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(b, 1 << 16)) {
            gz.write("--z\r\nContent-Type: application/dicom\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 1024; i++) gz.write(zeros);
        }
        return b.toByteArray();
    }

    private static HttpResponse<String> post(URI uri, String token, byte[] body, String encoding) throws Exception {
        String boundary = boundaryOf(body, encoding);
        HttpRequest.Builder rq = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "multipart/related; type=\"application/dicom\"; boundary=" + boundary)
                .header("Accept", "application/dicom+json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (encoding != null) rq.header("Content-Encoding", encoding);
        return HTTP.send(rq.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String boundaryOf(byte[] body, String encoding) {
        if (encoding != null) return "z";
        String head = new String(body, 0, Math.min(body.length, 40), StandardCharsets.US_ASCII);
        return head.substring(2, head.indexOf("\r\n"));
    }

    /** The SOP Instance UIDs a STOW-RS response lists as stored (ReferencedSOPSequence). */
    private static List<String> referenced(HttpResponse<String> r) throws IOException {
        List<String> out = new ArrayList<>();
        if (!r.headers().firstValue("Content-Type").orElse("").contains("json")) return out;
        JsonNode answer = EventJson.mapper().readTree(r.body());
        for (JsonNode item : answer.path("00081199").path("Value")) out.add(item.path("00081155").path("Value").path(0).asText());
        return out;
    }

    private static String[] firstPatient(Path data, String site) throws IOException {
        try (Stream<Path> s = Files.list(data.resolve(site))) {
            return new String[] {site, s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().findFirst().orElseThrow()};
        }
    }

    /** Security on by default (issue 19): the stack's Kafka answers no client without credentials. */
    private static void assertBrokerRefusesPlaintext(PipelineRun run) {
        KafkaClients plain = KafkaClients.of("127.0.0.1:" + run.port("KAFKA_PORT"));
        try (Admin admin = plain.admin(Map.of(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000",
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "6000"))) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.listTopics().names().get(20, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException, "plaintext gets no answer: " + e.getCause());
        }
    }
}
