package org.imagingpipeline.ingest.dicomweb;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.imagingpipeline.ingest.stow.MultipartRelated;

/**
 * What a WADO-RS Accept header allows for {@code multipart/related; type="application/dicom"}: any transfer syntax
 * (no Accept, {@code *}{@code /*}, {@code multipart/*}, no transfer-syntax parameter or {@code transfer-syntax=*}),
 * only the listed ones, or nothing.
 *
 * @param any    every stored transfer syntax is acceptable
 * @param listed the transfer syntaxes named when not {@code any}; empty with {@code any} false: not acceptable
 */
record AcceptedSyntaxes(boolean any, Set<String> listed) {

    static AcceptedSyntaxes parse(String accept) {
        if (accept == null || accept.isBlank()) return new AcceptedSyntaxes(true, Set.of());
        Set<String> listed = new LinkedHashSet<>();
        for (String range : accept.split(",")) {
            Map<String, String> p = MultipartRelated.parameters(range);
            if ("0".equals(p.get("q")) || "0.0".equals(p.get("q"))) continue;
            String media = p.get("");
            if (media.equals("*/*") || media.equals("multipart/*")) return new AcceptedSyntaxes(true, Set.of());
            if (!media.equals("multipart/related")) continue;
            String type = p.getOrDefault("type", "application/dicom").toLowerCase(Locale.ROOT);
            if (!type.equals("application/dicom")) continue;
            String ts = p.get("transfer-syntax");
            if (ts == null || ts.equals("*")) return new AcceptedSyntaxes(true, Set.of());
            listed.add(ts.trim());
        }
        return new AcceptedSyntaxes(false, listed);
    }

    boolean acceptable() {
        return any || !listed.isEmpty();
    }

    boolean allows(String transferSyntaxUid) {
        return any || listed.contains(transferSyntaxUid);
    }
}
