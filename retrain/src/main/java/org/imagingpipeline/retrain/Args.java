package org.imagingpipeline.retrain;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Minimal {@code --key value} / {@code --flag} parser with clear errors. */
final class Args {
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flags = new HashSet<>();

    Args(String[] argv, Set<String> valueOptions, Set<String> flagOptions) {
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            String key = a;
            String inline = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                key = a.substring(0, eq);
                inline = a.substring(eq + 1);
            }
            if (flagOptions.contains(key) && inline == null) {
                flags.add(key);
            } else if (valueOptions.contains(key)) {
                String v = inline;
                if (v == null) {
                    if (i + 1 >= argv.length) {
                        throw new DataException("option " + key + " needs a value");
                    }
                    v = argv[++i];
                }
                values.put(key, v);
            } else {
                throw new DataException("unknown option '" + a + "'");
            }
        }
    }

    String required(String key) {
        String v = values.get(key);
        if (v == null || v.isBlank()) {
            throw new DataException("missing required option " + key);
        }
        return v;
    }

    String get(String key, String def) {
        return values.getOrDefault(key, def);
    }

    boolean flag(String key) {
        return flags.contains(key);
    }

    int intValue(String key, int def) {
        String v = values.get(key);
        try {
            return v == null ? def : Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new DataException("option " + key + " needs a whole number, got '" + v + "'");
        }
    }

    double doubleValue(String key, double def) {
        String v = values.get(key);
        try {
            return v == null ? def : Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new DataException("option " + key + " needs a number, got '" + v + "'");
        }
    }

    List<String> list(String key) {
        return List.of(required(key).split(",", -1)).stream().map(String::trim).toList();
    }
}
