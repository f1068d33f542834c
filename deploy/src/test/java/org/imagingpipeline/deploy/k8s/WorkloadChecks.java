package org.imagingpipeline.deploy.k8s;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapKeySelector;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/** Deployments, their Services, PodDisruptionBudgets, volumes, config and secret references, probes and ports. */
final class WorkloadChecks {
    /** The user the images run as (deploy/docker/Dockerfile.jvm: USER 185). */
    static final long IMAGE_USER = 185;

    private WorkloadChecks() {
    }

    static List<String> check(Manifests m) {
        List<String> problems = new ArrayList<>();
        Map<String, Set<String>> secrets = m.secrets();
        Map<String, Integer> claimsUsedBy = new HashMap<>();
        for (Deployment d : m.deployments()) {
            String dn = "Deployment " + d.getMetadata().getName();
            PodSpec pod = d.getSpec().getTemplate().getSpec();
            Map<String, String> podLabels = d.getSpec().getTemplate().getMetadata().getLabels();
            if (d.getSpec().getSelector() == null || d.getSpec().getSelector().getMatchLabels() == null
                    || !Manifests.selects(d.getSpec().getSelector(), podLabels)) {
                problems.add(dn + ": selector does not match its pod template's labels");
            }
            if (pod.getSecurityContext() == null || !Boolean.TRUE.equals(pod.getSecurityContext().getRunAsNonRoot())) {
                problems.add(dn + ": pod securityContext.runAsNonRoot is not true");
            }
            Map<String, Volume> volumes = new HashMap<>();
            for (Volume v : pod.getVolumes()) {
                volumes.put(v.getName(), v);
                checkVolume(m, dn, v, secrets, problems);
                if (v.getPersistentVolumeClaim() != null) claimsUsedBy.merge(v.getPersistentVolumeClaim().getClaimName(), 1, Integer::sum);
            }
            for (Container c : pod.getContainers()) {
                String cn = dn + " container " + c.getName();
                for (VolumeMount vm : c.getVolumeMounts()) {
                    if (!volumes.containsKey(vm.getName())) problems.add(cn + ": mounts volume '" + vm.getName() + "', which the pod lacks");
                }
                for (EnvVar e : c.getEnv()) checkEnv(m, cn, e, secrets, problems);
                checkProbe(cn, "liveness", c.getLivenessProbe(), c, problems);
                checkProbe(cn, "readiness", c.getReadinessProbe(), c, problems);
                checkProbe(cn, "startup", c.getStartupProbe(), c, problems);
                checkContainerSecurity(cn, c, pod, problems);
                if (ServiceConfig.isService(c)) checkService(m, d, c, problems);
            }
            List<Service> services = m.typed("Service", Service.class).stream()
                    .filter(s -> s.getSpec().getSelector() != null && Manifests.selects(s.getSpec().getSelector(), podLabels)).toList();
            if (services.isEmpty()) problems.add(dn + ": no Service selects its pods");
            long pdbs = m.typed("PodDisruptionBudget", PodDisruptionBudget.class).stream()
                    .filter(p -> Manifests.selects(p.getSpec().getSelector(), podLabels)).count();
            if (pdbs != 1) problems.add(dn + ": " + pdbs + " PodDisruptionBudgets select its pods (want 1)");
        }
        checkSourceModelRegistrar(m, problems);
        for (Service s : m.typed("Service", Service.class)) checkServicePorts(m, s, problems);
        for (PodDisruptionBudget p : m.typed("PodDisruptionBudget", PodDisruptionBudget.class)) {
            boolean any = m.deployments().stream().anyMatch(d ->
                    Manifests.selects(p.getSpec().getSelector(), d.getSpec().getTemplate().getMetadata().getLabels()));
            if (!any) problems.add("PodDisruptionBudget " + p.getMetadata().getName() + ": selects no Deployment's pods");
        }
        claimsUsedBy.forEach((claim, users) -> m.find("PersistentVolumeClaim", claim)
                .map(o -> m.as(o, PersistentVolumeClaim.class))
                .filter(pvc -> users > 1 && !pvc.getSpec().getAccessModes().contains("ReadWriteMany"))
                .ifPresent(pvc -> problems.add("PersistentVolumeClaim " + claim + ": mounted by " + users
                        + " Deployments but not ReadWriteMany")));
        return problems;
    }

    /**
     * One writer registers the source model, and with retrain deployed it is retrain: it signs the record, and its
     * registry view (like inference's) refuses inference's unsigned self-registration, so jobs would find no parent.
     */
    private static void checkSourceModelRegistrar(Manifests m, List<String> problems) {
        Map<String, String> registrars = new java.util.TreeMap<>();
        for (Deployment d : m.deployments()) {
            for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
                if (!ServiceConfig.isService(c)) continue;
                ServiceConfig.of(m, d, c, new ArrayList<>()).ifPresent(cfg -> {
                    String key = cfg.module + ".source-model";
                    if (!blank(cfg.get(key))) registrars.put(cfg.module, key + "=" + cfg.get(key));
                });
            }
        }
        boolean retrainDeployed = m.find("Deployment", "retrain").isPresent();
        if (registrars.size() > 1) problems.add("the source model is registered by " + registrars.values() + " (want one writer)");
        if (retrainDeployed && !registrars.containsKey("retrain")) {
            problems.add("retrain is deployed but does not register the source model (retrain.source-model)"
                    + (registrars.containsKey("inference") ? "; inference's unsigned registration is refused by retrain's registry view" : ""));
        }
    }

    private static void checkVolume(Manifests m, String dn, Volume v, Map<String, Set<String>> secrets, List<String> problems) {
        if (v.getConfigMap() != null && !Boolean.TRUE.equals(v.getConfigMap().getOptional())
                && m.configMap(v.getConfigMap().getName()).isEmpty()) {
            problems.add(dn + ": volume " + v.getName() + " needs ConfigMap " + v.getConfigMap().getName() + ", which does not exist");
        }
        if (v.getSecret() != null && !Boolean.TRUE.equals(v.getSecret().getOptional())
                && !secrets.containsKey(v.getSecret().getSecretName())) {
            problems.add(dn + ": volume " + v.getName() + " needs Secret " + v.getSecret().getSecretName() + ", which nothing creates");
        }
        if (v.getPersistentVolumeClaim() != null && m.find("PersistentVolumeClaim", v.getPersistentVolumeClaim().getClaimName()).isEmpty()) {
            problems.add(dn + ": volume " + v.getName() + " claims PersistentVolumeClaim "
                    + v.getPersistentVolumeClaim().getClaimName() + ", which does not exist");
        }
    }

    private static void checkEnv(Manifests m, String cn, EnvVar e, Map<String, Set<String>> secrets, List<String> problems) {
        if (e.getValueFrom() == null) return;
        ConfigMapKeySelector cmRef = e.getValueFrom().getConfigMapKeyRef();
        if (cmRef != null && !Boolean.TRUE.equals(cmRef.getOptional())) {
            Optional<ConfigMap> cm = m.configMap(cmRef.getName());
            if (cm.isEmpty() || cm.get().getData() == null || !cm.get().getData().containsKey(cmRef.getKey())) {
                problems.add(cn + ": env " + e.getName() + " needs key " + cmRef.getKey() + " of ConfigMap " + cmRef.getName() + ", which is missing");
            }
        }
        SecretKeySelector sRef = e.getValueFrom().getSecretKeyRef();
        if (sRef != null && !Boolean.TRUE.equals(sRef.getOptional())) {
            Set<String> keys = secrets.get(sRef.getName());
            if (keys == null || !keys.contains(sRef.getKey())) {
                problems.add(cn + ": env " + e.getName() + " needs key " + sRef.getKey() + " of Secret " + sRef.getName() + ", which nothing creates");
            }
        }
    }

    private static void checkProbe(String cn, String kind, Probe p, Container c, List<String> problems) {
        if (p == null) return;
        IntOrString port = p.getHttpGet() != null ? p.getHttpGet().getPort() : p.getTcpSocket() != null ? p.getTcpSocket().getPort() : null;
        if (port == null) {
            problems.add(cn + ": " + kind + " probe is neither httpGet nor tcpSocket");
        } else if (!declares(c, port)) {
            problems.add(cn + ": " + kind + " probe port " + show(port) + " is not a port of the container");
        }
    }

    private static void checkContainerSecurity(String cn, Container c, PodSpec pod, List<String> problems) {
        var sc = c.getSecurityContext();
        if (sc == null || !Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation()) || !Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem())
                || sc.getCapabilities() == null || !sc.getCapabilities().getDrop().contains("ALL")) {
            problems.add(cn + ": securityContext must set allowPrivilegeEscalation false, readOnlyRootFilesystem true, drop ALL");
        }
        var res = c.getResources();
        if (res == null || res.getRequests() == null || !res.getRequests().containsKey("cpu") || !res.getRequests().containsKey("memory")
                || res.getLimits() == null || !res.getLimits().containsKey("memory")) {
            problems.add(cn + ": resources need cpu and memory requests and a memory limit");
        }
        Long user = sc != null && sc.getRunAsUser() != null ? sc.getRunAsUser()
                : pod.getSecurityContext() == null ? null : pod.getSecurityContext().getRunAsUser();
        if (ServiceConfig.isService(c) && !Objects.equals(user, IMAGE_USER)) {
            problems.add(cn + ": runs as user " + user + ", the image's user is " + IMAGE_USER);
        }
    }

    /** A pipeline service: image from a module, Quarkus health probes, listens on all interfaces at its ports. */
    private static void checkService(Manifests m, Deployment d, Container c, List<String> problems) {
        String cn = "Deployment " + d.getMetadata().getName() + " container " + c.getName();
        String module = ServiceConfig.module(c);
        if (!Files.isRegularFile(m.repoRoot.resolve(module).resolve("pom.xml"))) {
            problems.add(cn + ": image " + c.getImage() + " names no module of the build (" + module + "/pom.xml)");
        }
        if (c.getLivenessProbe() == null || c.getLivenessProbe().getHttpGet() == null
                || !"/q/health/live".equals(c.getLivenessProbe().getHttpGet().getPath())) {
            problems.add(cn + ": liveness probe must GET /q/health/live");
        }
        if (c.getReadinessProbe() == null || c.getReadinessProbe().getHttpGet() == null
                || !"/q/health/ready".equals(c.getReadinessProbe().getHttpGet().getPath())) {
            problems.add(cn + ": readiness probe must GET /q/health/ready");
        }
        ServiceConfig.of(m, d, c, problems).ifPresent(cfg -> {
            if (!"0.0.0.0".equals(cfg.get("quarkus.http.host"))) {
                problems.add(cn + ": quarkus.http.host is " + cfg.get("quarkus.http.host") + "; probes and Services need 0.0.0.0");
            }
            expectPort(cn, c, "http", cfg.get("quarkus.http.port"), "quarkus.http.port", problems);
            for (Map.Entry<String, Boolean> f : KEY_FILES.entrySet()) checkKeyFile(m, d, c, cfg, cn, f.getKey(), f.getValue(), problems);
            if (cfg.get("streams.application-server") != null) checkAdvertisedAddress(c, cn, cfg, problems);
            if (cfg.get("ingest.dicom.port") != null) {
                expectPort(cn, c, "dicom", cfg.get("ingest.dicom.port"), "ingest.dicom.port", problems);
                if (!"0.0.0.0".equals(cfg.get("ingest.dicom.bind-address"))) problems.add(cn + ": ingest.dicom.bind-address is not 0.0.0.0");
                checkDicomTls(d, c, cfg, cn, problems);
            }
        });
    }

    /**
     * Native DICOM TLS on: its port is the container's 'dicom-tls', it listens on all interfaces, and its certificate, key
     * and trust store are keys of a mounted site Secret. Off: the plain port needs an allow-list (ingest refuses to start).
     */
    private static void checkDicomTls(Deployment d, Container c, ServiceConfig cfg, String cn, List<String> problems) {
        if ("false".equals(cfg.get("ingest.dicom.tls.enabled"))) {
            if (blank(cfg.get("ingest.dicom.allowed-calling-aets")) && blank(cfg.get("ingest.dicom.allowed-sources"))) {
                problems.add(cn + ": DICOM on 0.0.0.0 without TLS needs ingest.dicom.allowed-calling-aets or allowed-sources (ingest refuses to start)");
            }
            return;
        }
        expectPort(cn, c, "dicom-tls", cfg.get("ingest.dicom.tls.port"), "ingest.dicom.tls.port", problems);
        if (!"0.0.0.0".equals(cfg.get("ingest.dicom.tls.bind-address"))) problems.add(cn + ": ingest.dicom.tls.bind-address is not 0.0.0.0");
        for (String key : List.of("ingest.dicom.tls.certificate", "ingest.dicom.tls.private-key", "ingest.dicom.tls.trust-store")) {
            String f = cfg.get(key);
            Optional<VolumeMount> vm = f == null ? Optional.empty() : mountOf(c, f);
            Optional<Volume> v = vm.flatMap(x -> volumeOf(d, x));
            if (v.isEmpty() || v.get().getSecret() == null || !Manifests.SITE_SECRETS.containsKey(v.get().getSecret().getSecretName())) {
                problems.add(cn + ": " + key + " " + f + " is not in a mounted site Secret " + Manifests.SITE_SECRETS.keySet());
                continue;
            }
            String secretKey = f.substring(vm.get().getMountPath().length() + 1);
            if (!Manifests.SITE_SECRETS.get(v.get().getSecret().getSecretName()).contains(secretKey)) {
                problems.add(cn + ": " + key + " " + f + ": Secret " + v.get().getSecret().getSecretName() + " has no key " + secretKey);
            }
        }
    }

    /**
     * streams replicas route domain queries by {@code application.server}: each pod must advertise its own address (the
     * downward API's pod IP) at its http port; the packaged default 127.0.0.1 would make every replica but one answer 503.
     */
    private static void checkAdvertisedAddress(Container c, String cn, ServiceConfig cfg, List<String> problems) {
        Optional<EnvVar> server = c.getEnv().stream().filter(e -> e.getName().equals("STREAMS_APPLICATION_SERVER")).findFirst();
        Optional<EnvVar> podIp = c.getEnv().stream().filter(e -> e.getName().equals("POD_IP")).findFirst();
        String port = cfg.get("quarkus.http.port");
        boolean ipFromPod = podIp.isPresent() && podIp.get().getValueFrom() != null && podIp.get().getValueFrom().getFieldRef() != null
                && "status.podIP".equals(podIp.get().getValueFrom().getFieldRef().getFieldPath());
        if (server.isEmpty() || !ipFromPod || !("$(POD_IP):" + port).equals(server.get().getValue())) {
            problems.add(cn + ": STREAMS_APPLICATION_SERVER must be $(POD_IP):" + port + " with POD_IP from fieldRef status.podIP"
                    + " (replicas advertise their own address for routed queries)");
        }
    }

    /**
     * Properties that name key files (comma-separated lists allowed), and whether they hold a private key. Each file a
     * service's configuration names must be a key of a mounted Secret (a public key may also come from a ConfigMap): the
     * state volume is an emptyDir, so a key expected there would be missing (every token refused) or made afresh on
     * each start (a new signing key that inference does not trust). An http(s) URL (an OIDC provider's JWKS) is fine.
     */
    static final Map<String, Boolean> KEY_FILES = Map.of(
            "mp.jwt.verify.publickey.location", false,
            "inference.model-signing.public-keys", false,
            "retrain.model-signing.private-key", true,
            "bridge.fhir.auth.private-key", true);

    private static void checkKeyFile(Manifests m, Deployment d, Container c, ServiceConfig cfg, String cn, String key, boolean privateKey,
                                     List<String> problems) {
        String value = cfg.get(key);
        if (blank(value)) return;
        Map<String, Set<String>> secrets = m.secrets();
        for (String f : value.split(",")) {
            String file = f.trim();
            if (file.isEmpty() || file.startsWith("https://") || file.startsWith("http://")) continue;
            Optional<VolumeMount> vm = mountOf(c, file);
            Optional<Volume> v = vm.flatMap(x -> volumeOf(d, x));
            boolean fromSecret = v.isPresent() && v.get().getSecret() != null;
            boolean fromConfigMap = v.isPresent() && v.get().getConfigMap() != null;
            if (!fromSecret && !(fromConfigMap && !privateKey)) {
                problems.add(cn + ": " + key + " " + file + " is not in a mounted " + (privateKey ? "Secret" : "Secret or ConfigMap"));
                continue;
            }
            String path = file.substring(vm.get().getMountPath().length() + 1);
            List<KeyToPath> items = fromSecret ? v.get().getSecret().getItems() : v.get().getConfigMap().getItems();
            String sourceKey = path;
            if (items != null && !items.isEmpty()) {
                sourceKey = items.stream().filter(i -> path.equals(i.getPath())).map(KeyToPath::getKey).findFirst().orElse(null);
                if (sourceKey == null) {
                    problems.add(cn + ": " + key + " " + file + ": the volume's items do not project " + path);
                    continue;
                }
            }
            if (fromSecret) {
                Set<String> keys = secrets.get(v.get().getSecret().getSecretName());
                if (keys != null && !keys.contains(sourceKey)) {
                    problems.add(cn + ": " + key + " " + file + ": Secret " + v.get().getSecret().getSecretName() + " has no key " + sourceKey);
                }
            }
        }
    }

    /** The container's mount that holds {@code file}. */
    private static Optional<VolumeMount> mountOf(Container c, String file) {
        return c.getVolumeMounts().stream().filter(x -> file.startsWith(x.getMountPath() + "/")).findFirst();
    }

    /** The pod volume a mount names. */
    private static Optional<Volume> volumeOf(Deployment d, VolumeMount vm) {
        return d.getSpec().getTemplate().getSpec().getVolumes().stream().filter(y -> y.getName().equals(vm.getName())).findFirst();
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    private static void expectPort(String cn, Container c, String portName, String configured, String key, List<String> problems) {
        Optional<Integer> declared = c.getPorts().stream().filter(p -> portName.equals(p.getName())).map(ContainerPort::getContainerPort).findFirst();
        if (declared.isEmpty() || !declared.get().toString().equals(configured)) {
            problems.add(cn + ": " + key + "=" + configured + " but container port '" + portName + "' is " + declared.orElse(null));
        }
    }

    private static void checkServicePorts(Manifests m, Service s, List<String> problems) {
        String sn = "Service " + s.getMetadata().getName();
        if (s.getSpec().getSelector() == null || s.getSpec().getSelector().isEmpty()) {
            problems.add(sn + ": has no selector");
            return;
        }
        List<Deployment> targets = m.deployments().stream()
                .filter(d -> Manifests.selects(s.getSpec().getSelector(), d.getSpec().getTemplate().getMetadata().getLabels())).toList();
        if (targets.isEmpty()) {
            problems.add(sn + ": selector " + s.getSpec().getSelector() + " matches no Deployment's pods");
            return;
        }
        for (ServicePort p : s.getSpec().getPorts()) {
            IntOrString target = p.getTargetPort() != null ? p.getTargetPort() : new IntOrString(p.getPort());
            for (Deployment d : targets) {
                boolean found = d.getSpec().getTemplate().getSpec().getContainers().stream().anyMatch(c -> declares(c, target));
                if (!found) {
                    problems.add(sn + ": port " + p.getName() + " targets " + show(target) + ", which no container of Deployment "
                            + d.getMetadata().getName() + " declares");
                }
            }
        }
    }

    static boolean declares(Container c, IntOrString port) {
        return c.getPorts().stream().anyMatch(p -> port.getStrVal() != null ? port.getStrVal().equals(p.getName())
                : port.getIntVal().equals(p.getContainerPort()));
    }

    static String show(IntOrString p) {
        return p.getStrVal() != null ? "'" + p.getStrVal() + "'" : String.valueOf(p.getIntVal());
    }
}
