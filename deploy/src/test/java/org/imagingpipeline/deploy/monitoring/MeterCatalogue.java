package org.imagingpipeline.deploy.monitoring;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The Prometheus series families the services can expose, read from the Micrometer registrations in every module's
 * main sources ({@code Counter.builder("a.b")}, {@code Timer.builder}, {@code Gauge.builder}, {@code registry.gauge("a.b", ...)}),
 * named as Micrometer's Prometheus naming convention does: dots to underscores, the base unit appended
 * ({@code _seconds} for timers), {@code _total} for counters, {@code _count}/{@code _sum}/{@code _max} for timers and
 * summaries. A name built at run time from a literal prefix ({@code "kafka.loop." + what}) admits every counter with
 * that prefix; a name held in a constant of the same file is resolved.
 */
final class MeterCatalogue {
    private static final Pattern BUILDER = Pattern.compile(
            "\\b(Counter|FunctionCounter|Timer|FunctionTimer|Gauge|DistributionSummary)\\.builder\\(\\s*(?:\"([^\"]+)\"|([A-Za-z_][A-Za-z0-9_]*))\\s*(\\+)?");
    private static final Pattern REGISTRY_SHORTCUT = Pattern.compile("\\.(gauge|counter|timer|summary)\\(\\s*\"([a-z][a-z0-9_.]*)\"");
    private static final Pattern BASE_UNIT = Pattern.compile("\\.baseUnit\\(\\s*(?:\"([^\"]+)\"|BaseUnits\\.([A-Z_]+))\\s*\\)");

    final Set<String> families = new TreeSet<>();
    final Set<String> counterPrefixes = new TreeSet<>();
    final List<String> sources = new ArrayList<>();

    static MeterCatalogue of(Path repo) {
        MeterCatalogue c = new MeterCatalogue();
        try (Stream<Path> modules = Files.list(repo)) {
            for (Path main : modules.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).toList()) {
                try (Stream<Path> files = Files.walk(main)) {
                    for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                        c.read(Files.readString(f), repo.relativize(f).toString());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return c;
    }

    void read(String source, String file) {
        Matcher m = BUILDER.matcher(source);
        while (m.find()) {
            String type = m.group(1);
            String name = m.group(2) != null ? m.group(2) : constant(source, m.group(3));
            if (name == null) {
                throw new IllegalStateException(file + ": meter name " + m.group(3) + " is neither a literal nor a constant of the file");
            }
            String statement = source.substring(m.start(), statementEnd(source, m.start()));
            Matcher unit = BASE_UNIT.matcher(statement);
            String baseUnit = unit.find() ? (unit.group(1) != null ? unit.group(1) : unit.group(2).toLowerCase()) : null;
            if (m.group(4) != null) {
                if (!type.endsWith("Counter")) throw new IllegalStateException(file + ": computed name of a " + type);
                counterPrefixes.add(prometheus(name));
            } else {
                add(type, name, baseUnit);
            }
            sources.add(file + ": " + type + " " + name);
        }
        Matcher s = REGISTRY_SHORTCUT.matcher(source);
        while (s.find()) {
            String type = switch (s.group(1)) {
                case "gauge" -> "Gauge";
                case "counter" -> "Counter";
                case "timer" -> "Timer";
                default -> "DistributionSummary";
            };
            add(type, s.group(2), null);
            sources.add(file + ": " + type + " " + s.group(2));
        }
    }

    /** Whether a series family named in a PromQL expression is one the services export. */
    boolean exports(String family) {
        if (families.contains(family)) return true;
        return family.endsWith("_total") && counterPrefixes.stream().anyMatch(family::startsWith);
    }

    private void add(String type, String name, String baseUnit) {
        String base = prometheus(name) + (baseUnit == null ? "" : "_" + baseUnit);
        switch (type) {
            case "Counter", "FunctionCounter" -> families.add(base + "_total");
            case "Timer", "FunctionTimer" -> {
                String b = prometheus(name) + "_seconds";
                families.addAll(List.of(b, b + "_count", b + "_sum", b + "_max", b + "_bucket"));
            }
            case "DistributionSummary" -> families.addAll(List.of(base, base + "_count", base + "_sum", base + "_max", base + "_bucket"));
            default -> families.add(base);
        }
    }

    private static String prometheus(String micrometerName) {
        return micrometerName.replace('.', '_').replace('-', '_');
    }

    private static String constant(String source, String identifier) {
        Matcher m = Pattern.compile("String\\s+" + Pattern.quote(identifier) + "\\s*=\\s*\"([^\"]+)\"").matcher(source);
        return m.find() ? m.group(1) : null;
    }

    private static int statementEnd(String source, int from) {
        int end = source.indexOf(';', from);
        return end < 0 ? source.length() : end;
    }
}
