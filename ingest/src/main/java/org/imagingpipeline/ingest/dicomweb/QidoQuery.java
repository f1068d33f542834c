package org.imagingpipeline.ingest.dicomweb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.regex.Pattern;

/**
 * A QIDO-RS search (PS3.18 10.6) parsed from its query parameters: matching keys given by keyword or tag
 * ({@code StudyInstanceUID} or {@code 0020000D}), {@code limit}, {@code offset}; {@code includefield} and
 * {@code fuzzymatching=false} are accepted (every attribute the index holds is returned anyway). Matching follows PS3.4
 * C.2.2.2: UID lists (comma or backslash separated), single values with {@code *} and {@code ?} wildcards, and date
 * ranges ({@code 20240101-20241231}, {@code -20241231}, {@code 20240101-}). A key the level does not support is an
 * {@link IllegalArgumentException} (the resource answers 400 with its message).
 */
public final class QidoQuery {
    /** The level searched: which keys apply and what one result is. */
    public enum Level { STUDY, SERIES, INSTANCE }

    /** The matching keys: keyword, tag, and the lowest level that accepts it. */
    enum Key {
        StudyInstanceUID("0020000D", Level.STUDY),
        PatientID("00100020", Level.STUDY),
        AccessionNumber("00080050", Level.STUDY),
        StudyDate("00080020", Level.STUDY),
        ModalitiesInStudy("00080061", Level.STUDY),
        Modality("00080060", Level.SERIES),
        SeriesInstanceUID("0020000E", Level.SERIES),
        SOPInstanceUID("00080018", Level.INSTANCE),
        SOPClassUID("00080016", Level.INSTANCE);

        final String tag;
        final Level level;

        Key(String tag, Level level) {
            this.tag = tag;
            this.level = level;
        }

        static Key find(String name) {
            for (Key k : values()) {
                if (k.name().equals(name) || k.tag.equalsIgnoreCase(name)) return k;
            }
            return null;
        }
    }

    private static final Set<String> CONTROL = Set.of("limit", "offset", "includefield", "fuzzymatching");
    private static final Pattern DATE = Pattern.compile("[0-9]{8}");

    private final Level level;
    private final Map<Key, String> matches;
    private final int limit;
    private final int offset;

    private QidoQuery(Level level, Map<Key, String> matches, int limit, int offset) {
        this.level = level;
        this.matches = matches;
        this.limit = limit;
        this.offset = offset;
    }

    /**
     * Parses the query parameters of a search at {@code level}; {@code maxResults} caps {@code limit} (and is the
     * limit when none is given).
     */
    public static QidoQuery parse(Level level, Map<String, List<String>> parameters, int maxResults) {
        Map<Key, String> matches = new LinkedHashMap<>();
        int limit = maxResults;
        int offset = 0;
        for (Map.Entry<String, List<String>> e : parameters.entrySet()) {
            String name = e.getKey();
            String value = e.getValue() == null || e.getValue().isEmpty() ? "" : String.join(",", e.getValue());
            if (CONTROL.contains(name)) {
                switch (name) {
                    case "limit" -> limit = Math.min(maxResults, nonNegative(name, value));
                    case "offset" -> offset = nonNegative(name, value);
                    case "fuzzymatching" -> {
                        if (!value.equalsIgnoreCase("false")) throw new IllegalArgumentException("fuzzymatching is not supported");
                    }
                    default -> { } // includefield: we return every attribute we hold
                }
                continue;
            }
            Key key = Key.find(name);
            if (key == null) {
                throw new IllegalArgumentException("unknown or unsupported query key '" + name + "'; supported: " + supported(level));
            }
            if (key.level.ordinal() > level.ordinal()) {
                throw new IllegalArgumentException("query key " + key.name() + " does not apply to a " + level.name().toLowerCase(Locale.ROOT)
                        + " search; supported: " + supported(level));
            }
            if (key == Key.StudyDate && !value.isEmpty() && !value.matches("[0-9]{8}|[0-9]{8}-|-[0-9]{8}|[0-9]{8}-[0-9]{8}")) {
                throw new IllegalArgumentException("StudyDate must be YYYYMMDD or a range YYYYMMDD-YYYYMMDD, got '" + value + "'");
            }
            if (!value.isEmpty()) matches.put(key, value);
        }
        return new QidoQuery(level, matches, limit, offset);
    }

    private static List<String> supported(Level level) {
        List<String> out = new ArrayList<>();
        for (Key k : Key.values()) if (k.level.ordinal() <= level.ordinal()) out.add(k.name());
        out.addAll(CONTROL);
        return out;
    }

    private static int nonNegative(String name, String value) {
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 0) return n;
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(name + " must be a non-negative integer, got '" + value + "'");
    }

    public Level level() {
        return level;
    }

    public int limit() {
        return limit;
    }

    public int offset() {
        return offset;
    }

    /** True when the study (its instances) matches every study-level key. */
    public boolean matchesStudy(List<IndexedInstance> study) {
        if (study.isEmpty()) return false;
        return matchesAll((key, v) -> switch (key) {
            case StudyInstanceUID -> uid(v, study.get(0).studyInstanceUid());
            case PatientID -> study.stream().anyMatch(i -> single(v, i.patientId()));
            case AccessionNumber -> study.stream().anyMatch(i -> single(v, i.accessionNumber()));
            case StudyDate -> study.stream().anyMatch(i -> date(v, i.studyDate()));
            case ModalitiesInStudy -> study.stream().anyMatch(i -> anySingle(v, i.modality()));
            default -> true;
        });
    }

    /** True when the series (its instances) matches every series-level key. */
    public boolean matchesSeries(List<IndexedInstance> series) {
        if (series.isEmpty()) return false;
        return matchesAll((key, v) -> switch (key) {
            case SeriesInstanceUID -> uid(v, series.get(0).seriesInstanceUid());
            case Modality -> series.stream().anyMatch(i -> anySingle(v, i.modality()));
            default -> true;
        });
    }

    /** True when the instance matches every instance-level key. */
    public boolean matchesInstance(IndexedInstance i) {
        return matchesAll((key, v) -> switch (key) {
            case SOPInstanceUID -> uid(v, i.sopInstanceUid());
            case SOPClassUID -> uid(v, i.sopClassUid());
            default -> true;
        });
    }

    /** Every key of the query passes the level's test (keys of other levels pass it). */
    private boolean matchesAll(BiPredicate<Key, String> test) {
        for (Map.Entry<Key, String> m : matches.entrySet()) {
            if (!test.test(m.getKey(), m.getValue())) return false;
        }
        return true;
    }

    /** UID list matching: one of the listed UIDs, exactly. */
    static boolean uid(String query, String value) {
        if (value == null) return false;
        return Arrays.stream(query.split("[,\\\\]")).map(String::trim).anyMatch(value::equals);
    }

    /** Single value matching with * and ? wildcards (case-sensitive, as PS3.4 says for these VRs). */
    static boolean single(String query, String value) {
        if (value == null) return false;
        if (query.indexOf('*') < 0 && query.indexOf('?') < 0) return query.equals(value.trim());
        StringBuilder re = new StringBuilder();
        for (char c : query.toCharArray()) {
            if (c == '*') re.append(".*");
            else if (c == '?') re.append('.');
            else re.append(Pattern.quote(String.valueOf(c)));
        }
        return value.trim().matches(re.toString());
    }

    /** Any of the comma- or backslash-separated values matches (Modality=MR,SEG). */
    static boolean anySingle(String query, String value) {
        return Arrays.stream(query.split("[,\\\\]")).map(String::trim).anyMatch(q -> single(q, value));
    }

    /** Date or date range matching on YYYYMMDD values (inclusive). */
    static boolean date(String query, String value) {
        if (value == null || !DATE.matcher(value.trim()).matches()) return false;
        String d = value.trim();
        int dash = query.indexOf('-');
        if (dash < 0) return query.equals(d);
        String from = query.substring(0, dash);
        String to = query.substring(dash + 1);
        return (from.isEmpty() || d.compareTo(from) >= 0) && (to.isEmpty() || d.compareTo(to) <= 0);
    }
}
