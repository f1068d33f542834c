package org.imagingpipeline.streams;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.imagingpipeline.events.InstanceHeader;

/**
 * The header part of a series' acquisition domain: who scanned it (manufacturer, model, software, field
 * strength, institution, station), how (modality, normalised protocol, sequence, TR/TE/TI/flip bins,
 * pixel-spacing and thickness bins) and whether lossy compression touched the pixel values. Values are normalised so
 * that spelling noise (case, spaces, punctuation, trailing version digits) does not make a new domain, and
 * binned so that a repeat of the same protocol lands in the same bin. {@link #domainId()} is stable: the same
 * fields always give the same id.
 *
 * <p>The image part (intensity statistics) and the drift decisions built on both are the streams issue's
 * remaining work.
 */
public record DomainFingerprint(String manufacturer, String model, String softwareMajor, String fieldStrength, String institution,
                                String station, String modality, String protocol, String sequence, String trBin, String teBin,
                                String tiBin, String flipBin, String spacingBin, String thicknessBin, String encoding) {

    public static DomainFingerprint of(InstanceHeader h, String transferSyntaxUid) {
        return new DomainFingerprint(
                norm(h.manufacturer()), norm(h.manufacturerModelName()), softwareMajor(h.softwareVersions()),
                h.magneticFieldStrength() == null ? "?" : String.format(Locale.ROOT, "%.1fT", Math.round(h.magneticFieldStrength() * 2) / 2.0),
                norm(h.institutionName()), norm(h.stationName()), norm(h.modality()),
                protocol(h.protocolName() != null ? h.protocolName() : h.seriesDescription()), norm(h.scanningSequence()),
                logBin(h.repetitionTime()), logBin(h.echoTime()), logBin(h.inversionTime()), linearBin(h.flipAngle(), 10),
                h.pixelSpacing() == null || h.pixelSpacing().length == 0 ? "?" : linearBin(h.pixelSpacing()[0], 0.25),
                linearBin(h.sliceThickness(), 0.5), encoding(transferSyntaxUid));
    }

    /** "dom-" + 12 hex digits of the SHA-256 of the canonical field list. */
    public String domainId() {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(canonical().getBytes(StandardCharsets.UTF_8));
            return "dom-" + HexFormat.of().formatHex(d, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The fields as shown to people (GET /domains fingerprint object). */
    public Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("manufacturer", manufacturer);
        m.put("model", model);
        m.put("software", softwareMajor);
        m.put("fieldStrength", fieldStrength);
        m.put("institution", institution);
        m.put("station", station);
        m.put("modality", modality);
        m.put("protocol", protocol);
        m.put("sequence", sequence);
        m.put("tr", trBin);
        m.put("te", teBin);
        m.put("ti", tiBin);
        m.put("flip", flipBin);
        m.put("pixelSpacing", spacingBin);
        m.put("thickness", thicknessBin);
        m.put("encoding", encoding);
        return m;
    }

    String canonical() {
        StringBuilder sb = new StringBuilder();
        asMap().forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        return sb.toString();
    }

    static String norm(String s) {
        if (s == null) return "?";
        String n = s.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9.]+", " ").trim().replaceAll(" +", " ");
        return n.isEmpty() ? "?" : n;
    }

    /** Protocol names carry counters and dates ("T2 FLAIR AX 3", "t2_flair_ax_2019"): keep the words. */
    static String protocol(String s) {
        String n = norm(s).replaceAll("\\b\\d+\\b", " ").trim().replaceAll(" +", " ");
        return n.isEmpty() ? "?" : n;
    }

    static String softwareMajor(String s) {
        if (s == null) return "?";
        String first = s.split("\\\\")[0];
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([A-Za-z ]*)(\\d+)").matcher(first);
        return m.find() ? norm(m.group(1) + m.group(2)) : norm(first);
    }

    /** Bins of about 10% width on a log scale (TR 9000 and 9050 share one; 2000 and 9000 do not). */
    static String logBin(Double v) {
        if (v == null || v <= 0) return "?";
        return "L" + Math.round(Math.log(v) / Math.log(1.1));
    }

    static String linearBin(Double v, double width) {
        if (v == null) return "?";
        return String.format(Locale.ROOT, "%.2f", Math.round(v / width) * width);
    }

    /** exact (uncompressed or lossless: same pixel values) or lossy (compression changed intensities). */
    static String encoding(String ts) {
        if (ts == null) return "?";
        return switch (ts) {
            case "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.91",
                 "1.2.840.10008.1.2.4.203" -> "lossy";
            default -> "exact";
        };
    }
}
