package org.imagingpipeline.retrain.service.registry;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.events.ModelVersion.Status;

/**
 * The promotion decision and its records. A candidate is promoted only when the adapt command's gate passed; a
 * failed gate, or no gate at all, rejects it (every promotion must be earned with evidence). Records, in order:
 * CANDIDATE (history), then either PROMOTED (history, then routing: the domain is served by it) or REJECTED
 * (history only; routing unchanged). Rollback: ROLLED_BACK (history of the version taken off, then routing back to
 * the previously promoted version of the domain, or to the default model).
 */
public final class Promotion {
    /** What the adapt command produced, as the registry needs it. */
    public record Candidate(String domainId, String version, String name, String uri, String sha256, String method,
                            String parentSha256, String seriesHash, int seriesCount, Map<String, Object> gate, String jobId) {
    }

    /** The decision and the records that carry it. */
    public record Decision(boolean promoted, String text, List<RegistryRecords.Keyed> records) {
    }

    /** A rollback: the version taken off, what serves now (null = default model), the records. */
    public record Rollback(ModelVersion rolledBack, ModelVersion.Serving nowServing, List<RegistryRecords.Keyed> records) {
    }

    private Promotion() {
    }

    public static Decision decide(Candidate c, Instant at) {
        return decide(c, null, at);
    }

    /**
     * The decision on a candidate of {@code auto} that was not chosen: REJECTED whatever its gate said (when it passed,
     * the chosen method's candidate scored higher), so that every evaluated model is on record with its evidence.
     */
    public static Decision notChosen(Candidate c, String chosenMethod, Instant at) {
        return decide(c, chosenMethod == null ? "no candidate passed the gate" : "auto chose " + chosenMethod, at);
    }

    private static Decision decide(Candidate c, String notChosenBecause, Instant at) {
        boolean gatePassed = c.gate() != null && Boolean.TRUE.equals(c.gate().get("passed"));
        boolean passed = gatePassed && notChosenBecause == null;
        List<String> reasons = c.gate() != null && c.gate().get("reasons") instanceof List<?> l
                ? l.stream().map(String::valueOf).toList() : List.of();
        String text;
        if (c.gate() == null) text = "rejected: the adapt command evaluated no gate, so there is no evidence to promote on";
        else if (passed) text = "promoted: gate passed" + (reasons.isEmpty() ? "" : " (" + String.join("; ", reasons) + ")");
        else if (gatePassed) text = "rejected: gate passed but not chosen (" + notChosenBecause + ")";
        else text = "rejected: gate failed" + (reasons.isEmpty() ? "" : ": " + String.join("; ", reasons))
                    + (notChosenBecause == null ? "" : " (" + notChosenBecause + ")");
        Map<String, Object> evidence = evidence(c, text);
        RegistryRecords.Keyed candidateRecord = RegistryRecords.candidate(c.domainId(), c.version(), c.name(), c.uri(),
                c.sha256(), c.method(), c.parentSha256(), c.seriesHash(), c.seriesCount(), evidence, at);
        ModelVersion candidate = candidateRecord.value();
        List<RegistryRecords.Keyed> records = new ArrayList<>();
        records.add(candidateRecord);
        if (passed) {
            RegistryRecords.Keyed promoted = RegistryRecords.history(candidate, Status.PROMOTED, evidence, at);
            records.add(promoted);
            records.add(RegistryRecords.promotedRouting(promoted.value(), at));
        } else {
            records.add(RegistryRecords.history(candidate, Status.REJECTED, evidence, at));
        }
        return new Decision(passed, text, records);
    }

    /**
     * The rollback of the domain's serving version, or empty when the domain is served by the default model (nothing
     * of its own to roll back).
     */
    public static Optional<Rollback> rollback(RegistryView view, String domainId, String reason, Instant at) {
        Optional<ModelVersion> routing = view.routing(domainId).filter(r -> r.serving() != null);
        if (routing.isEmpty()) return Optional.empty();
        ModelVersion.Serving current = routing.get().serving();
        ModelVersion taken = view.version(domainId, current.version()).orElse(routing.get());
        Optional<ModelVersion> previous = view.previousPromoted(domainId, current.version());
        ModelVersion.Serving now = previous.map(p -> new ModelVersion.Serving(p.version(), p.uri(), p.sha256())).orElse(null);
        Map<String, Object> evidence = new LinkedHashMap<>(taken.evidence() == null ? Map.of() : taken.evidence());
        evidence.put("decision", "rolled back: " + reason + "; now serving "
                + (now == null ? "the default model" : now.version()));
        List<RegistryRecords.Keyed> records = List.of(RegistryRecords.history(taken, Status.ROLLED_BACK, evidence, at),
                RegistryRecords.rolledBackRouting(taken, now, evidence, at));
        return Optional.of(new Rollback(taken, now, records));
    }

    private static Map<String, Object> evidence(Candidate c, String decision) {
        Map<String, Object> e = new LinkedHashMap<>();
        if (c.gate() != null) {
            c.gate().forEach((k, v) -> e.put(k.equals("passed") ? "gate_passed" : k, v));
        }
        e.put("job", c.jobId());
        e.put("decision", decision);
        return e;
    }
}
