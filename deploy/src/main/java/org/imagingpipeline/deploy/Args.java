package org.imagingpipeline.deploy;

import java.util.LinkedHashMap;
import java.util.Map;

/** Minimal {@code --name value} / {@code --flag} parser for the command-line tools of this module. */
public final class Args {
    private Args() {
    }

    public static Map<String, String> parse(String[] args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) throw new IllegalArgumentException("unexpected argument '" + a + "'");
            String name = a.substring(2);
            int eq = name.indexOf('=');
            if (eq >= 0) {
                m.put(name.substring(0, eq), name.substring(eq + 1));
            } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                m.put(name, args[++i]);
            } else {
                m.put(name, "true");
            }
        }
        return m;
    }

    public static String required(Map<String, String> m, String name) {
        String v = m.get(name);
        if (v == null || v.isBlank() || v.equals("true")) throw new IllegalArgumentException("--" + name + " is required");
        return v;
    }
}
