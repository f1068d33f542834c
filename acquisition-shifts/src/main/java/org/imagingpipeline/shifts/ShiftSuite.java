package org.imagingpipeline.shifts;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The pre-registered acquisition-shift suite ({@code shift-suite.tsv} beside this class): shifts of every family a
 * new scanner brings (contrast curves both ways, bias fields, resolution loss, noise, and combinations), each in the
 * {@link Half#TUNING} half (methods, scopes and thresholds are chosen there) or the {@link Half#REPORTING} half
 * (results are reported there). The split was fixed before any model was evaluated on it.
 */
public record ShiftSuite(List<Entry> entries) {

    public static final String RESOURCE = "shift-suite.tsv";

    public enum Half {
        TUNING, REPORTING;

        public static Half parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "tuning" -> TUNING;
                case "reporting" -> REPORTING;
                case "all" -> null;
                default -> throw new IllegalArgumentException("half must be tuning, reporting or all, got '" + s + "'");
            };
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One shift of the suite. */
    public record Entry(String id, String family, Half half, AcquisitionShift shift, String note) { }

    public ShiftSuite {
        entries = List.copyOf(entries);
    }

    /** The suite committed with this module. */
    public static ShiftSuite load() {
        try (InputStream in = ShiftSuite.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the classpath");
            }
            return parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ShiftSuite parse(BufferedReader r) throws IOException {
        List<Entry> out = new ArrayList<>();
        String line;
        int n = 0;
        while ((line = r.readLine()) != null) {
            n++;
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] c = line.split("\t", -1);
            if (c.length < 4) {
                throw new IllegalArgumentException(RESOURCE + " line " + n + ": expected id, family, half, spec[, note]");
            }
            AcquisitionShift shift = AcquisitionShift.parse(c[3]);
            out.add(new Entry(c[0].trim(), c[1].trim(), Half.parse(c[2]), shift, c.length > 4 ? c[4].trim() : ""));
        }
        return new ShiftSuite(out);
    }

    /** The entries of one half; {@code null} = all. */
    public List<Entry> half(Half half) {
        return entries.stream().filter(e -> half == null || e.half() == half).toList();
    }

    public Entry byId(String id) {
        return entries.stream().filter(e -> e.id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no shift '" + id + "' in the suite"));
    }
}
