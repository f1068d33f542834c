package org.imagingpipeline.streams;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.imagingpipeline.events.EventJson;

/**
 * The patients the current model was trained on, as (institution, PatientID) pairs: their series register their
 * domain as KNOWN and become its reference. Two sources, either or both:
 * <ul>
 * <li>a reference file: one {@code INSTITUTION,PATIENTID} per line, {@code #} comments;</li>
 * <li>the model card beside the source model ({@code training.sites}, {@code training.validation_patients}) with the
 *     training data folder ({@code SITE/PATIENT/...}): the training patients are each site's patient folders minus the
 *     validation patients.</li>
 * </ul>
 * Institutions are compared normalised as in the header fingerprint (case, punctuation), PatientIDs exactly.
 */
public final class ReferencePatients {
    public static final ReferencePatients NONE = new ReferencePatients(Set.of());
    private final Set<String> keys;

    private ReferencePatients(Set<String> keys) {
        this.keys = Set.copyOf(keys);
    }

    public static ReferencePatients of(Set<String> institutionPatientPairs) {
        Set<String> k = new HashSet<>();
        for (String p : institutionPatientPairs) {
            String[] x = p.split(",", 2);
            if (x.length != 2 || x[1].isBlank()) throw new IllegalArgumentException("reference patient must be INSTITUTION,PATIENTID, got '" + p + "'");
            k.add(key(x[0], x[1].trim()));
        }
        return new ReferencePatients(k);
    }

    /** Loads the file and/or card+data (null or blank = not used). */
    public static ReferencePatients load(String file, String modelCard, String trainingData) throws IOException {
        Set<String> pairs = new TreeSet<>();
        if (file != null && !file.isBlank()) {
            for (String line : Files.readAllLines(Path.of(file), StandardCharsets.UTF_8)) {
                String t = line.strip();
                if (!t.isEmpty() && !t.startsWith("#")) pairs.add(t);
            }
        }
        if (modelCard != null && !modelCard.isBlank()) {
            if (trainingData == null || trainingData.isBlank()) throw new IllegalArgumentException("a model card needs the training data folder too");
            pairs.addAll(fromCard(Path.of(modelCard), Path.of(trainingData)));
        }
        return of(pairs);
    }

    /** INSTITUTION,PATIENTID of the card's training patients: its sites' patient folders minus its validation patients. */
    public static Set<String> fromCard(Path card, Path data) throws IOException {
        JsonNode training = EventJson.mapper().readTree(card.toFile()).path("training");
        if (!training.path("sites").isArray()) throw new IllegalArgumentException(card + " has no training.sites");
        Set<String> validation = new HashSet<>();
        training.path("validation_patients").forEach(v -> validation.add(v.asText()));
        Set<String> out = new TreeSet<>();
        for (JsonNode s : training.path("sites")) {
            Path siteDir = data.resolve(s.asText());
            if (!Files.isDirectory(siteDir)) throw new IllegalArgumentException("training site folder " + siteDir + " does not exist");
            try (Stream<Path> dirs = Files.list(siteDir)) {
                for (Path d : dirs.filter(Files::isDirectory).sorted().toList()) {
                    String id = d.getFileName().toString();
                    if (!validation.contains(id)) out.add(s.asText() + "," + id);
                }
            }
        }
        return out;
    }

    public boolean contains(String institution, String patientId) {
        return patientId != null && keys.contains(key(institution, patientId));
    }

    public int size() {
        return keys.size();
    }

    /** A hash of institution and PatientID (no identifier leaves the extractor). */
    public static String patientKey(String institution, String patientId) {
        if (patientId == null) return null;
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(key(institution, patientId).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String key(String institution, String patientId) {
        return DomainFingerprint.norm(institution) + "|" + patientId;
    }
}
