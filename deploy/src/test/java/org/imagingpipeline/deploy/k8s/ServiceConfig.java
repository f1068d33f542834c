package org.imagingpipeline.deploy.k8s;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The configuration a Quarkus service container runs with: its module's packaged application.properties
 * (MODULE/src/main/resources, where it exists yet) overlaid with the ConfigMap mounted at
 * WORKDIR/config/application.properties, ${...} expanded. Quoted map keys (a."b.c") lose their quotes.
 * Environment variables named in ${...} must be set on the container; their values stay as "${env:NAME}".
 */
final class ServiceConfig {
    static final String IMAGE_PREFIX = "imaging-pipeline/";
    private static final Pattern REF = Pattern.compile("\\$\\{([^}:]+)(?::([^}]*))?}");

    final String module;
    final Map<String, String> values;

    private ServiceConfig(String module, Map<String, String> values) {
        this.module = module;
        this.values = values;
    }

    String get(String key) {
        return values.get(key);
    }

    /** Values of the keys ending with the suffix (client properties under any prefix). */
    List<String> endingWith(String suffix) {
        return values.entrySet().stream().filter(e -> e.getKey().endsWith(suffix)).map(Map.Entry::getValue).toList();
    }

    static boolean isService(Container c) {
        return c.getImage() != null && c.getImage().startsWith(IMAGE_PREFIX);
    }

    /** The module an image is built from: imaging-pipeline/MODULE[-cuda]:TAG. */
    static String module(Container c) {
        String repo = c.getImage().substring(IMAGE_PREFIX.length()).split(":")[0];
        return repo.endsWith("-cuda") ? repo.substring(0, repo.length() - "-cuda".length()) : repo;
    }

    /** The container's configuration, or empty (with the reason in problems) when no config ConfigMap is mounted. */
    static Optional<ServiceConfig> of(Manifests m, Deployment d, Container c, List<String> problems) {
        String where = "Deployment " + d.getMetadata().getName() + " container " + c.getName();
        String dir = (c.getWorkingDir() == null ? "" : c.getWorkingDir()) + "/config";
        Optional<VolumeMount> mount = c.getVolumeMounts().stream().filter(vm -> vm.getMountPath().equals(dir)).findFirst();
        if (mount.isEmpty()) {
            problems.add(where + ": no ConfigMap mounted at " + dir + " (Quarkus reads WORKDIR/config/application.properties)");
            return Optional.empty();
        }
        Optional<String> cmName = d.getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals(mount.get().getName()) && v.getConfigMap() != null)
                .map(Volume::getConfigMap).map(cm -> cm.getName()).findFirst();
        Optional<ConfigMap> cm = cmName.flatMap(m::configMap);
        if (cm.isEmpty() || cm.get().getData() == null || !cm.get().getData().containsKey("application.properties")) {
            problems.add(where + ": the volume at " + dir + " is not a ConfigMap of these manifests with key application.properties");
            return Optional.empty();
        }
        String module = module(c);
        Map<String, String> raw = new LinkedHashMap<>();
        Path packaged = m.repoRoot.resolve(module).resolve("src/main/resources/application.properties");
        if (Files.isRegularFile(packaged)) raw.putAll(load(packaged));
        raw.putAll(load(new StringReader(cm.get().getData().get("application.properties"))));
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar e : c.getEnv()) env.put(e.getName(), "${env:" + e.getName() + "}");
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : raw.entrySet()) {
            out.put(e.getKey(), expand(e.getValue(), raw, env, where + " key " + e.getKey(), problems, 0));
        }
        return Optional.of(new ServiceConfig(module, out));
    }

    private static String expand(String value, Map<String, String> raw, Map<String, String> env, String where,
                                 List<String> problems, int depth) {
        if (depth > 10) {
            problems.add(where + ": ${...} nests too deep");
            return value;
        }
        Matcher mt = REF.matcher(value);
        StringBuilder sb = new StringBuilder();
        while (mt.find()) {
            String key = mt.group(1);
            String v = raw.containsKey(key) ? expand(raw.get(key), raw, env, where, problems, depth + 1)
                    : env.containsKey(key) ? env.get(key) : mt.group(2);
            if (v == null) {
                problems.add(where + ": ${" + key + "} is neither a property nor an environment variable of the container");
                v = mt.group();
            }
            mt.appendReplacement(sb, Matcher.quoteReplacement(v));
        }
        mt.appendTail(sb);
        return sb.toString();
    }

    private static Map<String, String> load(Path p) {
        try (Reader r = Files.newBufferedReader(p)) {
            return load(r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, String> load(Reader r) {
        Properties p = new Properties();
        try {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String k : p.stringPropertyNames()) out.put(k.replace("\"", ""), p.getProperty(k).trim());
        return out;
    }
}
