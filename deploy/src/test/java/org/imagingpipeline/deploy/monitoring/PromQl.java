package org.imagingpipeline.deploy.monitoring;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The series names a PromQL expression reads. Not a parser: strings, label matchers, range and subquery brackets,
 * grouping clauses and offsets are removed, then every identifier that is not a function call or a keyword is a
 * series name. promtool (MonitoringRulesTest) checks that the expressions parse; this only lists what they read.
 */
final class PromQl {
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "by", "without", "on", "ignoring",
            "group_left", "group_right", "offset", "inf", "nan", "atan2");
    private static final Pattern IDENT = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

    private PromQl() {
    }

    static Set<String> seriesNames(String expr) {
        String s = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
                .replaceAll("'(?:[^'\\\\]|\\\\.)*'", "''")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^]]*]", " ")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")
                .replaceAll("\\boffset\\s+[0-9a-z]+", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = IDENT.matcher(s);
        while (m.find()) {
            String id = m.group();
            if (m.start() > 0 && Character.isDigit(s.charAt(m.start() - 1))) continue; // the "e3" of 1e3, the "m" of 5m
            if (KEYWORDS.contains(id)) continue;
            if (s.substring(m.end()).matches("(?s)\\s*\\(.*")) continue; // a function or an aggregation
            names.add(id);
        }
        return names;
    }
}
