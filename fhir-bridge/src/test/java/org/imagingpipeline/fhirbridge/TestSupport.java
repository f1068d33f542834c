package org.imagingpipeline.fhirbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import ca.uhn.fhir.context.FhirContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.Provenance;
import org.hl7.fhir.r4.model.Resource;
import org.imagingpipeline.fhirbridge.ehr.EhrServer;

/** Shared, expensive parts of the tests (one FhirContext and one validator per test JVM) and shared assertions. */
final class TestSupport {
    private TestSupport() {
    }

    static final FhirContext CTX = FhirContext.forR4Cached();
    private static BundleValidator validator;

    static synchronized BundleValidator validator() {
        if (validator == null) validator = new BundleValidator(CTX);
        return validator;
    }

    static EhrServer startEhr() throws Exception {
        return new EhrServer("127.0.0.1", freePort()).start();
    }

    static ResultProcessor processor(EhrServer ehr, SimpleMeterRegistry registry) {
        EhrClient client = new EhrClient(CTX, ehr.baseUrl(), Duration.ofSeconds(10), Duration.ofSeconds(60),
                AuthProvider.none());
        return new ResultProcessor(new ResultMapper(MappingOptions.defaults()), validator(), client,
                new BridgeMetrics(registry));
    }

    static List<Resource> all(EhrServer ehr, String type) {
        return ehr.store().search(type, r -> true);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * A superseding report's Provenance names both models: the new one ({@code newDevice}) as its author, the superseded
     * report as an entity of role revision attributed to the model that made it ({@code oldDevice}).
     */
    static void assertProvenanceNamesBothModels(Provenance prov, DiagnosticReport old, String oldDevice, String newDevice) {
        Provenance.ProvenanceEntityComponent revised = prov.getEntity().stream()
                .filter(e -> e.getRole() == Provenance.ProvenanceEntityRole.REVISION).findFirst().orElseThrow();
        assertEquals("DiagnosticReport/" + old.getIdElement().getIdPart(), revised.getWhat().getReference());
        assertNotEquals(oldDevice, newDevice);
        assertEquals(newDevice, prov.getAgentFirstRep().getWho().getReference());
        assertEquals(oldDevice, revised.getAgentFirstRep().getWho().getReference(), "the superseded report's model");
    }
}
