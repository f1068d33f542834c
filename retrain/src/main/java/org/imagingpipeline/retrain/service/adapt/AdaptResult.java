package org.imagingpipeline.retrain.service.adapt;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.imagingpipeline.events.EventJson;

/**
 * The adapt command's result: the JSON object on the last line of its stdout, kept whole ({@link #json}) for the job
 * and read for the fields the service acts on.
 *
 * @param gate the gate object, null when the command evaluated none
 * @param chosenMethod with {@code --method auto}: the method whose candidate passed the gate; null when none passed
 *                     (then there is no model: {@link #nothingChosen()})
 */
public record AdaptResult(Map<String, Object> json, String model, String sha256, String parentSha256, Map<String, Object> gate,
                          String chosenMethod) {
    private static final ObjectMapper JSON = EventJson.mapper();

    /** Parses the line; a line that is not the contract's object is an {@link IOException} with the reason. */
    public static AdaptResult parse(String line) throws IOException {
        if (line == null || line.isBlank()) throw new IOException("adapt printed no result line on stdout");
        Map<String, Object> m;
        try {
            m = JSON.readValue(line, new TypeReference<Map<String, Object>>() {
            });
        } catch (IOException e) {
            throw new IOException("adapt's last stdout line is not a JSON object: " + abbreviate(line), e);
        }
        String model = string(m, "model");
        String sha = string(m, "sha256");
        Object gate = m.get("gate");
        if (gate != null && !(gate instanceof Map)) throw new IOException("adapt's gate is not an object: " + abbreviate(line));
        @SuppressWarnings("unchecked")
        Map<String, Object> g = (Map<String, Object>) gate;
        boolean auto = m.containsKey("chosen_method");
        String chosen = string(m, "chosen_method");
        if (auto && chosen == null) {
            if (model != null) throw new IOException("adapt chose no method but names a model: " + abbreviate(line));
            return new AdaptResult(m, null, null, string(m, "parent_sha256"), g, null);
        }
        if (model == null || sha == null || !sha.matches("[0-9a-f]{64}")) {
            throw new IOException("adapt's result lacks model or a sha256: " + abbreviate(line));
        }
        return new AdaptResult(m, model, sha, string(m, "parent_sha256"), g, chosen);
    }

    /**
     * An {@code auto} candidate that is not the chosen model but was kept on disk ({@code --keep-candidates}), with its
     * gate verdict: the registry records it as REJECTED with that evidence.
     *
     * @param model  its file as the command named it (relative paths against the command's directory)
     * @param passed whether the gate passed it (then another candidate that passed scored higher)
     */
    public record KeptCandidate(String method, String model, String sha256, boolean passed, Map<String, Object> gate) {
    }

    /** The kept candidates that were not chosen; candidates without a kept file or a gate are left out. */
    @SuppressWarnings("unchecked")
    public List<KeptCandidate> keptCandidates() {
        if (!(json.get("candidates") instanceof List<?> list)) return List.of();
        List<KeptCandidate> kept = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> m)) continue;
            Map<String, Object> c = (Map<String, Object>) m;
            String file = string(c, "model");
            String sha = string(c, "sha256");
            String method = string(c, "method");
            if (file == null || sha == null || !sha.matches("[0-9a-f]{64}") || method == null || !(c.get("gate") instanceof Map<?, ?> g)) {
                continue;
            }
            if (sha.equals(sha256)) continue; // the chosen model itself
            kept.add(new KeptCandidate(method, file, sha, Boolean.TRUE.equals(c.get("passed")), (Map<String, Object>) g));
        }
        return kept;
    }

    /** {@code auto} ran and no candidate passed the gate: no model was written, the parent keeps serving. */
    public boolean nothingChosen() {
        return json.containsKey("chosen_method") && chosenMethod == null;
    }

    /** The method of the model produced: the chosen one for {@code auto}, else the one asked for. */
    public String methodOr(String requested) {
        return chosenMethod != null ? chosenMethod : requested;
    }

    /** True only when a gate was evaluated and passed. */
    public boolean gatePassed() {
        return gate != null && Boolean.TRUE.equals(gate.get("passed"));
    }

    /** The gate's reasons (why it failed, or notes), empty when none. */
    public List<String> gateReasons() {
        Object r = gate == null ? null : gate.get("reasons");
        return r instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of();
    }

    private static String string(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v == null ? null : v.toString();
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }
}
